// bun:sqlite conformance, opening and closing: the constructor's options and
// flags, Database.open, close() then use, `using`, serialize/deserialize.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it, expect } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { same, both, peerFace, ourFace, type Face } from "./faces";

/** A file database with table t(a, b) holding (1, 'one'), closed again. */
function seeded(face: Face, name = "seed.db"): string {
  const path = face.path(name);
  const db = new face.Database(path);
  db.run("CREATE TABLE t(a INTEGER, b TEXT)");
  db.run("INSERT INTO t VALUES (1, 'one')");
  db.close();
  return path;
}

describe("new Database(path, options)", () => {
  it("should open a file read-write and create it by default", () => {
    same((face) => {
      const db = new face.Database(face.path("new.db"));
      db.run("CREATE TABLE t(a)");
      const result = db.run("INSERT INTO t VALUES (7)");
      const rows = db.query("SELECT a FROM t").all();
      db.close();
      return { result, rows };
    }, { value: { result: { changes: 1, lastInsertRowid: 1 }, rows: [{ a: 7 }] } });
  });

  it("should keep the path it was given as filename", () => {
    same((face) => {
      const path = face.path("named.db");
      return new face.Database(path).filename === path;
    }, { value: true });
  });

  it("should default to an in-memory database, with filename ':memory:'", () => {
    same((face) => {
      const db = new face.Database();
      return [db.filename, db.query("SELECT 1 + 1 AS two").get()];
    }, { value: [":memory:", { two: 2 }] });
  });

  it("should refuse writes with SQLITE_READONLY under { readonly: true }", () => {
    same((face) => {
      const db = new face.Database(seeded(face), { readonly: true });
      const read = db.query("SELECT b FROM t").get();
      try {
        db.run("INSERT INTO t VALUES (2, 'two')");
      } catch (error: any) {
        return { read, code: error.code, errno: error.errno, isSQLiteError: error instanceof face.SQLiteError };
      }
      return "no error";
    }, { value: { read: { b: "one" }, code: "SQLITE_READONLY", errno: 8, isSQLiteError: true } });
  });

  it("should fail with SQLITE_CANTOPEN on a missing file under { create: false } and { readonly: true }", () => {
    same((face) => new face.Database(face.path("missing.db"), { create: false }), {
      error: { class: "SQLiteError", code: "SQLITE_CANTOPEN", errno: 14 },
    });
    same((face) => new face.Database(face.path("missing.db"), { readonly: true }), {
      error: { class: "SQLiteError", code: "SQLITE_CANTOPEN", errno: 14 },
    });
  });

  it("should accept SQLITE_OPEN_* flags as the second argument", () => {
    same((face) => {
      const db = new face.Database(seeded(face), face.constants.SQLITE_OPEN_READONLY);
      const read = db.query("SELECT a FROM t").get();
      try {
        db.run("DELETE FROM t");
      } catch (error: any) {
        return { read, code: error.code };
      }
      return "no error";
    }, { value: { read: { a: 1 }, code: "SQLITE_READONLY" } });
  });

  it("should bind bare keys under { strict: true } and return bigints under { safeIntegers: true }", () => {
    same((face) => {
      const strict = new face.Database(":memory:", { strict: true });
      const safe = new face.Database(":memory:", { safeIntegers: true });
      return {
        strict: strict.query("SELECT $x AS x").get({ x: "bare" }),
        safe: safe.query("SELECT 1 AS one, 2.5 AS half, 9007199254740993 AS big").get(),
      };
    }, { value: { strict: { x: "bare" }, safe: { one: { bigint: "1" }, half: 2.5, big: { bigint: "9007199254740993" } } } });
  });

  it("should throw a TypeError that names the right option for a misspelled one", () => {
    for (const face of [peerFace(), ourFace()]) {
      expect(() => new face.Database(":memory:", { readOnly: true })).toThrow(TypeError);
      expect(() => new face.Database(":memory:", { readOnly: true })).toThrow(/readonly/);
    }
  });
});

describe("constants", () => {
  it("should have every constant of bun:sqlite, with the same value", () => {
    const bun = peerFace().constants;
    const hardened = ourFace().constants;
    expect(Object.keys(bun).length).toBeGreaterThan(60);
    expect(bun.SQLITE_OPEN_READONLY).toBe(1);
    expect(Object.fromEntries(Object.keys(bun).map((key) => [key, hardened[key]]))).toEqual({ ...bun });
  });
});

describe("Database.open(path, flags)", () => {
  it("should open like the constructor with flags", () => {
    same((face) => {
      const db = face.Database.open(seeded(face), face.constants.SQLITE_OPEN_READONLY);
      return [db instanceof face.Database, db.query("SELECT b FROM t").all()];
    }, { value: [true, [{ b: "one" }]] });
  });
});

