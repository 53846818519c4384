// Maintenance: checkpoints, online backups under a concurrent writer,
// integrity checks, incremental vacuum, optimize, close and closeOnSignal.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync, readFileSync, readdirSync, statSync, existsSync, lstatSync, mkdirSync, symlinkSync, linkSync, openSync, writeSync, closeSync } from "node:fs";
import { HardenedDb, HardenedDbError, SqliteError } from "../index.js";
import { tempDir, modeOf, exists, runScript, readOnly, BUN, NODE, PACKAGE_ROOT } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-maint")));
afterEach(() => tmp.cleanup());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `code` in a separate process; resolves its exit once it ends. */
function start(code: string, runtime: "bun" | "node" = "bun") {
  const child = spawn(runtime === "bun" ? BUN : NODE, ["-e", code], { cwd: PACKAGE_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const output = async (text: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!stdout.includes(text)) {
      if (Date.now() > deadline) throw new Error(`no "${text}" from the child; stderr: ${stderr}`);
      await sleep(10);
    }
  };
  return { child, exited, output };
}

/** Rows of table `t` in the database at `path`: count, lowest and highest id. */
function rowsOf(path: string) {
  return readOnly(path, (db) => ({
    ...db.prepare("SELECT count(*) AS count, min(id) AS lo, max(id) AS hi FROM t").get(),
    problems: db.integrityCheck(),
  }));
}

function corruptIndex(path: string) {
  const db = new HardenedDb(path);
  db.exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c TEXT); CREATE INDEX i ON t(b)");
  const insert = db.prepare("INSERT INTO t (b, c) VALUES (?, ?)");
  for (let i = 0; i < 20; i++) insert.run(`b${i}`, `c${100 - i}`);
  // The index now claims to cover column c, while its entries hold column b.
  db.unsafeMode().exec("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE INDEX i ON t(c)' WHERE name = 'i'; PRAGMA writable_schema = OFF");
  db.close();
}

describe("db.checkpoint(mode)", () => {
  it("should empty the -wal with TRUNCATE and report the frames", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { walAutocheckpoint: 0 });
    db.exec("CREATE TABLE t(x)");
    for (let i = 0; i < 10; i++) db.prepare("INSERT INTO t VALUES (randomblob(3000))").run();
    expect(db.walSize()).toBeGreaterThan(10 * 3000);
    expect(db.walSize()).toBe(statSync(path + "-wal").size);
    const passive = db.checkpoint();
    expect(passive.busy).toBe(false);
    expect(passive.walFrames).toBeGreaterThan(10);
    expect(passive.checkpointedFrames).toBe(passive.walFrames);
    expect(db.walSize()).toBeGreaterThan(0);
    expect(db.checkpoint("TRUNCATE")).toEqual({ busy: false, walFrames: 0, checkpointedFrames: 0 });
    expect(statSync(path + "-wal").size).toBe(0);
    expect(db.walSize()).toBe(0);
    db.close();
  });

  it("should accept every mode in any case and refuse others", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    for (const mode of ["PASSIVE", "full", "Restart", "truncate"]) expect(db.checkpoint(mode).busy).toBe(false);
    expect(() => db.checkpoint("SOMETIMES")).toThrow(expect.objectContaining({ name: "RangeError", code: "HARDENED_INVALID_ARGUMENT" }));
    expect(() => db.checkpoint(3 as any)).toThrow(expect.objectContaining({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" }));
    db.close();
  });
});

