// Many processes, one file: real Bun and Node processes sharing a database.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { HardenedDb, SqliteError } from "../index.js";
import { tempDir, exists, expectCountedWrites, BUN, NODE, PACKAGE_ROOT } from "./helpers";

const WORKERS = join(import.meta.dir, "workers");
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-multi")));
afterEach(() => tmp.cleanup());

type Exit = { code: number | null; signal: string | null; stdout: string; stderr: string };

/** Starts `script` in a new Bun or Node process; resolves when it exits. */
function start(runtime: "bun" | "node", script: string, args: (string | number)[]): { done: Promise<Exit>; kill: () => void; onLine: (fn: (line: string) => void) => void } {
  const child = spawn(runtime === "bun" ? BUN : NODE, [join(WORKERS, script), ...args.map(String)], { cwd: PACKAGE_ROOT });
  let stdout = "";
  let stderr = "";
  let partial = "";
  const listeners: ((line: string) => void)[] = [];
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) for (const fn of listeners) fn(line);
  });
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<Exit>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { done, kill: () => child.kill("SIGKILL"), onLine: (fn) => listeners.push(fn) };
}

/** Every process exited 0 without writing to stderr. */
function expectAllSucceeded(results: Exit[]) {
  for (const { code, stderr } of results) expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
}

describe("many writers and readers", () => {
  it("should run 8 writers and 4 readers of read-then-write transactions with zero errors and an exact count", async () => {
    const path = tmp.path("app.db");
    const setup = new HardenedDb(path);
    setup.exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);");
    setup.exec("CREATE TABLE log (writer INTEGER, seq INTEGER, PRIMARY KEY (writer, seq))");
    setup.close();
    const perWriter = 150;
    const writers = Array.from({ length: 8 }, (_, i) => start(i % 2 ? "node" : "bun", "counter-writer.cjs", [path, i, perWriter]));
    const readers = Array.from({ length: 4 }, (_, i) => start(i % 2 ? "node" : "bun", "reader.cjs", [path, 300]));
    const results = await Promise.all([...writers, ...readers].map((p) => p.done));
    expectAllSucceeded(results);
    expectCountedWrites(path, 8 * perWriter);
  }, 120_000);

  it("should open a brand-new database from 16 processes at the same moment", async () => {
    const path = tmp.path("fresh/app.db");
    const startAt = Date.now() + 1500;
    const processes = Array.from({ length: 16 }, (_, i) => start(i % 2 ? "node" : "bun", "cold-start.cjs", [path, startAt, i]));
    const results = await Promise.all(processes.map((p) => p.done));
    expectAllSucceeded(results);
    const db = new HardenedDb(path);
    expect(db.prepare("SELECT count(*) FROM arrivals").pluck().get()).toBe(16);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("auto_vacuum", { simple: true })).toBe(0);
    db.close();
  }, 60_000);
});

describe("opening a database that needs WAL recovery", () => {
  it("should let 16 processes open it at once after its writer was killed", async () => {
    const path = tmp.path("recover.db");
    const writer = start("node", "crash-writer.cjs", [path, 1]);
    let acked = 0;
    writer.onLine(() => {
      if (++acked === 200) writer.kill();
    });
    expect((await writer.done).signal).toBe("SIGKILL");
    expect(exists(path + "-wal")).toBe(true); // nobody checkpointed: the next opener must recover the WAL
    const startAt = Date.now() + 1500;
    const processes = Array.from({ length: 16 }, (_, i) => start(i % 2 ? "node" : "bun", "cold-start.cjs", [path, startAt, i]));
    const results = await Promise.all(processes.map((p) => p.done));
    expectAllSucceeded(results);
    const db = new HardenedDb(path);
    expect(db.prepare("SELECT count(*) FROM arrivals").pluck().get()).toBe(16);
    expect(db.prepare("SELECT count(*) FROM acked").pluck().get() as number).toBeGreaterThanOrEqual(200);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  }, 60_000);
});

describe("a writer killed with SIGKILL", () => {
  it("should lose no acknowledged row over 20 kills, and every reopen passes integrity_check", async () => {
    const path = tmp.path("crash.db");
    let next = 1;
    const acked = new Set<number>();
    for (let round = 0; round < 20; round++) {
      const runtime = round % 2 ? "node" : "bun";
      const writer = start(runtime, "crash-writer.cjs", [path, next]);
      let seen = 0;
      const killAfter = 5 + Math.floor(Math.random() * 60);
      writer.onLine((line) => {
        acked.add(Number(line));
        if (++seen === killAfter) setTimeout(writer.kill, Math.random() * 15);
      });
      const exit = await writer.done;
      expect(exit.signal).toBe("SIGKILL");
      expect(seen).toBeGreaterThanOrEqual(killAfter);
      const db = new HardenedDb(path);
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const ids = new Set(db.prepare("SELECT id FROM acked").pluck().all() as number[]);
      const lost = [...acked].filter((id) => !ids.has(id));
      expect(lost).toEqual([]);
      next = (db.prepare("SELECT max(id) FROM acked").pluck().get() as number) + 1;
      db.close();
    }
    expect(acked.size).toBeGreaterThan(100);
  }, 120_000);
});

