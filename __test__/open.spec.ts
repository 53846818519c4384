// The hardened open sequence: files and modes, every pragma read back,
// option validation, not-a-database files, readonly and file: URLs.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { HardenedDb, HardenedDbError, SqliteError } from "../index.js";
import { tempDir, modeOf, exists, runScript } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-open")));
afterEach(() => tmp.cleanup());

function pragmas(db: HardenedDb, names: string[]) {
  return Object.fromEntries(names.map((n) => [n, db.pragma(n, { simple: true })]));
}

describe("new HardenedDb(path)", () => {
  it("should create the directory 0700 and db, -wal and -shm as 0600", () => {
    const path = tmp.path("nested/deeper/app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    expect(modeOf(tmp.path("nested/deeper"))).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(path + "-wal")).toBe(0o600);
    expect(modeOf(path + "-shm")).toBe(0o600);
    db.close();
  });

  it("should give every file the fileMode option whatever the umask", () => {
    const old = process.umask(0o077);
    try {
      const path = tmp.path("app.db");
      const db = new HardenedDb(path, { fileMode: 0o640 });
      db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
      expect([modeOf(path), modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o640, 0o640, 0o640]);
      db.close();
    } finally {
      process.umask(old);
    }
  });

  it("should read back every pragma of the hardened recipe", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    expect(
      pragmas(db, [
        "journal_mode", "busy_timeout", "synchronous", "mmap_size", "foreign_keys", "temp_store",
        "cache_size", "journal_size_limit", "wal_autocheckpoint", "auto_vacuum", "query_only",
      ]),
    ).toEqual({
      journal_mode: "wal", busy_timeout: 5000, synchronous: 1, mmap_size: 0, foreign_keys: 1, temp_store: 2,
      cache_size: -16000, journal_size_limit: 67108864, wal_autocheckpoint: 1000, auto_vacuum: 0, query_only: 0,
    });
    db.close();
  });

  it("should apply every pragma option and the timeout alias", () => {
    const db = new HardenedDb(tmp.path("app.db"), {
      timeout: 1234, synchronous: "full", mmapSize: 4096, foreignKeys: false, tempStore: "FILE",
      cacheSize: 500, journalSizeLimit: 1048576, walAutocheckpoint: 50, autoVacuum: "INCREMENTAL",
    });
    expect(
      pragmas(db, ["busy_timeout", "synchronous", "mmap_size", "foreign_keys", "temp_store", "cache_size",
        "journal_size_limit", "wal_autocheckpoint", "auto_vacuum"]),
    ).toEqual({
      busy_timeout: 1234, synchronous: 2, mmap_size: 4096, foreign_keys: 0, temp_store: 1, cache_size: 500,
      journal_size_limit: 1048576, wal_autocheckpoint: 50, auto_vacuum: 2,
    });
    db.close();
  });

  it("should keep auto_vacuum of an existing database and switch an old rollback-journal file to WAL", () => {
    const path = tmp.path("old.db");
    const first = new HardenedDb(path, { autoVacuum: "FULL" });
    // A file from an older app in rollback-journal mode; a hardened connection refuses that pragma without unsafeMode().
    first.unsafeMode();
    first.exec("CREATE TABLE t(x); PRAGMA journal_mode=DELETE");
    first.close();
    const db = new HardenedDb(path, { autoVacuum: "INCREMENTAL" });
    expect(pragmas(db, ["journal_mode", "auto_vacuum"])).toEqual({ journal_mode: "wal", auto_vacuum: 1 });
    db.close();
  });

  it("should open file: URLs and :memory:", () => {
    const path = tmp.path("url db.db");
    const viaUrl = new HardenedDb(pathToFileURL(path).href);
    viaUrl.exec("CREATE TABLE t(x)");
    expect(viaUrl.name).toBe(path);
    viaUrl.close();
    expect(exists(path)).toBe(true);

    const memory = new HardenedDb(":memory:");
    expect(memory.memory).toBe(true);
    expect(memory.pragma("journal_mode", { simple: true })).toBe("memory");
    expect(memory.pragma("foreign_keys", { simple: true })).toBe(1);
    memory.close();
    expect(new HardenedDb().memory).toBe(true);
  });

  it("should refuse paths it cannot honour with HARDENED_INVALID_PATH", () => {
    for (const path of ["file:", "file:app.db?mode=ro", "file://server/share/app.db", "file:bad%zzescape.db"]) {
      let error: any;
      try {
        new HardenedDb(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_PATH");
    }
    expect(() => new HardenedDb(42 as never)).toThrow("Expected the database path to be a string");
  });

  it("should expose name, open, readonly and memory", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    expect([db.name, db.open, db.readonly, db.memory, db.inTransaction]).toEqual([path, true, false, false, false]);
    db.close();
    expect(db.open).toBe(false);
  });
});

describe("options validation", () => {
  it("should name an unknown option and the nearest valid one", () => {
    const open = (options: object) => () => new HardenedDb(":memory:", options as never);
    expect(open({ readOnly: true })).toThrow('Unknown option "readOnly"; did you mean "readonly"?');
    expect(open({ busytimeout: 10 })).toThrow('did you mean "busyTimeout"?');
    expect(open({ journalMode: "wal" })).toThrow('Unknown option "journalMode"');
    try {
      open({ fileMustExists: true })();
      throw new Error("not thrown");
    } catch (e: any) {
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_INVALID_OPTION");
      expect(e.message).toContain('did you mean "fileMustExist"?');
    }
  });

  it("should reject wrong types and out-of-range values, naming the option", () => {
    const attempt = (options: object) => {
      try {
        new HardenedDb(tmp.path("x.db"), options as never);
      } catch (e: any) {
        return { type: e.constructor.name, code: e.code, message: e.message };
      }
      throw new Error("not thrown");
    };
    expect(attempt({ busyTimeout: "5000" })).toMatchObject({ type: "TypeError", code: "HARDENED_INVALID_OPTION" });
    expect(attempt({ busyTimeout: "5000" }).message).toContain('"busyTimeout" must be a number');
    expect(attempt({ synchronous: "fast" })).toMatchObject({ type: "RangeError", code: "HARDENED_INVALID_OPTION" });
    expect(attempt({ synchronous: "fast" }).message).toContain("OFF, NORMAL, FULL, EXTRA");
    expect(attempt({ busyTimeout: -5 }).message).toContain("busyTimeout");
    expect(attempt({ fileMode: 0o7777 }).message).toContain("fileMode");
    expect(attempt({ defaultTransaction: "lazy" }).code).toBe("HARDENED_INVALID_OPTION");
    expect(attempt({ timeout: 1, busyTimeout: 2 }).code).toBe("HARDENED_INVALID_OPTION");
    expect(exists(tmp.path("x.db"))).toBe(false);
  });

  it("should refuse to create with fileMustExist or create: false", () => {
    for (const options of [{ fileMustExist: true }, { create: false }]) {
      try {
        new HardenedDb(tmp.path("missing/app.db"), options);
        throw new Error("not thrown");
      } catch (e: any) {
        // better-sqlite3 code catches it by SQLite's class and code; hardenedCode keeps the reason.
        expect(e).toBeInstanceOf(SqliteError);
        expect(e.code).toBe("SQLITE_CANTOPEN");
        expect(e.hardenedCode).toBe("HARDENED_FILE_NOT_FOUND");
        expect(e.message).toContain(tmp.path("missing/app.db"));
      }
    }
    expect(exists(tmp.path("missing"))).toBe(false);
  });

  it("should refuse a directory as the database path", () => {
    mkdirSync(tmp.path("dir.db"));
    expect(() => new HardenedDb(tmp.path("dir.db"))).toThrow(HardenedDbError);
    try {
      new HardenedDb(tmp.path("dir.db"));
    } catch (e: any) {
      expect(e.code).toBe("HARDENED_PATH_IS_DIRECTORY");
    }
  });
});

describe("a file that is not a SQLite database", () => {
  const cases: Record<string, Buffer> = {
    "random bytes": Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 131 + 17) % 256)),
    "a truncated header": Buffer.from("SQLite format 3\0\x10\x00"),
    "a text file": Buffer.from("name,email\nada,ada@example.com\n".repeat(200)),
  };
  for (const [kind, bytes] of Object.entries(cases)) {
    it(`should be refused with HARDENED_NOT_A_DATABASE and left byte-for-byte unchanged (${kind})`, () => {
      const path = tmp.path("data.db");
      writeFileSync(path, bytes);
      let error: any;
      try {
        new HardenedDb(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HardenedDbError);
      expect(error.code).toBe("HARDENED_NOT_A_DATABASE");
      expect(error.message).toContain(path);
      expect(error.cause).toBeInstanceOf(SqliteError);
      expect(error.cause.code).toBe("SQLITE_NOTADB");
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(exists(path + "-wal")).toBe(false);
      expect(exists(path + "-shm")).toBe(false);
    });
  }
});

