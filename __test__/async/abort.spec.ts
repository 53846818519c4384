// Cancelling requests of the async handle: an AbortSignal or a timeout
// interrupts a running statement (sqlite3_interrupt) or keeps a queued one
// from starting; the request rejects with HARDENED_ABORTED.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, HardenedDbError } from "../../index.js";
import { tempDir } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-abort")));
afterEach(() => tmp.cleanup());

/** A query that runs for minutes unless interrupted. */
const LONG = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000000000) SELECT count(*) AS n FROM c";

describe("AbortSignal and timeouts", () => {
  it("should interrupt a running read when its signal aborts, and keep the reader usable", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    const stmt = await db.prepare(LONG);
    const controller = new AbortController();
    const running = stmt.withOptions({ signal: controller.signal }).get();
    setTimeout(() => controller.abort(new Error("user left")), 50);
    const error: any = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_ABORTED");
    expect(error.cause.message).toBe("user left");
    expect(await db.get("SELECT 42 AS answer")).toEqual({ answer: 42 });
    await db.close();
  });

  it("should cancel a statement that runs past its timeout", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    const stmt = (await db.prepare(LONG)).withOptions({ timeout: 50 });
    const error: any = await stmt.get().catch((e: unknown) => e);
    expect(error.code).toBe("HARDENED_ABORTED");
    expect(error.message).toContain("timeout");
    await db.close();
  });

  it("should not start a queued request whose signal aborted, nor one aborted before the call", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { readers: 1 });
    await db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    const long = new AbortController();
    const queuedController = new AbortController();
    // Both prepared first: prepare() needs the one reader too.
    const longStmt = (await db.prepare(LONG)).withOptions({ signal: long.signal, timeout: 30_000 });
    const select = (await db.prepare("SELECT x FROM t")).withOptions({ signal: queuedController.signal });
    const blocker = longStmt.get();
    const queued = select.all();
    queuedController.abort();
    expect(((await queued.catch((e: unknown) => e)) as any).code).toBe("HARDENED_ABORTED");
    long.abort();
    expect(((await blocker.catch((e: unknown) => e)) as any).code).toBe("HARDENED_ABORTED");
    const write = (await db.prepare("INSERT INTO t VALUES (2)")).withOptions({ signal: AbortSignal.abort() });
    expect(((await write.run().catch((e: unknown) => e)) as any).code).toBe("HARDENED_ABORTED");
    expect(await db.all("SELECT x FROM t")).toEqual([{ x: 1 }]);
    await db.close();
  });

  it("should undo an interrupted write", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"));
    await db.exec("CREATE TABLE t (x)");
    const fill = (await db.prepare(`INSERT INTO t ${LONG.replace("SELECT count(*) AS n FROM c", "SELECT x FROM c")}`)).withOptions({ timeout: 100 });
    expect(((await fill.run().catch((e: unknown) => e)) as any).code).toBe("HARDENED_ABORTED");
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 0 });
    await db.close();
  });

  it("should check the request options", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"));
    const stmt = await db.prepare("SELECT 1");
    expect(() => stmt.withOptions({ timeout: 0 })).toThrow(expect.objectContaining({ code: "HARDENED_INVALID_OPTION" }));
    expect(() => stmt.withOptions({ signal: {} as any })).toThrow(expect.objectContaining({ code: "HARDENED_INVALID_OPTION" }));
    expect(() => stmt.withOptions({ sigal: 1 } as any)).toThrow(expect.objectContaining({ code: "HARDENED_INVALID_OPTION" }));
    await db.close();
  });
});
