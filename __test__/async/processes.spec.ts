// The async handle with real processes, under Bun and Node: the event loop
// stays free while another process holds the write lock, and read-then-write
// transactions from several processes keep a counter exact.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { HardenedDb } from "../../index.js";
import { tempDir, expectCountedWrites, BUN, NODE, PACKAGE_ROOT } from "../helpers";

const WORKERS = join(import.meta.dir, "..", "workers");
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-proc")));
afterEach(() => tmp.cleanup());

type Exit = { code: number | null; stdout: string; stderr: string };

/** Starts `script` in a new Bun or Node process; `started` resolves at its first output line. */
function start(runtime: "bun" | "node", script: string, args: (string | number)[]) {
  const child = spawn(runtime === "bun" ? BUN : NODE, [join(WORKERS, script), ...args.map(String)], { cwd: PACKAGE_ROOT });
  let stdout = "";
  let stderr = "";
  let onLine: (() => void) | undefined;
  const started = new Promise<void>((resolve) => (onLine = resolve));
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    if (stdout.includes("\n")) onLine?.();
  });
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<Exit>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  done.then(() => clearTimeout(timer));
  return { started, done };
}

function createSchema(path: string) {
  const db = new HardenedDb(path);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v);
           CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);
           CREATE TABLE log (writer INTEGER, seq INTEGER, PRIMARY KEY (writer, seq))`);
  db.close();
}

describe("another process holds the write lock", () => {
  for (const runtime of ["bun", "node"] as const) {
    it(`should keep serving reads on ${runtime} while a write waits for the lock off the event loop`, async () => {
      const path = tmp.path("app.db");
      createSchema(path);
      const holder = start("node", "lock-holder.cjs", [path, 2000]);
      await holder.started;
      const server = start(runtime, "async-loop-delay.cjs", [path, 1000]);
      const [held, served] = await Promise.all([holder.done, server.done]);
      expect({ code: held.code, stderr: held.stderr }).toEqual({ code: 0, stderr: "" });
      expect({ code: served.code, stderr: served.stderr }).toEqual({ code: 0, stderr: "" });
      const result = JSON.parse(served.stdout);
      expect(result.reads).toBe(1000);
      expect(result.writeDone).toBe(true);
      // The write waited for the lock on a pool thread, so the reads were served first.
      expect(result.writeDoneBeforeReads).toBe(false);
      // Loose: a sync handle would block the loop for the whole hold (about 2 s).
      expect(result.maxDelayMs).toBeLessThan(1000);
      const db = new HardenedDb(path);
      expect(db.prepare("SELECT v FROM t ORDER BY id").pluck().all()).toEqual(["holder", "async"]);
      db.close();
    }, 120_000);
  }
});

describe("async transactions from several processes", () => {
  it("should keep read-then-write counters exact across 8 Bun and Node processes", async () => {
    const path = tmp.path("app.db");
    createSchema(path);
    const perProcess = 40;
    const workers = Array.from({ length: 8 }, (_, i) => start(i % 2 ? "node" : "bun", "async-counter.cjs", [path, i, perProcess]));
    const results = await Promise.all(workers.map((w) => w.done));
    for (const { code, stderr } of results) expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expectCountedWrites(path, 8 * perProcess);
  }, 120_000);
});

describe("a crash mid-transaction", () => {
  for (const runtime of ["bun", "node"] as const) {
    it(`should lose no acknowledged transaction when ${runtime} is killed (SIGKILL)`, async () => {
      const path = tmp.path("app.db");
      const db = new HardenedDb(path);
      db.exec("CREATE TABLE acked (id INTEGER PRIMARY KEY, pad BLOB)");
      db.close();
      const child = spawn(runtime === "bun" ? BUN : NODE, [join(WORKERS, "async-crash-writer.cjs"), path, 100_000], { cwd: PACKAGE_ROOT });
      let out = "";
      const killed = new Promise<void>((resolve) => {
        child.stdout.on("data", (chunk) => {
          out += chunk;
          if (out.split("\n").length > 300) child.kill("SIGKILL");
        });
        child.on("close", () => resolve());
      });
      const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
      await killed;
      clearTimeout(guard);
      const acknowledged = out.split("\n").filter((line) => /^\d+$/.test(line)).map(Number);
      expect(acknowledged.length).toBeGreaterThanOrEqual(300);
      const after = new HardenedDb(path);
      const ids = new Set(after.prepare("SELECT id FROM acked").pluck().all() as number[]);
      expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
      // Nothing but whole transactions: the ids are 1..n without a gap.
      expect(ids.size).toBeGreaterThanOrEqual(acknowledged.length);
      expect(Math.max(...ids)).toBe(ids.size);
      expect(after.pragma("integrity_check", { simple: true })).toBe("ok");
      after.close();
    }, 120_000);
  }
});

describe("process exit", () => {
  for (const runtime of ["bun", "node"] as const) {
    it(`should close an async handle left open at exit under ${runtime}, removing -wal, even with a query running`, async () => {
      const path = tmp.path("app.db");
      const code = `const { HardenedDb } = require('./index.js');
        (async () => {
          const db = await HardenedDb.openAsync(${JSON.stringify(path)});
          await db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
          db.get('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000000000) SELECT count(*) FROM c').catch(() => {});
          setTimeout(() => process.exit(0), 100);
        })();`;
      const child = spawn(runtime === "bun" ? BUN : NODE, ["-e", code], { cwd: PACKAGE_ROOT });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const status = await new Promise((resolve) => child.on("close", resolve));
      expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
      expect(existsSync(path + "-wal")).toBe(false);
      const db = new HardenedDb(path);
      expect(db.prepare("SELECT x FROM t").pluck().all()).toEqual([1]);
      db.close();
    }, 60_000);
  }
});

describe("closeOnSignal", () => {
  it("should close the async handle on SIGTERM (removing -wal) and end by the signal", async () => {
    const path = tmp.path("app.db");
    const code = `const { HardenedDb } = require('./index.js');
      (async () => {
        const db = await HardenedDb.openAsync(${JSON.stringify(path)}, { closeOnSignal: true });
        await db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
        console.log('ready');
        setInterval(() => {}, 1000);
      })();`;
    const child = spawn(NODE, ["-e", code], { cwd: PACKAGE_ROOT });
    const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.on("data", (chunk) => String(chunk).includes("ready") && child.kill("SIGTERM"));
    const signal = await new Promise((resolve) => child.on("close", (_code, sig) => resolve(sig)));
    clearTimeout(guard);
    expect(signal).toBe("SIGTERM");
    expect(existsSync(path + "-wal")).toBe(false);
  }, 60_000);
});
