// The upgradeDeferredBegin option: a deferred or bare BEGIN in SQL given to
// prepare()/exec(), and db.transaction(fn).deferred, take the write lock at
// once (BEGIN IMMEDIATE) unless the option is false.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../index.js";
import { tempDir, thrown } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
let db: HardenedDb;
let other: HardenedDb;
beforeEach(() => {
  tmp = tempDir("hs-begin");
  db = new HardenedDb(tmp.path("app.db"));
  db.exec("CREATE TABLE t (x)");
  other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
});
afterEach(() => {
  other.close();
  db.close();
  tmp.cleanup();
});

/** Whether `db` holds the write lock: another connection cannot write without waiting. */
function holdsWriteLock(): boolean {
  try {
    other.prepare("INSERT INTO t VALUES ('other')").run();
    return false;
  } catch (e: any) {
    if (e.code !== "SQLITE_BUSY") throw e;
    return true;
  }
}


describe("upgradeDeferredBegin (default true)", () => {
  for (const sql of ["BEGIN", "begin", "BEGIN;", "Begin Deferred", "BEGIN TRANSACTION", "begin deferred transaction;", "  -- why\n  begin /* lock */ deferred"]) {
    it(`should prepare ${JSON.stringify(sql)} as BEGIN IMMEDIATE and hold the write lock after running it`, () => {
      const begin = db.prepare(sql);
      expect(begin.source).toContain("BEGIN IMMEDIATE");
      begin.run();
      expect(holdsWriteLock()).toBe(true);
      db.exec("COMMIT");
      expect(holdsWriteLock()).toBe(false);
    });
  }

  it("should leave BEGIN IMMEDIATE, BEGIN EXCLUSIVE and other statements as written", () => {
    expect(db.prepare("BEGIN EXCLUSIVE").source).toBe("BEGIN EXCLUSIVE");
    expect(db.prepare("BEGIN IMMEDIATE").source).toBe("BEGIN IMMEDIATE");
    expect(db.prepare("SELECT 'BEGIN' AS begin").source).toBe("SELECT 'BEGIN' AS begin");
  });

  it("should upgrade each deferred BEGIN of an exec() script and nothing inside strings, names or trigger bodies", () => {
    db.exec(`
      CREATE TABLE "begin;" (v TEXT);
      CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO "begin;" VALUES ('; begin'); END;
      BEGIN;
      INSERT INTO t VALUES ('BEGIN;');
    `);
    expect(db.inTransaction).toBe(true);
    expect(holdsWriteLock()).toBe(true);
    db.exec("COMMIT");
    expect(db.prepare(`SELECT v FROM "begin;"`).pluck().all()).toEqual(["; begin"]);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'tr'").pluck().get()).toContain(`BEGIN INSERT INTO "begin;" VALUES ('; begin'); END`);
  });

  it("should upgrade db.transaction(fn).deferred too, and leave it deferred with the option off", () => {
    db.transaction(() => {
      db.prepare("SELECT count(*) FROM t").get();
      expect(holdsWriteLock()).toBe(true);
    }).deferred();
    const lazy = new HardenedDb(tmp.path("app.db"), { upgradeDeferredBegin: false });
    lazy.transaction(() => {
      lazy.prepare("SELECT count(*) FROM t").get();
      expect(holdsWriteLock()).toBe(false);
    }).deferred();
    lazy.close();
  });

  it("should leave BEGIN deferred with upgradeDeferredBegin: false", () => {
    const lazy = new HardenedDb(tmp.path("app.db"), { upgradeDeferredBegin: false });
    expect(lazy.prepare("BEGIN").source).toBe("BEGIN");
    lazy.exec("BEGIN");
    lazy.prepare("SELECT count(*) FROM t").get();
    expect(holdsWriteLock()).toBe(false);
    lazy.exec("COMMIT");
    lazy.close();
  });

  it("should not upgrade on a readonly connection, and refuse upgradeDeferredBegin: true with readonly", () => {
    const reader = new HardenedDb(tmp.path("app.db"), { readonly: true });
    expect(reader.prepare("BEGIN").source).toBe("BEGIN");
    reader.exec("BEGIN");
    expect(holdsWriteLock()).toBe(false);
    reader.exec("COMMIT");
    reader.close();
    const e = thrown(() => new HardenedDb(tmp.path("app.db"), { readonly: true, upgradeDeferredBegin: true }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe("HARDENED_INVALID_OPTION");
  });

  it("should validate the option's name and type", () => {
    const misspelled = thrown(() => new HardenedDb(tmp.path("app.db"), { upgradeDeferedBegin: false } as never));
    expect(misspelled.code).toBe("HARDENED_INVALID_OPTION");
    expect(misspelled.message).toContain('did you mean "upgradeDeferredBegin"?');
    const wrongType = thrown(() => new HardenedDb(tmp.path("app.db"), { upgradeDeferredBegin: "yes" } as never));
    expect(wrongType).toBeInstanceOf(TypeError);
    expect(wrongType.message).toBe('Option "upgradeDeferredBegin" must be a boolean, got string');
  });
});
