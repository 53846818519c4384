// db.transaction(): commit/rollback, savepoints, variants, and the hardened
// IMMEDIATE default that takes the write lock at BEGIN.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, SqliteError } from "../index.js";
import { tempDir, thrown } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
let db: HardenedDb;
beforeEach(() => {
  tmp = tempDir("hs-tx");
  db = new HardenedDb(tmp.path("app.db"));
  db.exec("CREATE TABLE t (x INTEGER UNIQUE)");
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

const count = (conn = db) => conn.prepare("SELECT count(*) FROM t").pluck().get();


describe("db.transaction(fn)", () => {
  it("should upgrade .deferred to IMMEDIATE unless upgradeDeferredBegin is false", () => {
    const other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
    const otherInsert = other.prepare("INSERT INTO t VALUES (?)");
    db.transaction(() => expect(thrown(() => otherInsert.run(1)).code).toBe("SQLITE_BUSY")).deferred();
    const real = new HardenedDb(tmp.path("app.db"), { upgradeDeferredBegin: false });
    real.transaction(() => otherInsert.run(2)).deferred();
    expect(count()).toBe(1);
    real.close();
    other.close();
  });

  it("should commit when fn returns, passing arguments and the return value through", () => {
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const insertMany = db.transaction((xs: number[]) => {
      for (const x of xs) insert.run(x);
      expect(db.inTransaction).toBe(true);
      return xs.length;
    });
    expect(insertMany([1, 2, 3])).toBe(3);
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(3);
  });

  it("should roll back everything when fn throws, and rethrow the error", () => {
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const e = thrown(() => db.transaction(() => { insert.run(1); insert.run(1); })());
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(0);
  });

  it("should use savepoints for nested calls", () => {
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const inner = db.transaction((x: number) => { insert.run(x); if (x < 0) throw new Error("inner failed"); });
    const outer = db.transaction(() => {
      inner(1);
      expect(() => inner(-1)).toThrow("inner failed");
      expect(db.inTransaction).toBe(true);
      inner(2);
    });
    outer();
    expect(db.prepare("SELECT x FROM t ORDER BY x").pluck().all()).toEqual([1, 2]);
  });

  it("should offer deferred, immediate and exclusive variants", () => {
    const tx = db.transaction(() => db.prepare("INSERT INTO t VALUES (1)").run());
    expect(typeof tx.deferred).toBe("function");
    expect(typeof tx.immediate).toBe("function");
    expect(typeof tx.exclusive).toBe("function");
    tx.exclusive();
    expect(count()).toBe(1);
  });

  it("should take the write lock at BEGIN by default (IMMEDIATE)", () => {
    const other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
    const otherInsert = other.prepare("INSERT INTO t VALUES (?)");
    db.transaction(() => {
      count(); // only reads so far
      const e = thrown(() => otherInsert.run(1));
      expect(e.code).toBe("SQLITE_BUSY");
    })();
    other.close();
  });

  it("should spare read-then-write transactions the SQLITE_BUSY_SNAPSHOT a deferred one gets", () => {
    db.close();
    db = new HardenedDb(tmp.path("app.db"), { upgradeDeferredBegin: false });
    const other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
    const readThenWrite = db.transaction(() => {
      const n = count() as number;
      if (n === 0) thrown(() => other.prepare("INSERT INTO t VALUES (100)").run());
      db.prepare("INSERT INTO t VALUES (?)").run(n + 1);
    });
    // Deferred: the other connection writes between our read and our write.
    const deferred = db.transaction(() => {
      const n = count() as number;
      other.prepare("INSERT INTO t VALUES (?)").run(1000 + n);
      db.prepare("INSERT INTO t VALUES (?)").run(n + 1);
    }).deferred;
    expect(thrown(() => deferred()).code).toBe("SQLITE_BUSY_SNAPSHOT");
    readThenWrite();
    expect(db.prepare("SELECT x FROM t ORDER BY x").pluck().all()).toEqual([2, 1000]);
    other.close();
  });

  it("should honour defaultTransaction: 'deferred'", () => {
    const lazy = new HardenedDb(tmp.path("app.db"), { defaultTransaction: "deferred", upgradeDeferredBegin: false });
    const other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
    lazy.transaction(() => {
      lazy.prepare("SELECT 1").get();
      other.prepare("INSERT INTO t VALUES (5)").run(); // no lock taken yet
    })();
    expect(count()).toBe(1);
    lazy.close();
    other.close();
  });

  it("should refuse async functions and roll back a returned promise", () => {
    const asyncError = thrown(() => db.transaction(async () => {}));
    expect(asyncError).toBeInstanceOf(TypeError);
    expect(asyncError.code).toBe("HARDENED_ASYNC_TRANSACTION");
    const promiseError = thrown(() => db.transaction(() => { db.prepare("INSERT INTO t VALUES (1)").run(); return Promise.resolve(); })());
    expect(promiseError).toBeInstanceOf(TypeError);
    expect(promiseError.code).toBe("HARDENED_ASYNC_TRANSACTION");
    expect(count()).toBe(0);
    expect(db.inTransaction).toBe(false);
  });
});
