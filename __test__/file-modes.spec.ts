// Every file SQLite creates through a hardened connection gets fileMode,
// whatever the umask: db, -wal, -shm, an attached database and its -journal,
// VACUUM INTO targets, from file and :memory: connections, in Bun and Node,
// as root and as an unprivileged user. Temporary files stay nameless and 0600.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { HardenedDb } from "../index.js";
import { tempDir, modeOf, exists, runScript, thrown } from "./helpers";
import { runUnprivileged, UNPRIVILEGED_UID, UNPRIVILEGED_UNAVAILABLE } from "./unprivileged";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-modes")));
afterEach(() => tmp.cleanup());

/** The modes (or null when missing) a child process finds, as JSON, after creating every kind of file in `dir`. */
function everyFileScript(dir: string, fileMode: number, umask: number): string {
  return `
    process.umask(${umask});
    const { HardenedDb } = require('./index.js');
    const fs = require('node:fs');
    const dir = ${JSON.stringify(dir)};
    const mode = (name) => (fs.existsSync(dir + '/' + name) ? fs.statSync(dir + '/' + name).mode & 0o777 : null);
    const out = { umask: process.umask() };
    const db = new HardenedDb(dir + '/main.db', { fileMode: ${fileMode} });
    db.exec('CREATE TABLE t(x); INSERT INTO t VALUES (1)');
    Object.assign(out, { db: mode('main.db'), wal: mode('main.db-wal'), shm: mode('main.db-shm') });
    db.prepare('ATTACH ? AS aux').run(dir + '/attached.db');
    db.unsafeMode(); // a rollback journal on a file is refused (HARDENED_WEAKER_PRAGMA) without it
    db.pragma('aux.journal_mode = PERSIST');
    db.unsafeMode(false);
    db.exec('CREATE TABLE aux.u(y); INSERT INTO aux.u VALUES (2)');
    Object.assign(out, { attached: mode('attached.db'), journal: mode('attached.db-journal') });
    db.prepare('VACUUM INTO ?').run(dir + '/copy.db');
    out.vacuumInto = mode('copy.db');
    db.close();
    const memory = new HardenedDb(':memory:', { fileMode: ${fileMode} });
    memory.prepare('ATTACH ? AS aux').run(dir + '/from-memory.db');
    memory.exec('CREATE TABLE aux.t(x)');
    memory.prepare('VACUUM INTO ?').run(dir + '/memory-copy.db');
    memory.close();
    Object.assign(out, { memoryAttached: mode('from-memory.db'), memoryVacuumInto: mode('memory-copy.db') });
    console.log(JSON.stringify(out));`;
}

