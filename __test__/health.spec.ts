// db.health(): every promise of the open sequence checked on the live
// connection and its files, and the healthCheck option.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { HardenedDb, HardenedDbError } from "../index.js";
import { tempDir, warningsOf } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-health")));
afterEach(() => tmp.cleanup());

const failed = (report: any) => report.checks.filter((c: any) => !c.ok).map((c: any) => c.name);


function migrationsDir(count: number): string {
  const dir = tmp.path(`migrations-${count}`);
  mkdirSync(dir, { recursive: true });
  for (let v = 1; v <= count; v++) writeFileSync(`${dir}/00${v}_t${v}.sql`, `CREATE TABLE t${v} (id INTEGER PRIMARY KEY);`);
  return dir;
}

describe("db.health()", () => {
  it("should report a fresh database as healthy with every field of the report", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    const report = db.health();
    expect(report.status).toBe("healthy");
    expect(report.sqliteVersion).toMatch(/^3\.\d+\.\d+$/);
    expect(report.journalMode).toBe("wal");
    expect(report.userVersion).toBe(0);
    expect(report.pendingMigrations).toBeNull();
    expect(typeof report.walBytes).toBe("number");
    expect(report.files!.db).toMatchObject({ path, exists: true, mode: 0o600 });
    expect(report.files!.wal).toMatchObject({ path: path + "-wal", exists: true, mode: 0o600 });
    expect(report.files!.shm).toMatchObject({ path: path + "-shm", exists: true, mode: 0o600 });
    for (const check of report.checks) {
      expect(Object.keys(check).sort()).toEqual(["actual", "expected", "fix", "name", "ok", "severity"]);
      expect(check.fix).toBeNull();
    }
    db.close();
  });

  it("should check every pragma of the open sequence, the version, the files, the directory and a write", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    const names = db.health().checks.map((c: any) => c.name);
    for (const pragma of ["journal_mode", "auto_vacuum", "busy_timeout", "synchronous", "mmap_size", "foreign_keys",
      "temp_store", "cache_size", "journal_size_limit", "wal_autocheckpoint"]) {
      expect(names).toContain(`pragma.${pragma}`);
    }
    for (const name of ["sqlite_version", "file_mode.db", "file_mode.wal", "file_mode.shm", "directory", "file_system", "wal_size", "write_probe"]) {
      expect(names).toContain(name);
    }
    const version = db.health().checks.find((c: any) => c.name === "sqlite_version");
    expect(version).toMatchObject({ ok: true, expected: ">= 3.51.3" });
    db.close();
  });

  it("should write and read for real and leave nothing behind", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); PRAGMA user_version = 9");
    db.checkpoint("TRUNCATE");
    const before = { schema: db.prepare("SELECT name FROM sqlite_schema").pluck().all(), pages: db.pragma("page_count", { simple: true }) };
    expect(db.walSize()).toBe(0);
    for (let i = 0; i < 5; i++) expect(db.health().checks.find((c: any) => c.name === "write_probe")!.ok).toBe(true);
    expect(db.walSize()).toBeGreaterThan(0);
    expect(db.prepare("SELECT name FROM sqlite_schema").pluck().all()).toEqual(before.schema);
    expect(db.pragma("page_count", { simple: true })).toBe(before.pages);
    expect(db.pragma("user_version", { simple: true })).toBe(9);
    db.close();
  });

  it("should fail the write probe when another connection holds the write lock past busyTimeout", () => {
    const path = tmp.path("app.db");
    const holder = new HardenedDb(path);
    const db = new HardenedDb(path, { busyTimeout: 50 });
    holder.exec("BEGIN IMMEDIATE");
    const report = db.health();
    expect(report.status).toBe("unhealthy");
    const probe = report.checks.find((c: any) => c.name === "write_probe");
    expect(probe).toMatchObject({ ok: false, severity: "error" });
    expect(probe.actual).toContain("locked");
    expect(probe.fix).toContain("busyTimeout");
    holder.exec("ROLLBACK");
    expect(db.health().status).toBe("healthy");
    db.close();
    holder.close();
  });

  it("should use a read probe on a readonly connection", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).close();
    const db = new HardenedDb(path, { readonly: true });
    const report = db.health();
    expect(report.checks.find((c: any) => c.name === "read_probe")).toMatchObject({ ok: true });
    expect(report.checks.some((c: any) => c.name === "write_probe")).toBe(false);
    db.close();
  });

  it("should report a mode wider than fileMode as degraded, with the chmod fix", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x)");
    chmodSync(path, 0o644);
    const report = db.health();
    expect(report.status).toBe("degraded");
    expect(failed(report)).toEqual(["file_mode.db"]);
    const check = report.checks.find((c: any) => c.name === "file_mode.db");
    expect(check).toMatchObject({ severity: "warning", expected: "0600 or narrower", actual: "0644" });
    expect(check.fix).toContain(`chmod 600 ${path}`);
    expect(report.files!.db.mode).toBe(0o644);
    db.close();
  });

  it("should report a database taken out of WAL mode as unhealthy", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    // journal_mode = DELETE is refused (HARDENED_WEAKER_PRAGMA) unless unsafeMode() is on.
    db.unsafeMode();
    db.pragma("journal_mode = DELETE");
    db.unsafeMode(false);
    db.pragma("synchronous = FULL");
    const report = db.health();
    expect(report.status).toBe("unhealthy");
    expect(failed(report)).toEqual(["pragma.journal_mode", "pragma.synchronous"]);
    const journal = report.checks.find((c: any) => c.name === "pragma.journal_mode");
    expect(journal).toMatchObject({ expected: "wal", actual: "delete", severity: "error" });
    expect(journal.fix).toContain("WAL");
    expect(report.checks.find((c: any) => c.name === "pragma.synchronous")).toMatchObject({ expected: "1 (NORMAL)", actual: "2" });
    db.close();
  });

  it("should compare the -wal size with journalSizeLimit", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { journalSizeLimit: 8192, walAutocheckpoint: 0 });
    db.exec("CREATE TABLE t(x)");
    const insert = db.prepare("INSERT INTO t VALUES (randomblob(4000))");
    for (let i = 0; i < 20; i++) insert.run();
    const report = db.health();
    expect(report.status).toBe("degraded");
    const check = report.checks.find((c: any) => c.name === "wal_size");
    expect(check).toMatchObject({ ok: false, expected: "<= 8192 bytes", actual: `${report.walBytes} bytes` });
    expect(check.fix).toContain('checkpoint("TRUNCATE")');
    db.checkpoint("TRUNCATE");
    expect(db.health().status).toBe("healthy");
    db.close();
  });

  it("should run quick_check or integrity_check on request", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    expect(db.health({ integrity: "quick" }).checks.at(-1)).toMatchObject({ name: "integrity.quick_check", ok: true, actual: "ok" });
    expect(db.health({ integrity: "full" }).checks.at(-1)).toMatchObject({ name: "integrity.integrity_check", ok: true });
    expect(db.health().checks.some((c: any) => c.name.startsWith("integrity"))).toBe(false);
    expect(() => db.health({ integrity: "deep" } as any)).toThrow(expect.objectContaining({ name: "RangeError", code: "HARDENED_INVALID_ARGUMENT" }));
    expect(() => db.health({ integrty: "full" } as any)).toThrow(expect.objectContaining({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" }));
    db.close();
  });

  it("should report an in-memory database without files", () => {
    const db = new HardenedDb(":memory:");
    const report = db.health();
    expect(report).toMatchObject({ status: "healthy", journalMode: "memory", walBytes: 0, files: null });
    db.close();
  });
});