describe("db.backup(destination)", () => {
  it("should take a consistent, verified 0600 snapshot while another process keeps inserting", async () => {
    const path = tmp.path("app.db");
    const stop = tmp.path("stop");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    const writer = start(`
      const { HardenedDb } = require('./index.js');
      const { existsSync } = require('node:fs');
      const db = new HardenedDb(${JSON.stringify(path)});
      const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, randomblob(500))');
      let n = 0;
      while (!existsSync(${JSON.stringify(stop)})) {
        insert.run(++n);
        if (n === 300) console.log('ready');
      }
      db.close();
      console.log(JSON.stringify({ rows: n }));
    `);
    await writer.output("ready");
    mkdirSync(tmp.path("backups"));
    const counts: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const dest = tmp.path(`backups/app-${i}.db`);
      const result = await db.backup(dest);
      expect(result.path).toBe(dest);
      expect(result.remainingPages).toBe(0);
      expect(result.totalPages).toBeGreaterThan(0);
      expect(result.bytes).toBe(statSync(dest).size);
      expect(result.bytes).toBe(result.totalPages * 4096);
      expect(modeOf(dest)).toBe(0o600);
      const rows = rowsOf(dest);
      expect(rows.problems).toEqual([]);
      expect(rows.lo).toBe(1);
      expect(rows.hi).toBe(rows.count);
      counts.push(rows.count);
      await sleep(50);
    }
    writeFileSync(stop, "");
    const exit = await writer.exited;
    expect(exit.code).toBe(0);
    const written = JSON.parse(exit.stdout.trim().split("\n").pop()!).rows;
    expect(counts[0]).toBeGreaterThanOrEqual(300);
    expect(counts[3]).toBeGreaterThan(counts[0]);
    expect(written).toBeGreaterThan(counts[3]);
    expect(readdirSync(tmp.path("backups")).sort()).toEqual(["app-1.db", "app-2.db", "app-3.db", "app-4.db"]);
    db.close();
  }, 60_000);

  it("should replace an older database by default, refuse another file unless overwrite is set, and anything with overwrite: false", async () => {
    const db = new HardenedDb(tmp.path("app.db"));
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const dest = tmp.path("copy.db");
    writeFileSync(dest, "keep me");
    const error: any = await db.backup(dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqliteError);
    expect(error.code).toBe("SQLITE_NOTADB");
    expect(error.message).toContain("{ overwrite: true }");
    expect(readFileSync(dest, "utf8")).toBe("keep me");
    const refused: any = await db.backup(dest, { overwrite: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HardenedDbError);
    expect(refused.code).toBe("HARDENED_BACKUP_EXISTS");
    expect(refused.message).toContain("{ overwrite: true }");
    expect(readFileSync(dest, "utf8")).toBe("keep me");
    await db.backup(dest, { overwrite: true });
    db.exec("INSERT INTO t VALUES (2)");
    await db.backup(dest);
    const copy = new HardenedDb(dest, { readonly: true });
    expect(copy.prepare("SELECT x FROM t").pluck().all()).toEqual([1, 2]);
    copy.close();
    expect((await db.backup(dest, { overwrite: false }).catch((e: any) => e)).code).toBe("HARDENED_BACKUP_EXISTS");
    db.close();
  });

  it("should refuse the database itself, a directory and bad arguments", async () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    expect((await db.backup(path).catch((e: any) => e)).code).toBe("HARDENED_BACKUP_DESTINATION");
    expect((await db.backup(tmp.dir).catch((e: any) => e)).code).toBe("HARDENED_PATH_IS_DIRECTORY");
    expect(await db.backup(42 as any).catch((e: any) => e)).toMatchObject({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" });
    expect(await db.backup(tmp.path("b.db"), { overwrit: true } as any).catch((e: any) => e)).toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    db.close();
  });

  it("should refuse at once inside a transaction, and work after COMMIT", async () => {
    const path = tmp.path("app.db");
    const dest = tmp.path("copy.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
    const error: any = await db.backup(dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe("HARDENED_IN_TRANSACTION");
    expect(error.message).toContain("after COMMIT");
    expect(db.inTransaction).toBe(true);
    expect(exists(dest)).toBe(false);
    db.exec("COMMIT");
    await db.backup(dest);
    const copy = new HardenedDb(dest, { readonly: true });
    expect(copy.prepare("SELECT x FROM t").pluck().all()).toEqual([1]);
    copy.close();
    db.close();
  });

  it("should refuse, even with overwrite, a FIFO, a symlink to one or to a directory, and leave them as they were", async () => {
    const db = new HardenedDb(tmp.path("app.db"));
    const fifo = tmp.path("fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    symlinkSync(fifo, tmp.path("to-fifo"));
    mkdirSync(tmp.path("dir"));
    symlinkSync(tmp.path("dir"), tmp.path("to-dir"));
    for (const dest of [fifo, tmp.path("to-fifo")]) {
      const error: any = await db.backup(dest, { overwrite: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HardenedDbError);
      expect(error.code).toBe("HARDENED_BACKUP_DESTINATION");
      expect(error.message).toContain(`${dest} is a FIFO, not a regular file`);
    }
    expect((await db.backup(tmp.path("to-dir"), { overwrite: true }).catch((e: any) => e)).code).toBe("HARDENED_PATH_IS_DIRECTORY");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(tmp.path("to-fifo")).isSymbolicLink()).toBe(true);
    expect(lstatSync(tmp.path("to-dir")).isSymbolicLink()).toBe(true);
    db.close();
  });

  it("should refuse, even with overwrite, the database, its -wal, -shm and -journal, and another open database", async () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const other = new HardenedDb(tmp.path("other.db"));
    other.exec("CREATE TABLE o(y); INSERT INTO o VALUES (2)");
    symlinkSync(path, tmp.path("link.db"));
    linkSync(path + "-wal", tmp.path("hard-wal"));
    const cases: [string, string][] = [
      [path, "is the database"],
      [tmp.path("link.db"), "is the database"],
      [path + "-wal", "is the -wal of the database"],
      [tmp.path("hard-wal"), "is the -wal of the database"],
      [path + "-shm", "is the -shm of the database"],
      [path + "-journal", "is the -journal of the database"],
      [tmp.path("other.db"), "is the database"],
      [tmp.path("other.db-wal"), "is the -wal of the database"],
    ];
    for (const [dest, why] of cases) {
      const error: any = await db.backup(dest, { overwrite: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HardenedDbError);
      expect(error.code).toBe("HARDENED_BACKUP_DESTINATION");
      expect(error.message).toContain(`${dest} ${why}`);
    }
    expect(exists(path + "-journal")).toBe(false);
    db.exec("INSERT INTO t VALUES (3)");
    other.exec("INSERT INTO o VALUES (4)");
    const reader = new HardenedDb(path, { readonly: true });
    expect(reader.prepare("SELECT x FROM t").pluck().all()).toEqual([1, 3]);
    reader.close();
    other.close();
    await db.backup(tmp.path("other.db"), { overwrite: true });
    const copy = new HardenedDb(tmp.path("other.db"), { readonly: true });
    expect(copy.prepare("SELECT x FROM t").pluck().all()).toEqual([1, 3]);
    copy.close();
    db.close();
  });

  it("should refuse a transaction, a FIFO and the -wal the same way under Node", () => {
    const fifo = tmp.path("fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const { status, stdout, stderr } = runScript(
      `(async () => {
        const { HardenedDb } = require('./index.js');
        const db = new HardenedDb(${JSON.stringify(tmp.path("app.db"))});
        db.exec('CREATE TABLE t(x); BEGIN');
        const codes = [];
        const attempt = async (dest) => codes.push(await db.backup(dest, { overwrite: true }).then(() => 'written', (e) => e.constructor.name + ' ' + e.code));
        await attempt(${JSON.stringify(tmp.path("copy.db"))});
        db.exec('COMMIT');
        await attempt(${JSON.stringify(fifo)});
        await attempt(${JSON.stringify(tmp.path("app.db-wal"))});
        await attempt(${JSON.stringify(tmp.path("copy.db"))});
        db.close();
        console.log(JSON.stringify(codes));
      })()`,
      "node",
    );
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      "TypeError HARDENED_IN_TRANSACTION",
      "HardenedDbError HARDENED_BACKUP_DESTINATION",
      "HardenedDbError HARDENED_BACKUP_DESTINATION",
      "written",
    ]);
  });

  it("should back up an in-memory database", async () => {
    const db = new HardenedDb(":memory:");
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (7)");
    const dest = tmp.path("mem.db");
    await db.backup(dest);
    const copy = new HardenedDb(dest, { readonly: true });
    expect(copy.prepare("SELECT x FROM t").pluck().get()).toBe(7);
    copy.close();
    db.close();
  });
});

describe("db.integrityCheck()", () => {
  it("should return no problems for a sound database", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    db.exec("CREATE TABLE t(x); CREATE INDEX i ON t(x); INSERT INTO t VALUES (1), (2)");
    expect(db.integrityCheck()).toEqual([]);
    expect(db.integrityCheck({ quick: true })).toEqual([]);
    db.close();
  });

  it("should list the problems of a damaged index", () => {
    const path = tmp.path("app.db");
    corruptIndex(path);
    const db = new HardenedDb(path);
    const problems = db.integrityCheck();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toContain("missing from index i");
    const report = db.health({ integrity: "full" });
    expect(report.status).toBe("unhealthy");
    expect(report.checks.at(-1)).toMatchObject({ name: "integrity.integrity_check", ok: false });
    expect(report.checks.at(-1)!.fix).toContain("backup");
    db.close();
  });
});

/** A database of 3000 rows with an index, closed, whose pages 3 to 5 were then overwritten with garbage. */
function corruptPages(path: string) {
  const db = new HardenedDb(path);
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT); CREATE INDEX ta ON t(a)");
  const insert = db.prepare("INSERT INTO t (a, b) VALUES (?, ?)");
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`a${(i * 7919) % 3000}`, "x".repeat(50));
  })();
  db.close();
  const garbage = Buffer.from(Array.from({ length: 3 * 4096 }, (_, i) => (i * 131 + 7) & 0xff));
  const fd = openSync(path, "r+");
  writeSync(fd, garbage, 0, garbage.length, 2 * 4096);
  closeSync(fd);
}