describe("disk full", () => {
  it("should throw SQLITE_FULL with the fix, roll the transaction back, and keep earlier commits", () => {
    const db = new HardenedDb(tmp.path("full.db"));
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)");
    const insert = db.prepare("INSERT INTO t (payload) VALUES (randomblob(4000))");
    for (let i = 0; i < 10; i++) insert.run();
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 20}`);
    let error: any;
    try {
      db.transaction(() => { for (let i = 0; i < 100; i++) insert.run(); })();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SqliteError);
    expect(error.code).toBe("SQLITE_FULL");
    expect(error.message).toContain("free space on the disk");
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(10);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });
});

describe("WAL growth", () => {
  it("should keep -wal bounded once a long reader ends and a checkpoint runs", () => {
    const path = tmp.path("wal.db");
    const limit = 256 * 1024;
    const writer = new HardenedDb(path, { journalSizeLimit: limit, walAutocheckpoint: 100 });
    writer.exec("CREATE TABLE t (payload BLOB)");
    const reader = new HardenedDb(path, { readonly: true });
    const insert = writer.prepare("INSERT INTO t VALUES (randomblob(2000))");
    for (let i = 0; i < 10; i++) insert.run();
    const hold = reader.prepare("SELECT payload FROM t").iterate();
    expect(hold.next().done).toBe(false); // an open read transaction pins the WAL
    for (let i = 0; i < 2000; i++) insert.run();
    const grown = statSync(path + "-wal").size;
    expect(grown).toBeGreaterThan(4 * limit);
    hold.return!(undefined);
    expect(writer.pragma("wal_checkpoint(PASSIVE)")).toEqual([{ busy: 0, log: expect.any(Number), checkpointed: expect.any(Number) }]);
    for (let i = 0; i < 10; i++) insert.run(); // the next write restarts the WAL and truncates it to the limit
    expect(statSync(path + "-wal").size).toBeLessThanOrEqual(limit);
    reader.close();
    writer.close();
    expect(exists(path + "-wal")).toBe(false);
  });
});

describe("checkpointInterval", () => {
  it("should truncate -wal to zero once a long reader ends, without any call from the app", async () => {
    const path = tmp.path("wal.db");
    const writer = new HardenedDb(path, { checkpointInterval: 25 });
    writer.exec("CREATE TABLE t (payload BLOB)");
    const insert = writer.prepare("INSERT INTO t VALUES (randomblob(2000))");
    for (let i = 0; i < 10; i++) insert.run();
    const reader = new HardenedDb(path, { readonly: true });
    const hold = reader.prepare("SELECT payload FROM t").iterate();
    expect(hold.next().done).toBe(false);
    for (let i = 0; i < 500; i++) insert.run();
    await Bun.sleep(100);
    expect(statSync(path + "-wal").size).toBeGreaterThan(500 * 2000); // pinned by the reader
    hold.return!(undefined);
    // The timer fires every 25 ms; a loaded machine may delay it, so wait up to 10 s.
    for (let i = 0; i < 400 && statSync(path + "-wal").size > 0; i++) await Bun.sleep(25);
    expect(statSync(path + "-wal").size).toBe(0);
    expect(writer.prepare("SELECT count(*) FROM t").pluck().get()).toBe(510);
    reader.close();
    writer.close();
  });

  it("should refuse a negative interval", () => {
    expect(() => new HardenedDb(":memory:", { checkpointInterval: -1 })).toThrow(RangeError);
  });
});

describe("db.transaction(fn, { retries })", () => {
  /** A connection whose .deferred is really deferred, and another writer, on a table t. */
  function twoConnections() {
    const path = tmp.path("retry.db");
    const db = new HardenedDb(path, { upgradeDeferredBegin: false });
    const other = new HardenedDb(path);
    db.exec("CREATE TABLE t (x)");
    return { db, other };
  }

  it("should re-run the whole callback after SQLITE_BUSY_SNAPSHOT and succeed", () => {
    const { db, other } = twoConnections();
    let runs = 0;
    const readThenWrite = db.transaction(() => {
      runs++;
      const n = db.prepare("SELECT count(*) FROM t").pluck().get() as number;
      if (runs === 1) other.prepare("INSERT INTO t VALUES ('other')").run();
      db.prepare("INSERT INTO t VALUES (?)").run(n);
    }, { retries: 2 }).deferred;
    readThenWrite();
    expect(runs).toBe(2);
    expect(db.prepare("SELECT x FROM t ORDER BY rowid").pluck().all()).toEqual(["other", 1]);
    expect(() => db.transaction(() => {}, { retry: 1 } as never)).toThrow('Unknown transaction option "retry"');
    other.close();
    db.close();
  });

  it("should give up after the retries and rethrow", () => {
    const { db, other } = twoConnections();
    let runs = 0;
    const alwaysConflicting = db.transaction(() => {
      runs++;
      db.prepare("SELECT count(*) FROM t").get();
      other.prepare("INSERT INTO t VALUES (1)").run();
      db.prepare("INSERT INTO t VALUES (2)").run();
    }, { retries: 3 }).deferred;
    expect(() => alwaysConflicting()).toThrow(SqliteError);
    expect(runs).toBe(4);
    other.close();
    db.close();
  });
});

describe("busy handler", () => {
  it("should report the configured busy timeout through db.pragma and let it be changed", () => {
    const db = new HardenedDb(tmp.path("a.db"), { busyTimeout: 750 });
    expect(db.pragma("busy_timeout", { simple: true })).toBe(750);
    expect(db.pragma("busy_timeout")).toEqual([{ timeout: 750 }]);
    db.pragma("busy_timeout = 100");
    expect(db.pragma("busy_timeout", { simple: true })).toBe(100);
    db.close();
  });
});
