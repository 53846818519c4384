// bun:sqlite conformance, the smaller members Bun apps and tools touch:
// isFinalized, toJSON()/JSON.stringify, reader/readonly, `using` on a statement,
// close(true), fileControl, column names that look like object internals.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it } from "bun:test";
import { same, type Face } from "./faces";

function fixture(face: Face) {
  const db = new face.Database();
  db.run("CREATE TABLE s(x, y)");
  db.run("INSERT INTO s VALUES (1, 'a'), (2, 'b')");
  return db;
}

describe("statement members", () => {
  it("should give isFinalized, and toJSON() as JSON.stringify uses it, with the last bound values", () => {
    same((face) => {
      const stmt = fixture(face).query("SELECT x, y FROM s WHERE x > ?");
      const before = [stmt.isFinalized, JSON.stringify(stmt)];
      stmt.get(1);
      const after = stmt.toJSON();
      stmt.finalize();
      return [...before, after, stmt.isFinalized];
    }, {
      value: [
        false,
        '{"sql":"SELECT x, y FROM s WHERE x > NULL","isFinalized":false,"paramsCount":1,"columnNames":["x","y"]}',
        { sql: "SELECT x, y FROM s WHERE x > 1", isFinalized: false, paramsCount: 1, columnNames: ["x", "y"] },
        true,
      ],
    });
  });

  it("should tell readers (statements that return rows and do not write) by reader and readonly", () => {
    same((face) => {
      const db = fixture(face);
      const select = db.query("SELECT x FROM s");
      const insert = db.query("INSERT INTO s VALUES (3, 'c')");
      return [select.reader, select.readonly, insert.reader, insert.readonly];
    }, { value: [true, true, false, false] });
  });

  it("should finalize a statement at the end of a `using` block", () => {
    same((face) => {
      const db = fixture(face);
      let kept: any;
      {
        using stmt = db.prepare("SELECT 1 AS a");
        kept = stmt;
        stmt.get();
      }
      try {
        kept.get();
        return "still usable";
      } catch (error) {
        return [error instanceof Error, kept.isFinalized];
      }
    }, { value: [true, true] });
  });
});

describe("database members", () => {
  it("should close with close(true) after statements ran", () => {
    same((face) => {
      const db = fixture(face);
      db.query("SELECT x FROM s").get();
      db.close(true);
      return "closed";
    }, { value: "closed" });
  });

  it("should pass fileControl to SQLite and return its result code", () => {
    same((face) => fixture(face).fileControl(face.constants.SQLITE_FCNTL_PERSIST_WAL, 0), { value: 12 });
  });

  it("should keep column names such as __proto__ and constructor as plain data", () => {
    same((face) => {
      const row = fixture(face).query('SELECT 1 AS "__proto__", 2 AS "constructor", 3 AS "1"').get();
      return [Object.getPrototypeOf(row) === Object.prototype || Object.getPrototypeOf(row) === null, row.constructor, row["1"]];
    }, { value: [true, 2, 3] });
  });
});

describe("getters that run JS in the middle of binding", () => {
  it("should store a blob as it was when bound, even if a later getter changes and detaches its buffer", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE t (a BLOB, b INT)");
      const buffer = new ArrayBuffer(256);
      const bytes = new Uint8Array(buffer).fill(0xab);
      db.run("INSERT INTO t VALUES ($a, $b)", {
        get $a() {
          return bytes;
        },
        get $b() {
          bytes.fill(0xee);
          buffer.transfer();
          return 1;
        },
      });
      const row = db.query("SELECT a, b FROM t").get();
      return [row.a.length, row.a.every((byte: number) => byte === 0xab), row.b];
    }, { value: [256, true, 1] });
  });

  it("should throw, not crash, when a getter finalizes the statement or closes the database, and keep the rest working", () => {
    same((face) => {
      const db = new face.Database();
      const select = db.query("SELECT $x AS x");
      const outcomes = [];
      try {
        select.get({
          get $x() {
            select.finalize();
            return 1;
          },
        });
        outcomes.push("no error");
      } catch (error) {
        outcomes.push(error instanceof Error);
      }
      outcomes.push(db.query("SELECT 123 AS y").get());
      const other = new face.Database();
      const query = other.query("SELECT $x AS x");
      try {
        query.get({
          get $x() {
            other.close();
            return 1;
          },
        });
        outcomes.push("no error");
      } catch (error) {
        outcomes.push(error instanceof Error);
      }
      return outcomes;
    }, { value: [true, { y: 123 }, true] });
  });
});

describe("changes of a multi-row insert", () => {
  it("should be counted the same by db.run, prepare().run() and query().run()", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE cats (id INTEGER PRIMARY KEY, name TEXT)");
      const sql = "INSERT INTO cats (name) VALUES ('Fluffy'), ('Furry')";
      return [db.run(sql).changes, db.prepare(sql).run().changes, db.query(sql).run().changes];
    }, { value: [2, 2, 2] });
  });
});