describe("readonly: true", () => {
  it("should reject writes with SQLITE_READONLY while another writer keeps working", () => {
    const path = tmp.path("app.db");
    const writer = new HardenedDb(path);
    writer.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const reader = new HardenedDb(path, { readonly: true });
    expect(reader.readonly).toBe(true);
    expect(reader.pragma("query_only", { simple: true })).toBe(1);
    try {
      reader.prepare("INSERT INTO t VALUES (2)").run();
      throw new Error("not thrown");
    } catch (e: any) {
      expect(e).toBeInstanceOf(SqliteError);
      expect(e.code).toBe("SQLITE_READONLY");
    }
    writer.prepare("INSERT INTO t VALUES (3)").run();
    expect(reader.prepare("SELECT x FROM t ORDER BY x").pluck().all()).toEqual([1, 3]);
    reader.close();
    writer.close();
  });

  it("should never create a missing database", () => {
    expect(() => new HardenedDb(tmp.path("none.db"), { readonly: true })).toThrow("does not exist");
    expect(exists(tmp.path("none.db"))).toBe(false);
  });

  it("should read a database in another process while this one writes", () => {
    const path = tmp.path("app.db");
    const writer = new HardenedDb(path);
    writer.exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)");
    const result = runScript(
      `const { HardenedDb } = require('.'); const db = new HardenedDb(${JSON.stringify(path)}, { readonly: true });
       console.log(db.prepare('SELECT x FROM t').pluck().get())`,
      "node",
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("42");
    writer.close();
  });
});

