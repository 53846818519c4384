// db.backup(destination, { attached, progress, overwrite }) as better-sqlite3's:
// pages copied between event-loop turns, the progress callback, aborts; and our
// guarantees kept (temporary file, verification, atomic rename, destination rules).
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn } from "node:child_process";
import { writeFileSync, readFileSync, readdirSync, existsSync, mkdirSync } from "node:fs";
import { HardenedDb, HardenedDbError, SqliteError } from "../index.js";
import { tempDir, modeOf, runScript, BUN, PACKAGE_ROOT } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-bkp")));
afterEach(() => tmp.cleanup());

/** A database at `name` holding `rows` rows of `bytes` random bytes; returns it and its page count. */
function seeded(name: string, rows: number, bytes = 3000) {
  const db = new HardenedDb(tmp.path(name));
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO t (v) SELECT randomblob(${bytes}) FROM n`);
  return { db, pages: db.pragma("page_count", { simple: true }) as number };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const rejection = (promise: Promise<unknown>) => promise.then(() => { throw new Error("expected a rejection"); }, (e) => e);

describe("db.backup() arguments", () => {
  it("should reject as better-sqlite3 does, with TypeErrors coded HARDENED_INVALID_ARGUMENT", async () => {
    const { db } = seeded("app.db", 1);
    const bad: [unknown, unknown][] = [
      [undefined, undefined], [null, undefined], [123, undefined], [new String(tmp.path("a.db")), undefined], [[tmp.path("a.db")], undefined],
      ["", undefined], [" \t\n ", undefined], [":memory:", undefined],
      [tmp.path("a.db"), 42], [tmp.path("a.db"), { attached: 1 }], [tmp.path("a.db"), { attached: "" }],
      [tmp.path("a.db"), { progress: "fast" }], [tmp.path("a.db"), { overwrite: 1 }], [tmp.path("a.db"), { rate: 1 }],
    ];
    for (const [destination, options] of bad) {
      const error = await rejection(db.backup(destination as any, options as any));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
    expect(existsSync(":memory:")).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => !f.startsWith("app.db"))).toEqual([]);
    db.close();
  });

  it("should reject a missing directory (creating nothing), an unknown schema, and a closed database", async () => {
    const { db } = seeded("app.db", 1);
    const missing = await rejection(db.backup(tmp.path("nonexistent/deeper/copy.db")));
    expect(missing).toBeInstanceOf(TypeError);
    expect(missing.code).toBe("HARDENED_BACKUP_NO_DIRECTORY");
    expect(missing.message).toContain(tmp.path("nonexistent/deeper"));
    expect(existsSync(tmp.path("nonexistent"))).toBe(false);
    const unknown = await rejection(db.backup(tmp.path("copy.db"), { attached: "cool_db" }));
    expect(unknown).toBeInstanceOf(SqliteError);
    expect(unknown.code).toBe("SQLITE_ERROR");
    expect(unknown.message).toContain("cool_db");
    db.close();
    expect(await rejection(db.backup(tmp.path("copy.db")))).toMatchObject({ name: "TypeError", code: "HARDENED_NOT_OPEN" });
    expect(readdirSync(tmp.dir).sort()).toEqual(["app.db"]);
  });
});

describe("db.backup() steps", () => {
  it("should resolve to better-sqlite3's { totalPages, remainingPages }, calling progress once per unfinished step", async () => {
    const { db, pages } = seeded("app.db", 5);
    expect(pages).toBeLessThan(100);
    const calls: unknown[][] = [];
    const promise = db.backup(tmp.path("copy.db"), {
      progress(...args: unknown[]) {
        calls.push([this, ...args]);
      },
    });
    expect(existsSync(tmp.path("copy.db"))).toBe(false);
    const result = await promise;
    expect(result).toEqual({ totalPages: pages, remainingPages: 0 });
    expect(Object.keys(result)).toEqual(["totalPages", "remainingPages"]);
    expect(result.path).toBe(tmp.path("copy.db"));
    expect(result.bytes).toBe(pages * 4096);
    expect(calls).toEqual([[undefined, { totalPages: pages, remainingPages: pages }]]);
    expect(modeOf(tmp.path("copy.db"))).toBe(0o600);
    const copy = new HardenedDb(tmp.path("copy.db"), { readonly: true });
    expect(copy.prepare("SELECT count(*) FROM t").pluck().get()).toBe(5);
    copy.close();
    db.close();
  });

  it("should copy as many pages per turn as progress returns (0 pausing), and take in writes of the same connection", async () => {
    const { db, pages } = seeded("app.db", 5);
    let size = 0;
    const seen: { totalPages: number; remainingPages: number }[] = [];
    const promise = db.backup(tmp.path("copy.db"), {
      progress(state) {
        seen.push(state);
        return size;
      },
    });
    promise.catch(() => {});
    while (!seen.length) await turn();
    expect(seen).toEqual([{ totalPages: pages, remainingPages: pages }]);
    await turn();
    expect(seen.at(-1)).toEqual({ totalPages: pages, remainingPages: pages });
    size = 1;
    await turn();
    await turn();
    expect(seen.slice(-2)).toEqual([{ totalPages: pages, remainingPages: pages }, { totalPages: pages, remainingPages: pages - 1 }]);
    db.prepare("INSERT INTO t (id, v) VALUES (999, zeroblob(20000))").run();
    const grown = db.pragma("page_count", { simple: true }) as number;
    expect(grown).toBeGreaterThan(pages);
    size = Infinity;
    await turn();
    expect(seen.at(-1)).toEqual({ totalPages: grown, remainingPages: grown - 2 });
    expect(await promise).toEqual({ totalPages: grown, remainingPages: 0 });
    const copy = new HardenedDb(tmp.path("copy.db"), { readonly: true });
    expect(copy.prepare("SELECT length(v) FROM t WHERE id = 999").pluck().get()).toBe(20000);
    copy.close();
    db.close();
  });

  it("should not block the event loop while it copies a 20 MB database", async () => {
    const { db, pages } = seeded("app.db", 5000, 4000);
    expect(pages * 4096).toBeGreaterThan(20_000_000);
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    let steps = 0;
    const result = await db.backup(tmp.path("copy.db"), { progress: () => void steps++ });
    running = false;
    expect(result.totalPages).toBe(pages);
    expect(steps).toBe(Math.ceil(pages / 100));
    expect(ticks).toBeGreaterThanOrEqual(steps);
    db.close();
  }, 60_000);

  it("should stay consistent and finish while another process keeps writing", async () => {
    const { db } = seeded("app.db", 1000);
    const stop = tmp.path("stop");
    const writer = spawn(BUN, ["-e", `
      const { HardenedDb } = require('./index.js');
      const { existsSync } = require('node:fs');
      const db = new HardenedDb(${JSON.stringify(tmp.path("app.db"))});
      const insert = db.prepare('INSERT INTO t (v) VALUES (randomblob(500))');
      console.log('ready');
      while (!existsSync(${JSON.stringify(stop)})) insert.run();
      db.close();
    `], { cwd: PACKAGE_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((resolve) => writer.stdout.once("data", resolve));
    const result = await db.backup(tmp.path("copy.db"));
    writeFileSync(stop, "");
    await new Promise((resolve) => writer.on("exit", resolve));
    const copy = new HardenedDb(tmp.path("copy.db"), { readonly: true });
    expect(copy.integrityCheck()).toEqual([]);
    const row = copy.prepare("SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM t").get() as any;
    expect(row.lo).toBe(1);
    expect(row.hi).toBe(row.n);
    expect(row.n).toBeGreaterThanOrEqual(1000);
    expect(result.totalPages * 4096).toBe(result.bytes);
    copy.close();
    db.close();
  }, 60_000);

  it("should back up an attached database", async () => {
    const { db } = seeded("source.db", 3);
    db.close();
    const mem = new HardenedDb(":memory:");
    mem.prepare("ATTACH ? AS cool_db").run(tmp.path("source.db"));
    const pages = mem.pragma("cool_db.page_count", { simple: true });
    expect(await mem.backup(tmp.path("copy.db"), { attached: "cool_db" })).toEqual({ totalPages: pages, remainingPages: 0 });
    mem.close();
    const copy = new HardenedDb(tmp.path("copy.db"), { readonly: true });
    expect(copy.prepare("SELECT count(*) FROM main.t").pluck().get()).toBe(3);
    copy.close();
  });
});

describe("db.backup() aborts", () => {
  it("should reject with what progress threw, or a TypeError for a non-number, leaving nothing behind", async () => {
    const { db } = seeded("app.db", 5);
    await expect(db.backup(tmp.path("a.db"), { progress: () => { throw new SyntaxError("stop"); } })).rejects.toThrow(SyntaxError);
    for (const value of [null, new Number(1), () => 1, [1], "1", NaN]) {
      const error = await rejection(db.backup(tmp.path("b.db"), { progress: () => value as any }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
    expect(readdirSync(tmp.dir).sort()).toEqual(["app.db", "app.db-shm", "app.db-wal"]);
    db.close();
  });

  it("should leave an existing database destination as it was when aborted", async () => {
    const old = new HardenedDb(tmp.path("old.db"));
    old.exec("CREATE TABLE foo (bar); INSERT INTO foo VALUES (2), (8)");
    old.close();
    const { db } = seeded("app.db", 5);
    let stop = false;
    const promise = db.backup(tmp.path("old.db"), {
      progress() {
        if (stop) throw new SyntaxError("stop");
        return 1;
      },
    });
    await turn();
    await turn();
    stop = true;
    expect(await rejection(promise)).toBeInstanceOf(SyntaxError);
    const kept = new HardenedDb(tmp.path("old.db"), { readonly: true });
    expect(kept.prepare("SELECT bar FROM foo").pluck().all()).toEqual([2, 8]);
    kept.close();
    db.close();
  });

  it("should reject with HARDENED_NOT_OPEN when the connection closes mid-backup, leaving nothing", async () => {
    const { db } = seeded("app.db", 5);
    const calls: unknown[] = [];
    const promise = db.backup(tmp.path("copy.db"), { progress: (state) => (calls.push(state), 1) });
    promise.catch(() => {});
    while (calls.length < 2) await turn();
    db.close();
    expect(await rejection(promise)).toMatchObject({ name: "TypeError", code: "HARDENED_NOT_OPEN" });
    expect(readdirSync(tmp.dir).sort()).toEqual(["app.db"]);
  });

  it("should refuse a destination with a non-empty -journal beside it, even with overwrite", async () => {
    const { db } = seeded("app.db", 1);
    const old = new HardenedDb(tmp.path("old.db"));
    old.close();
    writeFileSync(tmp.path("old.db-journal"), "hot journal");
    const error = await rejection(db.backup(tmp.path("old.db"), { overwrite: true }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_BACKUP_DESTINATION");
    expect(error.message).toContain("-journal");
    expect(readFileSync(tmp.path("old.db-journal"), "utf8")).toBe("hot journal");
    db.close();
  });
});

describe("db.backup() under Node", () => {
  it("should step, report progress and reject as better-sqlite3 does", () => {
    mkdirSync(tmp.path("node"));
    const script = (module: string) => `(async () => {
      const Database = require(${JSON.stringify(module)});
      const Db = Database.HardenedDb ?? Database;
      const dir = ${JSON.stringify(tmp.path("node"))} + '/' + (Database.HardenedDb ? 'ours' : 'theirs');
      require('fs').mkdirSync(dir);
      const db = new Db(dir + '/app.db');
      db.exec("CREATE TABLE t (v); INSERT INTO t VALUES (randomblob(30000))");
      const pages = db.pragma('page_count', { simple: true });
      const outcome = (p) => p.then((r) => [r.totalPages === pages, r.remainingPages], (e) => e.constructor.name);
      const out = [];
      for (const args of [[], [''], [':memory:'], [dir + '/x.db', 1], [dir + '/x.db', { attached: '' }], [dir + '/x.db', { progress: 1 }],
                          [dir + '/none/x.db'], [dir + '/x.db', { attached: 'nope' }], [dir + '/x.db', { progress: () => 'x' }]]) {
        out.push(await outcome(db.backup(...args)));
      }
      require('fs').writeFileSync(dir + '/text.db', 'not a database file');
      out.push(await outcome(db.backup(dir + '/text.db')));
      const states = [];
      out.push(await outcome(db.backup(dir + '/copy.db', { progress: (s) => (states.push(s.remainingPages === s.totalPages), 2) })));
      out.push(states.length > 2 && states[0]);
      out.push(await outcome(db.backup(dir + '/copy.db')));
      const closing = db.backup(dir + '/closed.db', { progress: () => 1 });
      await new Promise(setImmediate); await new Promise(setImmediate);
      db.close();
      out.push(await outcome(closing));
      out.push(require('fs').existsSync(dir + '/closed.db'));
      console.log(JSON.stringify(out));
    })()`;
    const ours = runScript(script(PACKAGE_ROOT), "node");
    const theirs = runScript(script(PACKAGE_ROOT + "/node_modules/better-sqlite3"), "node");
    expect(ours.stderr).toBe("");
    expect(theirs.stderr).toBe("");
    const expected = [
      "TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError",
      "TypeError", "SqliteError", "TypeError", "SqliteError",
      [true, 0], true, [true, 0], "TypeError", false,
    ];
    expect(JSON.parse(ours.stdout)).toEqual(expected);
    expect(JSON.parse(theirs.stdout)).toEqual(expected);
  });
});
