// The hardened-sqlite CLI, run as a real process under Node and Bun: exit
// codes, JSON reports, help, and errors without stack traces.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync, readFileSync, chmodSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { HardenedDb } from "../index.js";
import { tempDir, modeOf, BUN, NODE, PACKAGE_ROOT } from "./helpers";

const CLI = join(PACKAGE_ROOT, "bin/hardened-sqlite.js");
const MIGRATIONS = join(PACKAGE_ROOT, "migrations");

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-cli")));
afterEach(() => tmp.cleanup());

function cli(args: string[], runtime: "bun" | "node" = "node") {
  const result = spawnSync(runtime === "bun" ? BUN : NODE, [CLI, ...args], { cwd: tmp.dir, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json(args: string[], runtime: "bun" | "node" = "node") {
  const result = cli([...args, "--json"], runtime);
  return { ...result, report: JSON.parse(result.stdout) };
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

for (const runtime of ["node", "bun"] as const) {
  describe(`hardened-sqlite doctor (${runtime})`, () => {
    it("should build a database from migrations and exit 0 when healthy", () => {
      const { status, report, stderr } = json(["doctor", "app.db", "--migrations", MIGRATIONS], runtime);
      expect(stderr).toBe("");
      expect(status).toBe(0);
      expect(report.status).toBe("healthy");
      expect(report.userVersion).toBe(3);
      expect(report.pendingMigrations).toBe(0);
      expect(report.journalMode).toBe("wal");
      expect(report.checks.every((c: any) => c.ok)).toBe(true);
      expect(report.checks.map((c: any) => c.name)).toContain("integrity.quick_check");
      expect(report.files.db.mode).toBe(0o600);
      expect(modeOf(tmp.path("app.db"))).toBe(0o600);
    });

    it("should exit 1 with the failed check when a mode is too wide", () => {
      const path = tmp.path("app.db");
      new HardenedDb(path).close();
      chmodSync(path, 0o644);
      const { status, report, stderr } = json(["doctor", "app.db"], runtime);
      expect(status).toBe(1);
      expect(report.status).toBe("degraded");
      const failed = report.checks.filter((c: any) => !c.ok);
      expect(failed.map((c: any) => c.name)).toContain("file_mode.db");
      expect(failed.every((c: any) => c.severity === "warning" && c.fix.includes("chmod 600"))).toBe(true);
      expect(stderr).toBe("");
    });

    it("should exit 2 for a file that is not a database and leave it untouched", () => {
      const path = tmp.path("notes.db");
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 251));
      writeFileSync(path, bytes);
      const { status, report } = json(["doctor", "notes.db"], runtime);
      expect(status).toBe(2);
      expect(report.status).toBe("unhealthy");
      expect(report.checks).toEqual([
        expect.objectContaining({ name: "open", ok: false, severity: "error", actual: "HARDENED_NOT_A_DATABASE" }),
      ]);
      expect(report.checks[0].fix).toContain("not a SQLite database");
      expect(report.files.db).toMatchObject({ exists: true, size: 4096 });
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(readdirSync(tmp.dir)).toEqual(["notes.db"]);
    });

    it("should print a readable table", () => {
      const { status, stdout } = cli(["doctor", "app.db", "--migrations", MIGRATIONS], runtime);
      expect(status).toBe(0);
      expect(stdout).toContain("app.db: HEALTHY");
      expect(stdout).toMatch(/ok\s+pragma\.journal_mode\s+wal\s+wal/);
      expect(stdout).toMatch(/db\s+0600/);
    });
  });
}

describe("hardened-sqlite doctor: unhealthy table", () => {
  it("should show FAIL and the fix", () => {
    writeFileSync(tmp.path("x.db"), "not a database at all, just some text that is long enough to have a header");
    const { status, stdout } = cli(["doctor", "x.db"]);
    expect(status).toBe(2);
    expect(stdout).toContain("x.db: UNHEALTHY");
    expect(stdout).toMatch(/FAIL\s+open/);
    expect(stdout).toContain("fix: x.db is not a SQLite database");
  });

  it("should report a missing database as unhealthy without creating it", () => {
    const { status, report } = json(["doctor", "missing.db"]);
    expect(status).toBe(2);
    expect(report.checks[0].actual).toBe("HARDENED_FILE_NOT_FOUND");
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});

describe("hardened-sqlite migrate and status", () => {
  it("should list pending migrations, apply them, then report up to date", () => {
    new HardenedDb(tmp.path("app.db")).close();
    const before = json(["status", "app.db", "--migrations", MIGRATIONS]);
    expect(before.status).toBe(1);
    expect(before.report).toMatchObject({ current: 0, latest: 3 });
    expect(before.report.pending.map((m: any) => m.version)).toEqual([1, 2, 3]);
    const text = cli(["status", "app.db", "--migrations", MIGRATIONS]);
    expect(text.stdout).toContain("3 pending");
    const migrated = json(["migrate", "app.db", "--migrations", MIGRATIONS]);
    expect(migrated.status).toBe(0);
    expect(migrated.report).toMatchObject({ from: 0, to: 3 });
    expect(migrated.report.applied.map((m: any) => m.version)).toEqual([1, 2, 3]);
    expect(cli(["migrate", "app.db", "--migrations", MIGRATIONS]).stdout).toContain("up to date at schema version 3");
    const after = json(["status", "app.db", "--migrations", MIGRATIONS]);
    expect(after.status).toBe(0);
    expect(after.report.pending).toEqual([]);
  });
});

describe("hardened-sqlite backup, checkpoint, check, vacuum", () => {
  it("should back up to a 0600 file and refuse to overwrite without --overwrite", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)");
    db.close();
    const first = json(["backup", "app.db", "copy.db"]);
    expect(first.status).toBe(0);
    expect(first.report).toMatchObject({ path: "copy.db", remainingPages: 0 });
    expect(first.report.bytes).toBe(statSync(tmp.path("copy.db")).size);
    expect(modeOf(tmp.path("copy.db"))).toBe(0o600);
    const again = cli(["backup", "app.db", "copy.db"]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("HARDENED_BACKUP_EXISTS");
    noStack(again.stderr);
    expect(cli(["backup", "app.db", "copy.db", "--overwrite"]).status).toBe(0);
  });

  it("should empty the -wal with --mode truncate", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { walAutocheckpoint: 0 });
    db.exec("CREATE TABLE t(x)");
    for (let i = 0; i < 10; i++) db.prepare("INSERT INTO t VALUES (randomblob(2000))").run();
    expect(statSync(path + "-wal").size).toBeGreaterThan(20_000);
    const { status, report } = json(["checkpoint", "app.db", "--mode", "truncate"]);
    expect(status).toBe(0);
    expect(report).toEqual({ busy: false, walFrames: 0, checkpointedFrames: 0, walBytes: 0 });
    expect(statSync(path + "-wal").size).toBe(0);
    db.close();
    expect(cli(["checkpoint", "app.db", "--mode", "sometimes"]).status).toBe(64);
  });

  it("should exit 0 for a sound database and 2 for a damaged index with --full", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c TEXT); CREATE INDEX i ON t(b)");
    for (let i = 0; i < 20; i++) db.prepare("INSERT INTO t (b, c) VALUES (?, ?)").run(`b${i}`, `c${100 - i}`);
    db.close();
    expect(json(["check", "app.db", "--full"]).report).toEqual({ ok: true, problems: [] });
    const broken = new HardenedDb(path);
    broken.unsafeMode().exec("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE INDEX i ON t(c)' WHERE name = 'i'; PRAGMA writable_schema = OFF");
    broken.close();
    const { status, report } = json(["check", "app.db", "--full"]);
    expect(status).toBe(2);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toContain("missing from index i");
  });

  it("should release free pages with vacuum: incremental_vacuum where the file allows it, else VACUUM", () => {
    for (const [file, autoVacuum, method] of [["inc.db", "INCREMENTAL", "incremental_vacuum"], ["none.db", "NONE", "VACUUM"]]) {
      const db = new HardenedDb(tmp.path(file), { autoVacuum });
      db.exec("CREATE TABLE t(x)");
      for (let i = 0; i < 20; i++) db.prepare("INSERT INTO t VALUES (randomblob(4000))").run();
      db.exec("DELETE FROM t");
      db.close();
      const { status, report } = json(["vacuum", file]);
      expect(status).toBe(0);
      expect(report.method).toBe(method);
      expect(report.freedPages).toBeGreaterThan(15);
      expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
      const full = json(["vacuum", file, "--full"]);
      expect(full.status).toBe(0);
      expect(full.report.method).toBe("VACUUM");
    }
  });
});

