// bun:sqlite conformance, errors: SQLiteError (instanceof, name, code, errno,
// byteOffset) for syntax errors, missing tables and each constraint, and what
// a closed database throws.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it } from "bun:test";
import { same, type Face } from "./faces";

/** The observable shape of what `fn` throws. */
function caught(face: Face, fn: () => unknown) {
  try {
    fn();
    return "no error";
  } catch (error: any) {
    return {
      isSQLiteError: error instanceof face.SQLiteError,
      isError: error instanceof Error,
      name: error.name,
      code: error.code,
      errno: error.errno,
      byteOffset: error.byteOffset,
      message: error.message,
      own: ["code", "errno", "byteOffset"].filter((key) => Object.prototype.hasOwnProperty.call(error, key)),
    };
  }
}

const sqlite = (code: string, errno: number, byteOffset: number, message: string) => ({
  isSQLiteError: true, isError: true, name: "SQLiteError", code, errno, byteOffset, message, own: ["code", "errno", "byteOffset"],
});

describe("SQLiteError", () => {
  it("should carry the byte offset of a syntax error, from prepare and from db.run", () => {
    same((face) => {
      const db = new face.Database();
      return [caught(face, () => db.query("SELECT * FRM t")), caught(face, () => db.run("SELECT 1;\nSELEC 2"))];
    }, {
      value: [
        sqlite("SQLITE_ERROR", 1, 9, 'near "FRM": syntax error'),
        sqlite("SQLITE_ERROR", 1, 10, 'near "SELEC": syntax error'),
      ],
    });
  });

  it("should give byteOffset -1 when SQLite has none", () => {
    same((face) => caught(face, () => new face.Database().query("SELECT * FROM nope")), {
      value: sqlite("SQLITE_ERROR", 1, -1, "no such table: nope"),
    });
  });

  it("should name each constraint by its extended code", () => {
    same((face) => {
      const db = new face.Database();
      db.run("PRAGMA foreign_keys = ON");
      db.run("CREATE TABLE p(id INTEGER PRIMARY KEY)");
      db.run("CREATE TABLE c(u UNIQUE, n NOT NULL DEFAULT 0, k CHECK (k > 0), p REFERENCES p(id))");
      db.run("INSERT INTO c(u, k) VALUES (1, 1)");
      return [
        caught(face, () => db.run("INSERT INTO c(u, k) VALUES (1, 1)")),
        caught(face, () => db.run("INSERT INTO c(u, n, k) VALUES (2, NULL, 1)")),
        caught(face, () => db.run("INSERT INTO c(u, k) VALUES (3, -1)")),
        caught(face, () => db.run("INSERT INTO c(u, k, p) VALUES (4, 1, 5)")),
      ];
    }, {
      value: [
        sqlite("SQLITE_CONSTRAINT_UNIQUE", 2067, -1, "UNIQUE constraint failed: c.u"),
        sqlite("SQLITE_CONSTRAINT_NOTNULL", 1299, -1, "NOT NULL constraint failed: c.n"),
        sqlite("SQLITE_CONSTRAINT_CHECK", 275, -1, "CHECK constraint failed: k > 0"),
        sqlite("SQLITE_CONSTRAINT_FOREIGNKEY", 787, -1, "FOREIGN KEY constraint failed"),
      ],
    });
  });
});

describe("a closed database", () => {
  it("should throw for queries on the database, and for its statements", () => {
    same((face) => {
      const db = new face.Database();
      const stmt = db.query("SELECT 1 AS one");
      db.close();
      const kind = (fn: () => unknown) => {
        const seen = caught(face, fn);
        return seen === "no error" ? seen : { isError: seen.isError, isSQLiteError: seen.isSQLiteError };
      };
      return [kind(() => db.query("SELECT 2")), kind(() => db.prepare("SELECT 2")), kind(() => db.run("SELECT 2")), kind(() => stmt.all())];
    }, { value: Array(4).fill({ isError: true, isSQLiteError: false }) });
  });
});

describe("db.run() of a script with nothing to run", () => {
  it("should say the SQL is blank for \"\", and that it holds no statement for white space or comments", () => {
    same((face) => {
      const db = new face.Database();
      return ["", " ", "\n\t", "-- just a comment"].map((sql) => {
        try {
          db.run(sql);
          return "ran";
        } catch (error: any) {
          return [error instanceof Error, error.message];
        }
      });
    }, {
      value: [
        [true, "SQL string mustn't be blank"],
        [true, "Query contained no valid SQL statement; likely empty query."],
        [true, "Query contained no valid SQL statement; likely empty query."],
        [true, "Query contained no valid SQL statement; likely empty query."],
      ],
    });
  });
});