describe("db.integrityCheck() on a file with garbage pages", () => {
  it("should return the problems found before SQLite gave up, the error last, and health() should be unhealthy", () => {
    const path = tmp.path("app.db");
    corruptPages(path);
    const db = new HardenedDb(path);
    for (const quick of [false, true]) {
      const problems = db.integrityCheck({ quick });
      expect(problems.length).toBeGreaterThan(1);
      expect(problems.at(-1)).toMatch(/stopped: .*\(SQLITE_CORRUPT\)$/);
    }
    for (const integrity of ["full", "quick"]) {
      const report = db.health({ integrity });
      expect(report.status).toBe("unhealthy");
      const check = report.checks.at(-1)!;
      expect(check.name).toBe(integrity === "full" ? "integrity.integrity_check" : "integrity.quick_check");
      expect(check.ok).toBe(false);
      expect(check.actual).toContain("SQLITE_CORRUPT");
    }
    db.close();
  });

  it("should do the same under Node", () => {
    const path = tmp.path("app.db");
    corruptPages(path);
    const { status, stdout, stderr } = runScript(
      `const { HardenedDb } = require('./index.js');
      const db = new HardenedDb(${JSON.stringify(path)});
      const problems = db.integrityCheck();
      console.log(JSON.stringify({ count: problems.length, last: problems.at(-1), status: db.health({ integrity: 'full' }).status }));
      db.close();`,
      "node",
    );
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.count).toBeGreaterThan(1);
    expect(out.last).toContain("(SQLITE_CORRUPT)");
    expect(out.status).toBe("unhealthy");
  });
});

