// bun:sqlite conformance, the pragmas Bun apps set themselves with db.run() and
// db.query(): they must keep working on the hardened face. Weaker values are
// refused on purpose (HARDENED_WEAKER_PRAGMA, docs/security.md); the test says so.
import { describe, it, expect } from "bun:test";
import { same, both, type Face } from "./faces";

const APP_PRAGMAS = ["journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 5000", "foreign_keys = ON"];

/** A file database put in WAL mode by a writer, as a Bun app's writer does; returns its path. */
function walFile(face: Face): string {
  const path = face.path("wal.db");
  const db = new face.Database(path);
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE t(a)");
  db.close();
  return path;
}

describe("a Bun app's own pragmas", () => {
  it("should run through db.run() on a writable file, returning no changes", () => {
    same((face) => {
      const db = new face.Database(face.path("app.db"));
      return APP_PRAGMAS.map((pragma) => db.run(`PRAGMA ${pragma}`));
    }, { value: Array(4).fill({ changes: 0, lastInsertRowid: 0 }) });
  });

  it("should read back through db.query() as set", () => {
    same((face) => {
      const db = new face.Database(face.path("app.db"));
      const set = db.query("PRAGMA journal_mode = WAL").get();
      for (const pragma of APP_PRAGMAS.slice(1)) db.run(`PRAGMA ${pragma}`);
      return [set, ...["synchronous", "busy_timeout", "foreign_keys"].map((name) => db.query(`PRAGMA ${name}`).get())];
    }, { value: [{ journal_mode: "wal" }, { synchronous: 1 }, { timeout: 5000 }, { foreign_keys: 1 }] });
  });

  it("should run busy_timeout and foreign_keys on a readonly connection", () => {
    same((face) => {
      const db = new face.Database(walFile(face), { readonly: true });
      return ["busy_timeout = 5000", "foreign_keys = ON"].map((pragma) => db.run(`PRAGMA ${pragma}`));
    }, { value: Array(2).fill({ changes: 0, lastInsertRowid: 0 }) });
  });

  it("should accept journal_mode = WAL on a readonly connection to a file already in WAL mode", () => {
    same((face) => {
      const db = new face.Database(walFile(face), { readonly: true });
      return [db.run("PRAGMA journal_mode = WAL"), db.query("PRAGMA journal_mode").get()];
    }, { value: [{ changes: 0, lastInsertRowid: 0 }, { journal_mode: "wal" }] });
  });

  it("should refuse to switch a readonly connection's file out of WAL (ours: SQLITE_READONLY, on purpose)", () => {
    const { bun, hardened } = both((face) => new face.Database(walFile(face), { readonly: true }).run("PRAGMA journal_mode = DELETE"));
    // bun:sqlite fails as a side effect of its read-only file handle; ours refuses it up front with
    // the code a write to a readonly connection gets (docs/security.md, "Read-only connections").
    expect(bun.error).toEqual({ class: "SQLiteError", code: "SQLITE_IOERR_LOCK", errno: 3850 });
    expect(hardened.error).toEqual({ class: "SQLiteError", code: "SQLITE_READONLY", errno: 8 });
  });
});

describe("weaker pragmas: on purpose different", () => {
  // bun:sqlite applies them; the hardened face refuses them before they run
  // (HardenedDbError HARDENED_WEAKER_PRAGMA) and keeps the hardened value, unless
  // db.unsafeMode() is on (docs/security.md, "Pragmas that would weaken the hardened open").
  it("should refuse synchronous = OFF, journal_mode = DELETE, mmap_size and trusted_schema = ON", () => {
    const { bun, hardened } = both((face) => {
      const db = new face.Database(face.path("app.db"));
      db.run("PRAGMA journal_mode = WAL");
      const outcomes = ["synchronous = OFF", "journal_mode = DELETE", "mmap_size = 1048576", "trusted_schema = ON"].map((pragma) => {
        try {
          db.run(`PRAGMA ${pragma}`);
          return "applied";
        } catch (error: any) {
          return [error.name, error.code, face.ours && error instanceof face.HardenedDbError];
        }
      });
      return { outcomes, after: db.query("SELECT * FROM pragma_synchronous, pragma_journal_mode").get() };
    });
    expect(bun.value).toEqual({ outcomes: Array(4).fill("applied"), after: { synchronous: 0, journal_mode: "delete" } });
    expect(hardened.value).toEqual({
      outcomes: Array(4).fill(["HardenedDbError", "HARDENED_WEAKER_PRAGMA", true]),
      after: { synchronous: 1, journal_mode: "wal" },
    });
  });

  it("should apply them after db.unsafeMode(), as bun:sqlite does", () => {
    const { hardened } = both((face) => {
      const db = new face.Database(face.path("app.db"));
      if (face.ours) db.unsafeMode();
      db.run("PRAGMA synchronous = OFF");
      return db.query("PRAGMA synchronous").get();
    });
    expect(hardened.value).toEqual({ synchronous: 0 });
  });
});
