// Option `replication` and bounded checkpoints, without Litestream running:
// what the option sets and refuses, checkpoints that never hold the write lock
// longer than their timeout, and the health checks of a replicator that is not there.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn } from "node:child_process";
import { HardenedDb } from "../index.js";
import { spawnSync } from "node:child_process";
import { tempDir, NODE, PACKAGE_ROOT } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-replication")));
afterEach(() => tmp.cleanup());

const invalid = (code = "HARDENED_INVALID_OPTION") => expect.objectContaining({ code });

describe('option replication: "litestream"', () => {
  it("should leave the WAL to the replicator: no autocheckpoint, no -wal truncation", () => {
    const db = new HardenedDb(tmp.path("app.db"), { replication: "litestream" });
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    expect(db.pragma("journal_size_limit", { simple: true })).toBe(-1);
    db.close();
    const plain = new HardenedDb(tmp.path("plain.db"), { replication: "none" });
    expect(plain.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    expect(plain.pragma("journal_size_limit", { simple: true })).toBe(67108864);
    plain.close();
  });

  it("should refuse options that fight the replicator, and unknown names", () => {
    const path = tmp.path("app.db");
    expect(() => new HardenedDb(path, { replication: "litestream", walAutocheckpoint: 1000 })).toThrow(invalid());
    expect(() => new HardenedDb(path, { replication: "litestream", journalSizeLimit: 1 << 20 })).toThrow(invalid());
    expect(() => new HardenedDb(path, { replication: "litestream", checkpointInterval: 1000 })).toThrow(/checkpointInterval.*contradict/);
    expect(() => new HardenedDb(path, { replication: "litefs" as any })).toThrow(/must be one of none, litestream/);
    expect(() => new HardenedDb(path, { replication: 1 as any })).toThrow(expect.objectContaining({ name: "TypeError", code: "HARDENED_INVALID_OPTION" }));
    expect(() => new HardenedDb(path, { replicaton: "litestream" } as any)).toThrow('did you mean "replication"?');
    const explicit = new HardenedDb(path, { replication: "litestream", walAutocheckpoint: 0, journalSizeLimit: -1 });
    expect(explicit.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    explicit.close();
  });

  it("should report busy at once for TRUNCATE while a reader holds the WAL, keeping the busy timeout", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { replication: "litestream" });
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const reader = new HardenedDb(path);
    const rows = reader.prepare("SELECT x FROM t").iterate();
    rows.next(); // an open read transaction, as Litestream keeps one
    db.exec("INSERT INTO t VALUES (2)");
    expect(db.checkpoint("TRUNCATE").busy).toBe(true);
    expect(db.checkpoint("RESTART", { timeout: 5000 }).busy).toBe(true); // the option wins over a timeout
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    rows.return!();
    expect(db.checkpoint("TRUNCATE")).toEqual({ busy: false, walFrames: 0, checkpointedFrames: 0 });
    reader.close();
    db.close();
  });

  it("should warn in health() once the -wal outgrows Litestream's checkpoint point with no replicator reading", () => {
    const db = new HardenedDb(tmp.path("app.db"), { replication: "litestream" });
    db.exec("CREATE TABLE t(x)");
    // Litestream's tables are expected, not a problem; a small -wal is no sign of trouble yet.
    db.exec("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER); CREATE TABLE _litestream_lock (id INTEGER)");
    const early = db.health();
    expect(early.status).toBe("healthy");
    const running = early.checks.find((c) => c.name === "replication.running")!;
    expect(running.actual).toMatch(/^no other process holds a WAL read lock, -wal \d+ bytes, Litestream's tables: _litestream_seq, _litestream_lock$/);
    expect(early.checks.find((c) => c.name === "wal_size")!.expected).toMatch(/^<= \d+ bytes \(Litestream's TRUNCATE threshold\)$/);
    // 1,100 pages of rows: past the 1,000 pages at which a running Litestream checkpoints.
    db.transaction(() => { for (let i = 0; i < 1100; i++) db.prepare("INSERT INTO t VALUES (randomblob(4000))").run(); })();
    const late = db.health();
    expect(late.status).toBe("degraded");
    const failed = late.checks.filter((c) => !c.ok);
    expect(failed.map((c) => [c.name, c.severity])).toEqual([["replication.running", "warning"]]);
    expect(failed[0].fix).toContain("litestream replicate");
    db.close();
  });
});

describe("db.checkpoint(mode, { timeout })", () => {
  it("should validate the timeout", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    expect(() => db.checkpoint("TRUNCATE", { timeout: -1 })).toThrow(expect.objectContaining({ name: "RangeError", code: "HARDENED_INVALID_ARGUMENT" }));
    expect(() => db.checkpoint("TRUNCATE", { timeout: "1" as any })).toThrow(expect.objectContaining({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" }));
    expect(() => db.checkpoint("TRUNCATE", { wait: 1 } as any)).toThrow(/Unknown checkpoint option/);
    expect(db.checkpoint("TRUNCATE", { timeout: 0 }).busy).toBe(false);
    db.close();
  });

  /** Resolves once another connection holds the write lock of `path` (polls for at most 10 s). */
  async function writeLockTaken(path: string) {
    const probe = new HardenedDb(path, { busyTimeout: 0 });
    try {
      for (let i = 0; i < 400; i++) {
        try {
          probe.exec("BEGIN IMMEDIATE; ROLLBACK");
        } catch (error: any) {
          if (error.code === "SQLITE_BUSY") return;
          throw error;
        }
        await Bun.sleep(25);
      }
      throw new Error(`nothing took the write lock of ${path} within 10 s`);
    } finally {
      probe.close();
    }
  }

  /**
   * A RESTART in another process waits for this process's reader while holding the write
   * lock for `checkpointTimeout` ms; a write with `writerTimeout` ms of patience meanwhile.
   */
  async function writeDuringCheckpoint(checkpointTimeout: number | undefined, writerTimeout: number) {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const rows = db.prepare("SELECT x FROM t").iterate();
    rows.next();
    const options = checkpointTimeout === undefined ? "" : JSON.stringify({ timeout: checkpointTimeout });
    const code = `const { HardenedDb } = require('./index.js'); const db = new HardenedDb(${JSON.stringify(path)});
      console.log('start'); console.log(JSON.stringify(db.checkpoint('RESTART'${options ? `, ${options}` : ""})));`;
    const child = spawn(NODE, ["-e", code], { cwd: PACKAGE_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    for (let i = 0; i < 200 && !out.includes("start"); i++) await Bun.sleep(25);
    await writeLockTaken(path); // the checkpoint holds it while it waits for the reader
    const writer = new HardenedDb(path, { busyTimeout: writerTimeout });
    let outcome: string;
    try {
      writer.exec("INSERT INTO t VALUES (2)");
      outcome = "written";
    } catch (error: any) {
      outcome = error.code;
    }
    writer.close();
    await exited;
    rows.return!();
    db.close();
    return { outcome, checkpoint: JSON.parse(out.split("\n")[1]) };
  }

  it("should hold the write lock no longer than its default timeout, so a patient writer gets through", async () => {
    const { outcome, checkpoint } = await writeDuringCheckpoint(undefined, 4000);
    expect(checkpoint.busy).toBe(true);
    expect(outcome).toBe("written");
  });

  it("should block a writer whose patience is shorter than an explicit, longer timeout", async () => {
    const { outcome, checkpoint } = await writeDuringCheckpoint(3000, 300);
    expect(checkpoint.busy).toBe(true);
    expect(outcome).toBe("SQLITE_BUSY");
  });
});

describe("the CLI's --timeout and --replication", () => {
  const cli = (args: string[]) => spawnSync(NODE, [`${PACKAGE_ROOT}/bin/hardened-sqlite.js`, ...args], { encoding: "utf8", timeout: 60_000 });

  it("should run bounded checkpoints and refuse bad values", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)").close();
    const done = cli(["checkpoint", path, "--mode", "truncate", "--timeout", "0", "--json"]);
    expect(done.status).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual({ busy: false, walFrames: 0, checkpointedFrames: 0, walBytes: 0 });
    const replicated = cli(["checkpoint", path, "--mode", "restart", "--replication", "litestream", "--json"]);
    expect(replicated.status).toBe(0); // no replicator reading: the RESTART runs, with no wait
    expect(JSON.parse(replicated.stdout).busy).toBe(false);
    const vacuum = cli(["vacuum", path, "--replication", "litestream", "--json"]);
    expect(vacuum.status).toBe(0);
    expect(JSON.parse(vacuum.stdout).checkpointBusy).toBe(false);
    const badTimeout = cli(["checkpoint", path, "--mode", "truncate", "--timeout", "soon"]);
    expect(badTimeout.status).toBe(64);
    expect(badTimeout.stderr).toContain("--timeout takes a whole number of milliseconds");
    const badName = cli(["doctor", path, "--replication", "litefs"]);
    expect(badName.status).toBe(2);
    expect(badName.stdout).toContain("HARDENED_INVALID_OPTION");
  });
});
