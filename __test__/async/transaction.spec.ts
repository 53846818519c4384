// db.transaction(async (tx) => ...) of the async handle: commit, rollback,
// isolation from readers, queued writes, savepoints, retries and the timeout.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, HardenedDbError } from "../../index.js";
import { tempDir } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-tx")));
afterEach(() => tmp.cleanup());

const MIGRATIONS = [{ version: 1, name: "init", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v)" }];
const count = async (db: any) => (await db.get("SELECT count(*) AS n FROM t")).n;

describe("db.transaction()", () => {
  it("should commit what the callback did and resolve to its value", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    const value = await db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t (v) VALUES (?)", "a");
      const stmt = await tx.prepare("INSERT INTO t (v) VALUES (?)");
      await stmt.run("b");
      return (await tx.all("SELECT v FROM t ORDER BY id")).map((r: any) => r.v);
    });
    expect(value).toEqual(["a", "b"]);
    expect(await count(db)).toBe(2);
    await db.close();
  });

  it("should roll back on a throw or a rejection, and rethrow it", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    const boom = new Error("boom");
    await expect(db.transaction(async (tx: any) => { await tx.run("INSERT INTO t (v) VALUES (1)"); throw boom; })).rejects.toBe(boom);
    await expect(db.transaction((tx: any) => tx.run("INSERT INTO t (v) VALUES (1)").then(() => Promise.reject(boom)))).rejects.toBe(boom);
    await expect(db.transaction(async (tx: any) => { await tx.run("INSERT INTO t (id) VALUES (1), (1)"); })).rejects.toMatchObject({ code: "SQLITE_CONSTRAINT_PRIMARYKEY" });
    expect(await count(db)).toBe(0);
    await db.close();
  });

  it("should let readers outside the transaction see only the last committed state", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS, readers: 2 });
    await db.run("INSERT INTO t (v) VALUES ('committed')");
    let seenInside = -1;
    await db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t (v) VALUES ('pending')");
      expect(await count(tx)).toBe(2);
      seenInside = await count(db);
    });
    expect(seenInside).toBe(1);
    expect(await count(db)).toBe(2);
    await db.close();
  });

  it("should queue other writes behind the transaction, never inside it", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    let outside: Promise<any> | undefined;
    await expect(
      db.transaction(async (tx: any) => {
        await tx.run("INSERT INTO t (v) VALUES ('tx')");
        outside = db.run("INSERT INTO t (v) VALUES ('outside')");
        await new Promise((r) => setTimeout(r, 30));
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    await outside;
    expect(await db.all("SELECT v FROM t")).toEqual([{ v: "outside" }]);
    await db.close();
  });

  it("should nest with savepoints: an inner failure undoes only the inner work", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    await db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t (v) VALUES ('outer')");
      await expect(tx.transaction(async (inner: any) => { await inner.run("INSERT INTO t (v) VALUES ('inner')"); throw new Error("inner"); })).rejects.toThrow("inner");
      expect(await tx.transaction(async (inner: any) => (await inner.run("INSERT INTO t (v) VALUES ('kept')")).changes)).toBe(1);
    });
    expect(await db.all("SELECT v FROM t ORDER BY id")).toEqual([{ v: "outer" }, { v: "kept" }]);
    await db.close();
  });

  it("should refuse tx after the callback ended and COMMIT inside the callback", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    let kept: any;
    await db.transaction(async (tx: any) => { kept = tx; });
    await expect(kept.run("INSERT INTO t (v) VALUES (1)")).rejects.toMatchObject({ code: "HARDENED_TRANSACTION_FINISHED" });
    await expect(db.transaction(async (tx: any) => { await tx.run("COMMIT"); })).rejects.toMatchObject({ code: "HARDENED_TRANSACTION_CONTROL" });
    expect(await count(db)).toBe(0);
    await expect(db.transaction("nope" as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.transaction(async () => {}, { retry: 1 } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await db.close();
  });

  it("should roll back a transaction that never finishes with HARDENED_TRANSACTION_TIMEOUT, then serve the queued writes", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS, transactionTimeout: 200 });
    const stuck = db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t (v) VALUES ('lost')");
      await new Promise(() => {}); // a promise that never settles
    });
    const queued = db.run("INSERT INTO t (v) VALUES ('after')");
    const error: any = await stuck.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_TRANSACTION_TIMEOUT");
    expect(error.message).toContain("transactionTimeout");
    await queued;
    expect(await db.all("SELECT v FROM t")).toEqual([{ v: "after" }]);
    await db.close();
  });

  it("should interrupt a long statement of a timed-out transaction", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS, transactionTimeout: 200 });
    const started = Date.now();
    const error: any = await db
      .transaction(async (tx: any) => {
        await tx.get("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000000000) SELECT count(*) FROM c");
      })
      .catch((e: unknown) => e);
    expect(error.code).toBe("HARDENED_TRANSACTION_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await count(db)).toBe(0);
    await db.close();
  });
});
