// Pre-flight checks: the classic failures diagnosed before SQLite opens, with
// the path and the fix in the message. Permission cases run in a real process
// as an unprivileged user (nobody, when the tests run as root).
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { writeFileSync, readFileSync, chmodSync, mkdirSync } from "node:fs";
import { HardenedDb, HardenedDbError } from "../index.js";
import { tempDir, exists, thrown } from "./helpers";
import { runUnprivileged, openScript, UNPRIVILEGED_UID, UNPRIVILEGED_UNAVAILABLE } from "./unprivileged";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("hs-pre");
  chmodSync(tmp.dir, 0o755);
});
afterEach(() => tmp.cleanup());


/** A WAL database in `dir` with -wal and -shm kept alive by the returned connection. */
function liveDatabase(path: string, fileMode: number): HardenedDb {
  const db = new HardenedDb(path, { fileMode });
  db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)");
  expect(exists(path + "-wal") && exists(path + "-shm")).toBe(true);
  return db;
}

const asNobody = it.skipIf(UNPRIVILEGED_UNAVAILABLE !== null);

describe("HARDENED_DIR_NOT_WRITABLE", () => {
  asNobody("should name the directory, the uid and both fixes when the directory is not writable", () => {
    const dir = tmp.path("data");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const { out } = runUnprivileged(openScript(`${dir}/app.db`));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_DIR_NOT_WRITABLE", hardened: true, uid: UNPRIVILEGED_UID });
    expect(out.message).toContain(
      `SQLite in WAL mode must create app.db-wal and app.db-shm in ${dir}; make ${dir} writable by uid ${UNPRIVILEGED_UID} ` +
        "or open with { readonly: true } on a database whose -wal and -shm already exist",
    );
    expect(exists(`${dir}/app.db`)).toBe(false);
  });

  asNobody("should refuse a writer even when the database file itself is writable", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const keeper = liveDatabase(`${dir}/app.db`, 0o666);
    const { out } = runUnprivileged(openScript(`${dir}/app.db`));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_DIR_NOT_WRITABLE" });
    keeper.close();
  });

  asNobody("should let a readonly connection in when -wal and -shm already exist", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const keeper = liveDatabase(`${dir}/app.db`, 0o666);
    const { out } = runUnprivileged(openScript(`${dir}/app.db`, { readonly: true }, "(db) => db.prepare('SELECT x FROM t').pluck().get()"));
    expect(out).toEqual({ ok: true, uid: UNPRIVILEGED_UID, result: 42 });
    keeper.close();
  });

  asNobody("should leave a missing file that may not be created to HARDENED_FILE_NOT_FOUND", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const { out } = runUnprivileged(openScript(`${dir}/app.db`, { readonly: true }));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_FILE_NOT_FOUND" });
  });

  asNobody("should say when the directory is not searchable", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o776);
    const { out } = runUnprivileged(openScript(`${dir}/app.db`));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_DIR_NOT_WRITABLE" });
    expect(out.message).toContain(`${dir} is not searchable by uid ${UNPRIVILEGED_UID}`);
  });

  asNobody("should name the directory it cannot create", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const { out } = runUnprivileged(openScript(`${dir}/nested/app.db`));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_DIR_NOT_WRITABLE" });
    expect(out.message).toContain(`cannot create directory ${dir}/nested`);
    expect(exists(`${dir}/nested`)).toBe(false);
  });
});

describe("HARDENED_SHM_NOT_WRITABLE", () => {
  asNobody("should refuse a reader whose -shm it cannot write", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const keeper = liveDatabase(`${dir}/app.db`, 0o644);
    const { out } = runUnprivileged(openScript(`${dir}/app.db`, { readonly: true }));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_SHM_NOT_WRITABLE", hardened: true });
    expect(out.message).toContain(`${dir}/app.db-shm is not writable by uid ${UNPRIVILEGED_UID}`);
    expect(out.message).toContain("even a readonly one");
    keeper.close();
  });
});

describe("HARDENED_FILE_NOT_WRITABLE", () => {
  asNobody("should refuse a writer that cannot write the database file", () => {
    const dir = tmp.path("data");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    new HardenedDb(`${dir}/app.db`, { fileMode: 0o644 }).close();
    const { out } = runUnprivileged(openScript(`${dir}/app.db`));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_FILE_NOT_WRITABLE", hardened: true });
    expect(out.message).toContain(`${dir}/app.db is not writable by uid ${UNPRIVILEGED_UID}`);
    expect(out.message).toContain("readonly: true");
  });
});

describe("HARDENED_PATH_IS_DIRECTORY", () => {
  it("should refuse a directory and suggest a file inside it", () => {
    const error = thrown(() => new HardenedDb(tmp.dir));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_PATH_IS_DIRECTORY");
    expect(error.message).toContain(`${tmp.dir}/app.db`);
  });
});

describe("HARDENED_ORPHAN_WAL", () => {
  it("should never open a -wal whose database is gone, and touch nothing", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const frames = readFileSync(path + "-wal");
    db.close();
    const walOnly = tmp.path("moved.db-wal");
    writeFileSync(walOnly, frames);
    const error = thrown(() => new HardenedDb(tmp.path("moved.db")));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_ORPHAN_WAL");
    expect(error.message).toContain(`${walOnly} exists but ${tmp.path("moved.db")} does not`);
    expect(error.message).toContain("restore it from a backup");
    expect(exists(tmp.path("moved.db"))).toBe(false);
    expect(readFileSync(walOnly).equals(frames)).toBe(true);
  });

  it("should refuse a database next to another engine's -tshm", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).close();
    writeFileSync(path + "-tshm", Buffer.alloc(64));
    const error = thrown(() => new HardenedDb(path));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_ORPHAN_WAL");
    expect(error.message).toContain(`${path}-tshm exists`);
    expect(error.message).toContain("wal_checkpoint(TRUNCATE)");
  });

  it("should open normally next to an empty -wal", () => {
    const path = tmp.path("app.db");
    writeFileSync(path + "-wal", "");
    chmodSync(path + "-wal", 0o600);
    new HardenedDb(path).close();
  });
});