describe("close()", () => {
  it("should be idempotent, and make later calls on the database and its statements throw", () => {
    same((face) => {
      const db = new face.Database();
      const stmt = db.query("SELECT 1 AS one");
      db.close();
      db.close();
      const errors = [];
      for (const use of [() => db.query("SELECT 1"), () => db.run("SELECT 1"), () => stmt.get()]) {
        try {
          use();
          errors.push("no error");
        } catch (error: any) {
          errors.push(error instanceof Error);
        }
      }
      return errors;
    }, { value: [true, true, true] });
  });

  it("should close at the end of a `using` block", () => {
    same((face) => {
      let outside: any;
      {
        using db = new face.Database();
        outside = db;
        db.run("CREATE TABLE t(a)");
      }
      try {
        outside.run("INSERT INTO t VALUES (1)");
        return "still open";
      } catch (error) {
        return error instanceof Error;
      }
    }, { value: true });
  });
});

describe("serialize() and Database.deserialize()", () => {
  it("should round-trip the contents through bytes", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE s(x, y BLOB)");
      db.run("INSERT INTO s VALUES (42, x'00ff')");
      const bytes = db.serialize();
      const copy = face.Database.deserialize(bytes);
      return {
        bytes: bytes instanceof Uint8Array && bytes.length > 0,
        header: new TextDecoder().decode(bytes.subarray(0, 15)),
        rows: copy.query("SELECT * FROM s").all(),
      };
    }, { value: { bytes: true, header: "SQLite format 3", rows: [{ x: 42, y: { Uint8Array: [0, 255] } }] } });
  });

  it("should deserialize read-only with { readonly: true } or true", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE s(x)");
      db.run("INSERT INTO s VALUES (1)");
      const bytes = db.serialize("main");
      const codes = [];
      for (const copy of [face.Database.deserialize(bytes, { readonly: true }), face.Database.deserialize(bytes, true)]) {
        try {
          copy.run("INSERT INTO s VALUES (2)");
          codes.push("written");
        } catch (error: any) {
          codes.push([copy.query("SELECT x FROM s").values(), error.code]);
        }
      }
      return codes;
    }, { value: [[[[1]], "SQLITE_READONLY"], [[[1]], "SQLITE_READONLY"]] });
  });

  it("should serialize a file database too", () => {
    same((face) => {
      const db = new face.Database(seeded(face));
      const copy = face.Database.deserialize(db.serialize());
      return copy.query("SELECT * FROM t").all();
    }, { value: [{ a: 1, b: "one" }] });
  });
});

describe("what hardened-sqlite/bun does on purpose differently", () => {
  it("should create files 0600 in WAL mode, where bun:sqlite follows the umask and keeps rollback journals", () => {
    const { bun, hardened } = both((face) => {
      const path = face.path("mode.db");
      const db = new face.Database(path);
      db.run("CREATE TABLE t(a)");
      const journal = (db.query("PRAGMA journal_mode").get() as any).journal_mode;
      db.close();
      return { mode: (statSync(path).mode & 0o777).toString(8), journal };
    });
    expect(bun.value).toEqual({ mode: (0o666 & ~process.umask()).toString(8), journal: "delete" });
    expect(hardened.value).toEqual({ mode: "600", journal: "wal" });
  });

  it("should refuse a file that is not a database with a clear error rather than open it", () => {
    const { bun, hardened } = both((face) => {
      const path = face.path("junk.db");
      writeFileSync(path, "this is not a database, just some text that is long enough to have a header".repeat(3));
      let db;
      try {
        db = new face.Database(path);
      } catch (error: any) {
        return { atOpen: [error.name, error.code] };
      }
      return db.query("SELECT * FROM sqlite_master").all();
    });
    expect(bun.error).toEqual({ class: "SQLiteError", code: "SQLITE_NOTADB", errno: 26 });
    // Ours checks the header while opening: a HardenedDbError, not SQLite's error on first use.
    expect(hardened.value).toEqual({ atOpen: ["HardenedDbError", "HARDENED_NOT_A_DATABASE"] });
  });

  it("should read a double-quoted word that names no column as an identifier, where bun:sqlite takes it for a string", () => {
    const { bun, hardened } = both((face) => {
      const db = new face.Database(":memory:");
      db.run("CREATE TABLE t(a)");
      try {
        db.run('INSERT INTO t VALUES ("Hello")');
      } catch (error: any) {
        return { refused: [error.code, error.message] };
      }
      return db.query("SELECT a FROM t").all();
    });
    expect(bun.value).toEqual([{ a: "Hello" }]);
    expect(hardened.value).toEqual({
      refused: ["SQLITE_ERROR", 'no such column: "Hello" - should this be a string literal in single-quotes?'],
    });
  });
});
