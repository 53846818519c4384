// One process holding the sync and the async handle on the same file: a sync
// write that waits for the lock of this thread's own async transaction fails
// at once with HARDENED_ASYNC_DEADLOCK instead of stalling busyTimeout.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, HardenedDbError } from "../../index.js";
import { spawn } from "node:child_process";
import { tempDir, runScript, NODE, PACKAGE_ROOT } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-mixed")));
afterEach(() => tmp.cleanup());

/** The scenario, as the body of an async function of `HardenedDb` and `path`; returns what it saw. */
const SCENARIO = `
  const db = await HardenedDb.openAsync(path, { migrations: [{ version: 1, name: 'init', sql: 'CREATE TABLE t (v)' }] });
  // A busy timeout far beyond the test's own timeout: only failing fast lets the call return.
  const sync = new HardenedDb(path, { busyTimeout: 600000 });
  const seen = {};
  await db.transaction(async (tx) => {
    await tx.run("INSERT INTO t VALUES ('async')");
    try {
      sync.prepare("INSERT INTO t VALUES ('sync')").run();
      seen.sync = 'ran';
    } catch (error) {
      seen.sync = error.code;
      seen.className = error.constructor.name;
      seen.cause = error.cause && error.cause.code;
      seen.mentionsFix = /through the async handle/.test(error.message);
    }
    // Reads of the sync handle never wait for the lock.
    seen.syncRead = sync.prepare('SELECT count(*) AS n FROM t').get().n;
  });
  // After the transaction the sync write goes through.
  sync.prepare("INSERT INTO t VALUES ('sync after')").run();
  seen.rows = sync.prepare('SELECT v FROM t ORDER BY rowid').all().map((r) => r.v);
  sync.close();
  await db.close();
  return seen;
`;

const EXPECTED = {
  sync: "HARDENED_ASYNC_DEADLOCK",
  className: "HardenedDbError",
  cause: "SQLITE_BUSY",
  mentionsFix: true,
  syncRead: 0,
  rows: ["async", "sync after"],
};

describe("a sync write waiting for this thread's async transaction", () => {
  it("should fail fast with HARDENED_ASYNC_DEADLOCK under Bun", async () => {
    const run = new Function("HardenedDb", "path", `return (async () => {${SCENARIO}})()`);
    expect(await run(HardenedDb, tmp.path("app.db"))).toEqual(EXPECTED);
    expect(HardenedDbError).toBeDefined();
  }, 30_000);

  it("should fail fast with HARDENED_ASYNC_DEADLOCK under Node", () => {
    const code = `const { HardenedDb } = require('./index.js');
      (async () => { const seen = await (async (path) => {${SCENARIO}})(${JSON.stringify(tmp.path("app.db"))}); console.log(JSON.stringify(seen)); })()
        .catch((e) => { console.error(e); process.exitCode = 1; });`;
    const { status, stdout, stderr } = runScript(code, "node");
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual(EXPECTED);
  }, 60_000);

  it("should let a sync write of another process wait for the transaction as usual", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { migrations: [{ version: 1, name: "init", sql: "CREATE TABLE t (v)" }] });
    const other = `const { HardenedDb } = require('./index.js'); const db = new HardenedDb(${JSON.stringify(path)});
      console.log('started'); db.prepare("INSERT INTO t VALUES ('other')").run(); db.close(); console.log('done')`;
    let exited: Promise<{ code: number | null; out: string }> | undefined;
    await db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t VALUES ('async')");
      const child = spawn(NODE, ["-e", other], { cwd: PACKAGE_ROOT });
      let out = "";
      const started = new Promise<void>((resolve) => child.stdout.on("data", (chunk) => { out += chunk; if (out.includes("started")) resolve(); }));
      exited = new Promise((resolve) => child.on("close", (code) => resolve({ code, out })));
      await started;
      // The child's write now waits for this transaction's lock (its busy timeout is 5 s).
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    const { code, out } = await exited!;
    expect({ code, out: out.trim().split("\n") }).toEqual({ code: 0, out: ["started", "done"] });
    expect(await db.all("SELECT v FROM t ORDER BY rowid")).toEqual([{ v: "async" }, { v: "other" }]);
    await db.close();
  }, 60_000);
});
