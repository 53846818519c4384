// Pragma writes that would silently undo the hardened open are refused with
// HARDENED_WEAKER_PRAGMA (the authorizer, src/weaker_pragmas.rs), through every
// way SQL reaches the connection, until db.unsafeMode(). The same or a stronger
// value stays allowed and silent. Both faces share this native connection.
import { describe, it, expect, afterEach } from "bun:test";
import { tempDir, thrown } from "./helpers";

const Database = require("../index.js");
const { HardenedDbError, SqliteError } = Database;

const tmp = tempDir("weaker-pragmas");
afterEach(() => tmp.cleanup());

/** Each weaker pragma, and what must still read back after the refusal. */
const WEAKER: Array<[sql: string, pragma: string, unchanged: unknown]> = [
  ["journal_mode = DELETE", "journal_mode", "wal"],
  ["journal_mode = 'truncate'", "journal_mode", "wal"],
  ["main.journal_mode = PERSIST", "journal_mode", "wal"],
  ["journal_mode = MEMORY", "journal_mode", "wal"],
  ["synchronous = OFF", "synchronous", 1],
  ["synchronous = 0", "synchronous", 1],
  ["synchronous = 7", "synchronous", 1], // SQLite reads (7 + 1) & 7 = 0 as OFF.
  ["mmap_size = 268435456", "mmap_size", 0],
  ["trusted_schema = ON", "trusted_schema", 0],
  ["trusted_schema = 1", "trusted_schema", 0],
  ["locking_mode = EXCLUSIVE", "locking_mode", "normal"],
];

/** How app code reaches the connection with a pragma. */
const ROUTES: Array<[string, (db: any, body: string) => unknown]> = [
  ["db.pragma()", (db, body) => db.pragma(body)],
  ["db.exec()", (db, body) => db.exec(`SELECT 1; PRAGMA ${body}`)],
  ["db.prepare().run()", (db, body) => db.prepare(`PRAGMA ${body}`).run()],
];

describe("weaker pragmas on a writable file database", () => {
  for (const [route, run] of ROUTES) {
    it(`should be refused through ${route}, naming the pragma, leaving the value as it was`, () => {
      const db = new Database(tmp.path("app.db"));
      for (const [sql, pragma, unchanged] of WEAKER) {
        const error = thrown(() => run(db, sql));
        expect(error).toBeInstanceOf(HardenedDbError);
        expect(error.code).toBe("HARDENED_WEAKER_PRAGMA");
        expect(error.message).toContain(`PRAGMA ${pragma}`);
        expect(error.message).toContain("db.unsafeMode()");
        expect(db.pragma(pragma, { simple: true })).toBe(unchanged);
      }
      expect(db.health().status).toBe("healthy");
      db.close();
    });
  }

  it("should not be reachable through the table-valued pragma functions (they take no value)", () => {
    const db = new Database(tmp.path("app.db"));
    for (const sql of ["SELECT * FROM pragma_synchronous(0)", "SELECT * FROM pragma_journal_mode('delete')", "SELECT * FROM pragma_trusted_schema(1)"]) {
      expect(thrown(() => db.prepare(sql).all())).toBeInstanceOf(SqliteError);
    }
    expect([db.pragma("synchronous", { simple: true }), db.pragma("journal_mode", { simple: true }), db.pragma("trusted_schema", { simple: true })])
      .toEqual([1, "wal", 0]);
    db.close();
  });

  it("should say what the hardened value is and why", () => {
    const db = new Database(tmp.path("app.db"));
    expect(thrown(() => db.pragma("synchronous = OFF")).message).toMatch(/hardened value is NORMAL.*power loss/);
    expect(thrown(() => db.pragma("journal_mode = DELETE")).message).toMatch(/hardened value is WAL/);
    expect(thrown(() => db.pragma("mmap_size = 4096")).message).toMatch(/SIGBUS/);
    db.close();
  });

  it("should allow the same or a stronger value, silently", () => {
    const db = new Database(tmp.path("app.db"));
    expect(db.pragma("journal_mode = WAL", { simple: true })).toBe("wal");
    for (const [sql, pragma, value] of [
      ["synchronous = FULL", "synchronous", 2],
      ["synchronous = EXTRA", "synchronous", 3],
      ["synchronous = NORMAL", "synchronous", 1],
      ["mmap_size = 0", "mmap_size", 0],
      ["trusted_schema = OFF", "trusted_schema", 0],
      ["locking_mode = NORMAL", "locking_mode", "normal"],
    ] as const) {
      db.exec(`PRAGMA ${sql}`);
      expect(db.pragma(pragma, { simple: true })).toBe(value);
    }
    db.close();
  });

  it("should leave foreign_keys = OFF allowed (table rebuilds need it), and health() report it", () => {
    const db = new Database(tmp.path("app.db"));
    db.pragma("foreign_keys = OFF");
    expect(db.pragma("foreign_keys", { simple: true })).toBe(0);
    const report = db.health();
    expect(report.status).not.toBe("healthy");
    expect(report.checks.find((c: any) => c.name === "pragma.foreign_keys")).toMatchObject({ expected: "1", actual: "0" });
    db.pragma("foreign_keys = ON");
    expect(db.health().status).toBe("healthy");
    db.close();
  });

  it("should compare with the options of the open: synchronous 'OFF' and mmapSize set on purpose", () => {
    const db = new Database(tmp.path("app.db"), { synchronous: "OFF", mmapSize: 4096 });
    db.pragma("synchronous = OFF");
    db.pragma("mmap_size = 4096");
    expect(thrown(() => db.pragma("mmap_size = 8192")).code).toBe("HARDENED_WEAKER_PRAGMA");
    db.close();
  });

  it("should allow any journal mode on an in-memory database (there is no file to protect)", () => {
    const db = new Database(":memory:");
    expect(db.pragma("journal_mode = DELETE", { simple: true })).toBe("memory");
    expect(thrown(() => db.pragma("synchronous = OFF")).code).toBe("HARDENED_WEAKER_PRAGMA");
    db.close();
  });
});