describe("process exit", () => {
  it("should find every connection of the thread still open, natively (no WeakRef per connection)", () => {
    const dir = JSON.stringify(tmp.path(""));
    const code = `
      const { HardenedDb } = require('.');
      const { NativeDatabase } = require('./binding.js');
      const dbs = [0, 1, 2].map((i) => new HardenedDb(${dir} + '/exit-' + i + '.db'));
      dbs[1].close();
      const rows = dbs[2].prepare('SELECT 1 UNION ALL SELECT 2').iterate();
      rows.next();
      // What the exit handler calls: it closes even under an open iterator.
      const closed = NativeDatabase.closeAllAtExit();
      console.log(JSON.stringify({ closed, open: dbs.map((db) => db.open), again: NativeDatabase.closeAllAtExit() }));
    `;
    for (const runtime of ["node", "bun"] as const) {
      const result = runScript(code, runtime);
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({ closed: 2, open: [false, false, false], again: 0 });
      for (const i of [0, 1, 2]) expect(exists(tmp.path(`exit-${i}.db-wal`))).toBe(false);
    }
  });

  it("should close connections left open so no -wal remains", () => {
    const path = tmp.path("app.db");
    for (const runtime of ["node", "bun"] as const) {
      const result = runScript(
        `const { HardenedDb } = require('.'); const db = new HardenedDb(${JSON.stringify(path)});
         db.exec('CREATE TABLE IF NOT EXISTS t(x)'); db.prepare('INSERT INTO t VALUES (1)').run();`,
        runtime,
      );
      expect(result.status).toBe(0);
      expect(exists(path + "-wal")).toBe(false);
    }
    const db = new HardenedDb(path);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(2);
    db.close();
  });
});