describe("hardened-sqlite usage", () => {
  it("should print help for every command and exit 0", () => {
    for (const command of ["doctor", "migrate", "status", "backup", "checkpoint", "check", "vacuum", "restore"]) {
      const { status, stdout } = cli([command, "--help"]);
      expect(status).toBe(0);
      expect(stdout).toContain(`hardened-sqlite ${command} <db>`);
      expect(stdout).toContain("--help");
    }
    const main = cli(["--help"]);
    expect(main.status).toBe(0);
    expect(main.stdout).toContain("Commands:");
  });

  it("should explain mistakes with exit 64 and no stack trace", () => {
    const cases: [string[], string][] = [
      [[], "Commands:"],
      [["frobnicate"], 'unknown command "frobnicate"'],
      [["doctor"], "missing <db>"],
      [["doctor", "a.db", "--migration", "x"], 'did you mean "--migrations"?'],
      [["migrate", "a.db"], 'option "--migrations" is required'],
      [["backup", "a.db"], "missing <db> <dest>"],
    ];
    for (const [args, expected] of cases) {
      const { status, stdout, stderr } = cli(args);
      expect(status).toBe(64);
      expect(stdout + stderr).toContain(expected);
      noStack(stderr);
    }
  });

  it("should report a missing database with its code and exit 1", () => {
    const { status, stderr } = cli(["check", "missing.db"], "bun");
    expect(status).toBe(1);
    expect(stderr).toContain("missing.db does not exist");
    expect(stderr).toContain("HARDENED_FILE_NOT_FOUND");
    noStack(stderr);
    const asJson = cli(["checkpoint", "missing.db", "--json"]);
    expect(JSON.parse(asJson.stdout).error.code).toBe("HARDENED_FILE_NOT_FOUND");
  });
});