describe("db.unsafeMode()", () => {
  it("should lift the refusal while on, and bring it back when turned off", () => {
    const db = new Database(tmp.path("app.db"));
    db.unsafeMode();
    db.pragma("synchronous = OFF");
    expect(db.pragma("synchronous", { simple: true })).toBe(0);
    expect(db.pragma("journal_mode = DELETE", { simple: true })).toBe("delete");
    db.unsafeMode(false);
    expect(thrown(() => db.pragma("trusted_schema = ON")).code).toBe("HARDENED_WEAKER_PRAGMA");
    db.close();
  });
});

describe("readonly connections", () => {
  it("should keep their own refusals and codes for journal_mode and query_only", () => {
    new Database(tmp.path("app.db")).close();
    const reader = new Database(tmp.path("app.db"), { readonly: true });
    for (const body of ["journal_mode = DELETE", "journal_mode = 'truncate'", "query_only = OFF"]) {
      const error = thrown(() => reader.pragma(body));
      expect(error).toBeInstanceOf(SqliteError);
      expect(error.code).toBe("SQLITE_READONLY");
    }
    expect(thrown(() => reader.pragma("synchronous = OFF")).code).toBe("HARDENED_WEAKER_PRAGMA");
    reader.pragma("synchronous = NORMAL");
    expect(reader.pragma("journal_mode", { simple: true })).toBe("wal");
    reader.close();
  });

  it("should let a reader of a WAL file ask for WAL (a no-op, as in bun:sqlite), and nothing else", () => {
    new Database(tmp.path("app.db")).close();
    const reader = new Database(tmp.path("app.db"), { readonly: true });
    expect(reader.pragma("journal_mode = WAL", { simple: true })).toBe("wal");
    expect(reader.pragma("main.journal_mode = wal", { simple: true })).toBe("wal");
    expect(thrown(() => reader.pragma("journal_mode = MEMORY")).code).toBe("SQLITE_READONLY");
    expect(thrown(() => reader.exec("CREATE TABLE x(a)")).code).toBe("SQLITE_READONLY");
    reader.close();
  });
});