describe("db.incrementalVacuum(pages), db.optimize(), db.walSize()", () => {
  it("should release free pages a few at a time or all at once", () => {
    const db = new HardenedDb(tmp.path("app.db"), { autoVacuum: "INCREMENTAL" });
    db.exec("CREATE TABLE t(x)");
    const insert = db.prepare("INSERT INTO t VALUES (randomblob(4000))");
    for (let i = 0; i < 30; i++) insert.run();
    db.exec("DELETE FROM t");
    const free = db.pragma("freelist_count", { simple: true }) as number;
    expect(free).toBeGreaterThan(20);
    expect(db.incrementalVacuum(3)).toBe(3);
    expect(db.incrementalVacuum()).toBe(free - 3);
    expect(db.pragma("freelist_count", { simple: true })).toBe(0);
    expect(() => db.incrementalVacuum(-1)).toThrow(expect.objectContaining({ name: "RangeError", code: "HARDENED_INVALID_ARGUMENT" }));
    expect(db.optimize()).toBe(db);
    db.close();
  });

  it("should report 0 for a database without -wal", () => {
    const db = new HardenedDb(":memory:");
    expect(db.walSize()).toBe(0);
    db.close();
    expect(() => db.walSize()).toThrow(expect.objectContaining({ code: "HARDENED_NOT_OPEN" }));
  });
});

describe("db.close()", () => {
  it("should be idempotent and leave no -wal or -shm behind", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    expect(exists(path + "-wal")).toBe(true);
    db.close();
    db.close();
    expect(exists(path + "-wal")).toBe(false);
    expect(exists(path + "-shm")).toBe(false);
  });
});

describe("closeOnSignal: true", () => {
  const child = (path: string, options: object, extra = "") => `
    const { HardenedDb } = require('./index.js');
    const db = new HardenedDb(${JSON.stringify(path)}, ${JSON.stringify(options)});
    db.exec('CREATE TABLE t(x); INSERT INTO t VALUES (1)');
    ${extra}
    console.log('ready');
    setInterval(() => {}, 1000);
  `;

  for (const runtime of ["bun", "node"] as const) {
    it(`should close on SIGTERM and then end by the signal (${runtime})`, async () => {
      const path = tmp.path("app.db");
      const proc = start(child(path, { closeOnSignal: true }), runtime);
      await proc.output("ready");
      expect(existsSync(path + "-wal")).toBe(true);
      proc.child.kill("SIGTERM");
      const exit = await proc.exited;
      expect(exit.signal).toBe("SIGTERM");
      expect(existsSync(path + "-wal")).toBe(false);
    }, 30_000);

    it(`should close on SIGINT and leave the rest to the app's own listener (${runtime})`, async () => {
      const path = tmp.path("app.db");
      const own = "process.on('SIGINT', () => { console.log('own listener, open=' + db.open); process.exit(7); });";
      const proc = start(child(path, { closeOnSignal: true }, own), runtime);
      await proc.output("ready");
      proc.child.kill("SIGINT");
      const exit = await proc.exited;
      expect(exit.code).toBe(7);
      expect(exit.stdout).toContain("own listener, open=false");
      expect(existsSync(path + "-wal")).toBe(false);
    }, 30_000);
  }

  it("should leave the -wal behind without it (the control)", async () => {
    const path = tmp.path("app.db");
    const proc = start(child(path, {}));
    await proc.output("ready");
    proc.child.kill("SIGTERM");
    const exit = await proc.exited;
    expect(exit.signal).toBe("SIGTERM");
    expect(existsSync(path + "-wal")).toBe(true);
  }, 30_000);
});
