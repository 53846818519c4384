// close() while a `for await (... of stmt.iterate())` loop runs: the loop is ended
// (not waited for): its next row throws HARDENED_NOT_OPEN, its statement is
// finalized, work accepted before close() still runs, and close() never hangs.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../../index.js";
import { tempDir, exists, readOnly } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-iter-close")));
afterEach(() => tmp.cleanup());

const FILL = "CREATE TABLE t (x INTEGER); WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 1000) INSERT INTO t SELECT v FROM c";

const countIn = (path: string, table: string) => readOnly(path, (db) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());

describe("close() during stmt.iterate()", () => {
  it("should end a loop that calls close() itself, without waiting for it: the next row throws HARDENED_NOT_OPEN", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { readers: 1 });
    await db.exec(FILL);
    const stmt = await db.prepare("SELECT x FROM t ORDER BY x");
    const seen: number[] = [];
    const error: any = await (async () => {
      for await (const row of stmt.iterate()) {
        seen.push(row.x);
        // Awaited inside the loop: close() must not wait for this loop to end.
        if (seen.length === 10) await db.close();
      }
    })().catch((e) => e);
    expect(error).toMatchObject({ name: "TypeError", code: "HARDENED_NOT_OPEN", message: expect.stringContaining("for await loop") });
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(db.open).toBe(false);
    // Every connection closed: the last one removed -wal.
    expect(exists(path + "-wal")).toBe(false);
    expect(countIn(path, "t")).toBe(1000);
  });

  it("should end a suspended loop so close() resolves, and fail a loop still waiting for its connection", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { readers: 1 });
    await db.exec(FILL);
    const stmt = await db.prepare("SELECT x FROM t ORDER BY x");
    const held = stmt.iterate()[Symbol.asyncIterator]();
    expect((await held.next()).value).toEqual({ x: 1 });
    // A second loop waits for the one reader, which the first holds.
    const waiting = stmt.iterate()[Symbol.asyncIterator]().next().catch((e) => e);
    const read = db.get("SELECT count(*) AS n FROM t");
    // The first loop is never resumed; close() ends it and still runs the read accepted before it.
    await db.close();
    expect(await read).toEqual({ n: 1000 });
    expect(await waiting).toMatchObject({ code: "HARDENED_NOT_OPEN" });
    await expect(held.next()).rejects.toMatchObject({ code: "HARDENED_NOT_OPEN" });
    expect(await held.next()).toEqual({ done: true, value: undefined });
    expect(exists(path + "-wal")).toBe(false);
  });

  it("should keep what a writing statement (RETURNING) did, and run the write queued behind its loop", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path);
    await db.exec(FILL + "; CREATE TABLE u (x INTEGER)");
    const copy = await db.prepare("INSERT INTO u SELECT x FROM t RETURNING x");
    let queued: Promise<unknown> | undefined;
    let closed: Promise<void> | undefined;
    let seen = 0;
    const error: any = await (async () => {
      for await (const _ of copy.iterate()) {
        // Queued on the writer behind this loop, before close(): it must still run.
        if (++seen === 1) queued = db.run("INSERT INTO u VALUES (-1)");
        if (seen === 5) closed = db.close();
      }
    })().catch((e) => e);
    expect(error).toMatchObject({ code: "HARDENED_NOT_OPEN" });
    expect(seen).toBe(5);
    await closed;
    expect(await queued).toMatchObject({ changes: 1 });
    // SQLite makes every change of a RETURNING statement in its first step: all 1,000 rows are there.
    expect(countIn(path, "u")).toBe(1001);
  });
});