describe("db.health() and migrations", () => {
  it("should count pending migrations and degrade while any are pending", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: migrationsDir(2) }).close();
    const up = new HardenedDb(path, { migrations: migrationsDir(2) });
    expect(up.health()).toMatchObject({ status: "healthy", pendingMigrations: 0, userVersion: 2 });
    up.close();
    const reader = new HardenedDb(path, { readonly: true, migrations: migrationsDir(3), allowPendingMigrations: true });
    const report = reader.health();
    expect(report).toMatchObject({ status: "degraded", pendingMigrations: 1 });
    const check = report.checks.find((c: any) => c.name === "migrations");
    expect(check).toMatchObject({ ok: false, expected: "version 3, 0 pending", actual: "version 2, 1 pending" });
    expect(check.fix).toContain("migrate");
    reader.close();
  });

  it("should report a schema ahead of the code as unhealthy", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { migrations: migrationsDir(2) });
    const newer = new HardenedDb(path);
    newer.pragma("user_version = 5");
    const report = db.health();
    expect(report.status).toBe("unhealthy");
    expect(report.pendingMigrations).toBeNull();
    const check = report.checks.find((c: any) => c.name === "migrations");
    expect(check.ok).toBe(false);
    expect(check.actual).toContain("HARDENED_SCHEMA_AHEAD");
    expect(check.fix).toContain("schema version 5");
    newer.close();
    db.close();
  });
});

describe("healthCheck: true", () => {
  it("should open a healthy database", () => {
    const db = new HardenedDb(tmp.path("app.db"), { healthCheck: true });
    expect(db.open).toBe(true);
    db.close();
  });

  it("should throw HARDENED_UNHEALTHY with the failed checks and close the connection", () => {
    const path = tmp.path("app.db");
    const holder = new HardenedDb(path);
    holder.exec("BEGIN IMMEDIATE");
    let error: any;
    try {
      new HardenedDb(path, { healthCheck: true, busyTimeout: 50 });
    } catch (e) {
      error = e;
    }
    holder.exec("ROLLBACK");
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_UNHEALTHY");
    expect(error.checks.map((c: any) => c.name)).toEqual(["write_probe"]);
    expect(error.report.status).toBe("unhealthy");
    expect(error.message).toContain(`${path} is unhealthy`);
    expect(error.message).toContain("write_probe");
    holder.close();
  });

  it("should open a degraded database with a HARDENED_DEGRADED warning", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).close();
    chmodSync(path, 0o644);
    let db: HardenedDb | undefined;
    const warnings = warningsOf(() => (db = new HardenedDb(path, { healthCheck: true })));
    expect(warnings[0].code).toBe("HARDENED_FILE_MODE");
    expect(warnings.at(-1)!.code).toBe("HARDENED_DEGRADED");
    expect(warnings.at(-1)!.message).toContain("file_mode.db");
    expect(db!.open).toBe(true);
    db!.close();
  });
});