function run(code: string, runtime: "bun" | "node" = "bun", env: Record<string, string> = {}) {
  const { status, stdout, stderr } = runScript(code, runtime, env);
  expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

const FILES = ["db", "wal", "shm", "attached", "journal", "vacuumInto", "memoryAttached", "memoryVacuumInto"];

describe("files SQLite creates", () => {
  for (const umask of [0o022, 0o077]) {
    for (const fileMode of [0o600, 0o640]) {
      it(`should give every file mode 0${fileMode.toString(8)} under umask 0${umask.toString(8).padStart(2, "0")}`, () => {
        const out = run(everyFileScript(tmp.dir, fileMode, umask));
        expect(out.umask).toBe(umask);
        expect(Object.fromEntries(FILES.map((f) => [f, out[f]]))).toEqual(Object.fromEntries(FILES.map((f) => [f, fileMode])));
      });
    }
  }

  it("should do the same under Node", () => {
    const out = run(everyFileScript(tmp.dir, 0o640, 0o022), "node");
    expect(Object.fromEntries(FILES.map((f) => [f, out[f]]))).toEqual(Object.fromEntries(FILES.map((f) => [f, 0o640])));
  });

  it("should leave the mode of a file that already existed as it was", () => {
    for (const name of ["existing.db", "existing-copy.db"]) {
      writeFileSync(tmp.path(name), "");
      chmodSync(tmp.path(name), 0o644);
    }
    const db = new HardenedDb(tmp.path("main.db"), { fileMode: 0o640 });
    db.prepare("ATTACH ? AS aux").run(tmp.path("existing.db"));
    db.exec("CREATE TABLE aux.t(x)");
    db.prepare("VACUUM INTO ?").run(tmp.path("existing-copy.db"));
    db.close();
    expect([modeOf(tmp.path("existing.db")), modeOf(tmp.path("existing-copy.db"))]).toEqual([0o644, 0o644]);
    expect(statSync(tmp.path("existing-copy.db")).size).toBeGreaterThan(0);
  });

  it("should read a file: name in ATTACH as a plain path, so it cannot choose another VFS", () => {
    const db = new HardenedDb(tmp.path("main.db"));
    const error = thrown(() => db.prepare("ATTACH ? AS aux").run(`file:${tmp.path("uri.db")}?vfs=unix`));
    expect(error.code).toBe("SQLITE_CANTOPEN");
    expect(exists(tmp.path("uri.db"))).toBe(false);
    db.close();
  });
});

describe("temporary files", () => {
  // Sorting more than the cache holds with tempStore "FILE" spills to temporary
  // files; while the sorted rows are read, the child lists its descriptors.
  it("should keep them nameless and 0600 (the narrowest fileMode) whatever fileMode says", () => {
    const tmpdir = tmp.path("sqlite-tmp");
    mkdirSync(tmpdir);
    const out = run(
      `
      process.umask(0o022);
      const { HardenedDb } = require('./index.js');
      const fs = require('node:fs');
      const db = new HardenedDb(${JSON.stringify(tmp.path("main.db"))}, { fileMode: 0o640, tempStore: 'FILE', cacheSize: 10 });
      db.exec("CREATE TABLE big(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50000) INSERT INTO big SELECT randomblob(100) FROM c");
      const open = [];
      for (const row of db.prepare('SELECT x FROM big ORDER BY x').iterate()) {
        for (const fd of fs.readdirSync('/proc/self/fd')) {
          let target;
          try { target = fs.readlinkSync('/proc/self/fd/' + fd); } catch { continue; }
          if (target.startsWith(${JSON.stringify(tmpdir)})) open.push({ target, mode: fs.statSync('/proc/self/fd/' + fd).mode & 0o777 });
        }
        break;
      }
      db.close();
      console.log(JSON.stringify({ open, left: fs.readdirSync(${JSON.stringify(tmpdir)}) }));`,
      "bun",
      { SQLITE_TMPDIR: tmpdir },
    );
    expect(out.open.length).toBeGreaterThan(0);
    for (const file of out.open) {
      expect(file.target).toEndWith("(deleted)");
      expect(file.mode).toBe(0o600);
    }
    expect(out.left).toEqual([]);
  });
});

describe("readonly", () => {
  it("should create no database file, only the -wal and -shm a reader needs, with the database's mode", () => {
    const path = tmp.path("main.db");
    new HardenedDb(path, { fileMode: 0o640 }).exec("CREATE TABLE t(x)").close();
    expect(exists(path + "-wal")).toBe(false);
    const db = new HardenedDb(path, { readonly: true, fileMode: 0o640 });
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(0);
    expect([modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o640, 0o640]);
    for (const sql of ["ATTACH ? AS aux", "VACUUM INTO ?"]) {
      const error = thrown(() => db.prepare(sql).run(tmp.path("new.db")));
      expect(error.code).toBe("SQLITE_CANTOPEN");
      expect(error.message).toContain(tmp.path("new.db"));
      expect(exists(tmp.path("new.db"))).toBe(false);
    }
    db.close();
  });

  it("should not let fileMustExist create an attached database either", () => {
    new HardenedDb(tmp.path("main.db")).close();
    const db = new HardenedDb(tmp.path("main.db"), { fileMustExist: true });
    expect(thrown(() => db.prepare("ATTACH ? AS aux").run(tmp.path("new.db"))).code).toBe("SQLITE_CANTOPEN");
    expect(exists(tmp.path("new.db"))).toBe(false);
    db.close();
  });
});

describe("owners and other processes", () => {
  const asNobody = it.skipIf(UNPRIVILEGED_UNAVAILABLE !== null);

  asNobody("should give an unprivileged user's ATTACH and VACUUM INTO files fileMode under umask 022", () => {
    chmodSync(tmp.dir, 0o777);
    const { status, out } = runUnprivileged(`
      process.umask(0o022);
      const { HardenedDb } = require('./index.js');
      const fs = require('node:fs');
      const dir = ${JSON.stringify(tmp.dir)};
      const db = new HardenedDb(dir + '/main.db', { fileMode: 0o640 });
      db.prepare('ATTACH ? AS aux').run(dir + '/attached.db');
      db.exec('CREATE TABLE aux.t(x)');
      db.prepare('VACUUM INTO ?').run(dir + '/copy.db');
      db.close();
      const stat = (name) => { const s = fs.statSync(dir + '/' + name); return [s.mode & 0o777, s.uid]; };
      console.log(JSON.stringify({ db: stat('main.db'), attached: stat('attached.db'), copy: stat('copy.db') }));`);
    expect(status).toBe(0);
    const expected = [0o640, UNPRIVILEGED_UID];
    expect(out).toEqual({ db: expected, attached: expected, copy: expected });
  });

  it.skipIf(process.getuid?.() !== 0)("should, as root, give -wal and -shm the database's owner and mode, and new files root's", () => {
    const path = tmp.path("main.db");
    new HardenedDb(path, { fileMode: 0o640 }).exec("CREATE TABLE t(x)").close();
    chownSync(path, 65534, 65534);
    const db = new HardenedDb(path, { fileMode: 0o640 });
    db.exec("INSERT INTO t VALUES (1)");
    db.prepare("VACUUM INTO ?").run(tmp.path("copy.db"));
    const owner = (p: string) => [modeOf(p), statSync(p).uid, statSync(p).gid];
    expect([owner(path + "-wal"), owner(path + "-shm")]).toEqual([[0o640, 65534, 65534], [0o640, 65534, 65534]]);
    expect(owner(tmp.path("copy.db"))).toEqual([0o640, 0, 0]);
    db.close();
  });

  // Another program's files are its own; its -wal and -shm still copy the database's mode.
  it("should have bun:sqlite in another process give a 0600 database 0600 sidecars under umask 022", () => {
    const path = tmp.path("main.db");
    new HardenedDb(path).exec("CREATE TABLE t(x)").close();
    const out = run(`
      process.umask(0o022);
      const { Database } = require('bun:sqlite');
      const fs = require('node:fs');
      const path = ${JSON.stringify(path)};
      const db = new Database(path);
      db.run('INSERT INTO t VALUES (1)');
      const modes = ['-wal', '-shm'].map((s) => fs.statSync(path + s).mode & 0o777);
      db.close();
      console.log(JSON.stringify({ modes }));`);
    expect(out.modes).toEqual([0o600, 0o600]);
  });
});
