// for await (const row of stmt.iterate()) on the async handle: rows in batches
// on one held connection, the same rows as all(), early exits, cancelling.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../../index.js";
import { tempDir } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-iter")));
afterEach(() => tmp.cleanup());

const FILL = "CREATE TABLE t (x INTEGER, s TEXT, b BLOB); WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 1000) INSERT INTO t SELECT v, 'row ' || v, CASE WHEN v % 100 = 0 THEN randomblob(4) END FROM c";

describe("stmt.iterate()", () => {
  it("should yield the rows all() returns, across several batches", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    await db.exec(FILL);
    const stmt = await db.prepare("SELECT x, s, b FROM t WHERE x > :min ORDER BY x");
    const rows: unknown[] = [];
    for await (const row of stmt.iterate({ min: 10 })) rows.push(row);
    expect(rows.length).toBe(990);
    expect(rows).toEqual(await stmt.all({ min: 10 }));
    const big: unknown[] = [];
    for await (const row of stmt.safeIntegers().iterate({ min: 998 })) big.push(row);
    expect(big).toEqual([{ x: 999n, s: "row 999", b: null }, { x: 1000n, s: "row 1000", b: expect.any(Buffer) }]);
    await db.close();
  });

  it("should give the connection back when the loop ends early or throws", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    await db.exec(FILL);
    const stmt = await db.prepare("SELECT x FROM t");
    let seen = 0;
    for await (const _ of stmt.iterate()) if (++seen === 300) break;
    expect(seen).toBe(300);
    // The one reader is free again.
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 1000 });
    const boom = new Error("stop");
    await expect((async () => { for await (const _ of stmt.iterate()) throw boom; })()).rejects.toBe(boom);
    expect(await db.get("SELECT 1 AS one")).toEqual({ one: 1 });
    await db.close();
  });

  it("should run a statement that writes (RETURNING) on the writer", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"));
    await db.exec("CREATE TABLE t (x)");
    const insert = await db.prepare("INSERT INTO t VALUES (?), (?) RETURNING x");
    const rows: unknown[] = [];
    for await (const row of insert.iterate(1, 2)) rows.push(row);
    expect(rows).toEqual([{ x: 1 }, { x: 2 }]);
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 2 });
    await db.close();
  });

  it("should stop with HARDENED_ABORTED when its signal aborts, and refuse what it cannot do", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    await db.exec(FILL);
    const controller = new AbortController();
    const stmt = (await db.prepare("SELECT x FROM t")).withOptions({ signal: controller.signal });
    let seen = 0;
    const error: any = await (async () => {
      for await (const _ of stmt.iterate()) if (++seen === 10) controller.abort();
    })().catch((e) => e);
    expect(error.code).toBe("HARDENED_ABORTED");
    expect(seen).toBe(256);
    expect(await db.get("SELECT 1 AS one")).toEqual({ one: 1 });
    const write = await db.prepare("DELETE FROM t");
    expect(() => write.iterate()).toThrow(expect.objectContaining({ code: "HARDENED_NOT_A_READER" }));
    await expect((async () => { for await (const _ of (await db.prepare("SELECT x FROM nowhere_yet_created")).iterate()); })()).rejects.toBeInstanceOf(Error);
    await db.close();
  });

  it("should iterate inside a transaction, seeing its own writes, in turn with its other requests", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    await db.exec(FILL);
    const total = await db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t (x) VALUES (1001)");
      await tx.exec("CREATE TABLE log_seen (n)");
      const stmt = await tx.prepare("SELECT x FROM t ORDER BY x");
      let count = 0;
      let last = 0;
      for await (const row of stmt.iterate()) {
        count++;
        last = row.x;
        // Another request of the transaction between two batches.
        if (count === 300) await tx.run("INSERT INTO log_seen VALUES (?)", count);
      }
      expect(last).toBe(1001);
      // Left early: the statement is finalized before COMMIT.
      for await (const _ of stmt.safeIntegers().iterate()) break;
      return count;
    });
    expect(total).toBe(1001);
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 1001 });
    expect(await db.get("SELECT n FROM log_seen")).toEqual({ n: 300 });
    await db.close();
  });
});
