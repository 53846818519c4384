// Maintenance of the async handle off the event loop: the sync API's results
// and argument errors for checkpoint, integrityCheck, incrementalVacuum, optimize.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { statSync } from "node:fs";
import { HardenedDb } from "../../index.js";
import { tempDir } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-upkeep")));
afterEach(() => tmp.cleanup());

describe("maintenance", () => {
  it("should checkpoint the -wal into the database and empty it with TRUNCATE", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { walAutocheckpoint: 0 });
    await db.exec("CREATE TABLE t (x); WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 2000) INSERT INTO t SELECT v FROM c");
    const passive = await db.checkpoint();
    expect(passive.busy).toBe(false);
    expect(passive.walFrames).toBeGreaterThan(0);
    expect(passive.checkpointedFrames).toBe(passive.walFrames);
    expect(await db.checkpoint("truncate")).toEqual({ busy: false, walFrames: 0, checkpointedFrames: 0 });
    expect(statSync(path + "-wal").size).toBe(0);
    await expect(db.checkpoint("SOMETIMES")).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.checkpoint(1 as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await db.close();
  });

  it("should bound a TRUNCATE checkpoint's wait for readers with { timeout }, as the sync checkpoint() does", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { walAutocheckpoint: 0 });
    await db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    // A reader holding a read transaction pins the WAL: TRUNCATE cannot finish while it reads.
    const reader = new HardenedDb(path, { readonly: true });
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM t").get();
    await db.run("INSERT INTO t VALUES (2)");
    const started = Date.now();
    const pinned = await db.checkpoint("TRUNCATE", { timeout: 0 });
    expect(pinned.busy).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000); // not the 5 s busy timeout
    reader.exec("COMMIT");
    reader.close();
    expect((await db.checkpoint("TRUNCATE", { timeout: 100 })).busy).toBe(false);
    await expect(db.checkpoint("TRUNCATE", { timeout: -1 })).rejects.toMatchObject({ name: "RangeError", code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.checkpoint("TRUNCATE", { wait: 1 } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await db.close();
  });

  it("should report a sound file as sound, as the sync handle does", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path);
    await db.exec("CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1), (2)");
    expect(await db.integrityCheck()).toEqual([]);
    expect(await db.integrityCheck({ quick: true })).toEqual([]);
    await expect(db.integrityCheck({ quik: true } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    const sync = new HardenedDb(path, { readonly: true });
    expect(sync.integrityCheck()).toEqual([]);
    sync.close();
    await db.close();
  });

  it("should release free pages with incrementalVacuum and run optimize", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { autoVacuum: "INCREMENTAL" });
    await db.exec("CREATE TABLE t (x); WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 200) INSERT INTO t SELECT randomblob(1000) FROM c; DELETE FROM t");
    const free = (await db.get("PRAGMA freelist_count")) as { freelist_count: number };
    expect(free.freelist_count).toBeGreaterThan(10);
    expect(await db.incrementalVacuum(5)).toBe(5);
    expect(await db.incrementalVacuum()).toBe(free.freelist_count - 5);
    expect(await db.get("PRAGMA freelist_count")).toEqual({ freelist_count: 0 });
    await expect(db.incrementalVacuum(0)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    expect(await db.optimize()).toBeUndefined();
    await db.close();
    await expect(db.optimize()).rejects.toMatchObject({ code: "HARDENED_NOT_OPEN" });
  });

  it("should build the sync health() report off the event loop, with the migrations it was opened with", async () => {
    const path = tmp.path("app.db");
    const migrations = [{ version: 1, name: "init", sql: "CREATE TABLE t (x)" }];
    new HardenedDb(path, { migrations }).close();
    const db = await HardenedDb.openAsync(path, { migrations });
    const report = await db.health({ integrity: "quick" });
    const sync = new HardenedDb(path, { migrations });
    const expected = sync.health({ integrity: "quick" });
    sync.close();
    expect(report.status).toBe("healthy");
    const shape = (r: any) => r.checks.map((c: any) => [c.name, c.ok, c.expected]);
    expect(shape(report)).toEqual(shape(expected));
    expect(report.checks.find((c: any) => c.name === "migrations")).toMatchObject({ ok: true, actual: "version 1, 0 pending" });
    await expect(db.health({ integrity: "sometimes" } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.health({ integrty: "quick" } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await db.close();
  });
});
