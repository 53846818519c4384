// await db.backup() and await db.vacuum() of the async handle: off the event loop,
// the sync backup's file guarantees (mode, checks, atomic rename), writes queued FIFO.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { readdirSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { HardenedDb } from "../../index.js";
import { tempDir, modeOf, exists, runScript, readOnly } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-backup")));
afterEach(() => tmp.cleanup());

/** About 6 MB: 3,000 rows with a 2,000-byte BLOB each. */
const FILL =
  "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB); " +
  "WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 3000) INSERT INTO t SELECT v, 'row ' || v, randomblob(2000) FROM c";

const rowsOf = (path: string) => readOnly(path, (db) => db.prepare("SELECT id, s, hex(b) AS b FROM t ORDER BY id").all());

describe("db.backup()", () => {
  it("should copy every row off the event loop (a timer ticks meanwhile) into a 0600 file", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { readers: 1 });
    await db.exec(FILL);
    const dest = tmp.path("copy.db");
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const seen: Array<{ totalPages: number; remainingPages: number }> = [];
    let result: any;
    try {
      result = await db.backup(dest, { progress: (p: any) => void seen.push({ ...p }) });
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
    expect(result.remainingPages).toBe(0);
    expect(result.totalPages).toBeGreaterThan(1000);
    expect(result.path).toBe(dest);
    expect(result.bytes).toBe(statSync(dest).size);
    expect(Object.keys(result)).toEqual(["totalPages", "remainingPages"]);
    // 100 pages per step after a first step that copies none.
    expect(seen.length).toBeGreaterThan(10);
    expect(seen[0].remainingPages).toBe(seen[0].totalPages);
    expect(seen[1].remainingPages).toBe(seen[1].totalPages - 100);
    expect(modeOf(dest)).toBe(0o600);
    const source = await db.all("SELECT id, s, hex(b) AS b FROM t ORDER BY id");
    expect(rowsOf(dest)).toEqual(source);
    // Nothing but the copy was left in the directory.
    expect(readdirSync(tmp.dir).filter((n) => !n.startsWith("app.db")).sort()).toEqual(["copy.db"]);
    await db.close();
  });

  it("should serve reads and writes while it runs, and leave a sound copy", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { readers: 1 });
    await db.exec(FILL);
    const dest = tmp.path("copy.db");
    // The backup pauses (progress returns 0) until a write and a read made during it have finished.
    const done: string[] = [];
    let pending: Promise<unknown> | null = null;
    let rounds = 0;
    const result = await db.backup(dest, {
      progress() {
        if (pending === null && rounds < 3) {
          rounds++;
          pending = Promise.all([
            db.run("INSERT INTO t (s) VALUES (?)", `during ${rounds}`).then(() => done.push(`write ${rounds}`)),
            db.get("SELECT count(*) AS n FROM t").then(() => done.push(`read ${rounds}`)),
          ]).then(() => (pending = null));
        }
        return pending === null ? 200 : 0;
      },
    });
    expect(done.sort()).toEqual(["read 1", "read 2", "read 3", "write 1", "write 2", "write 3"]);
    expect(result.remainingPages).toBe(0);
    const copy = new HardenedDb(dest, { readonly: true });
    expect(copy.integrityCheck()).toEqual([]);
    // Writes made during the backup restart it: the copy holds them all, a consistent state.
    expect(copy.prepare("SELECT count(*) FROM t").pluck().get()).toBe(3003);
    copy.close();
    await db.close();
  });

  it("should pause on a progress of 0, abort when progress throws, and leave nothing behind", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"));
    await db.exec(FILL);
    let calls = 0;
    const paused = await db.backup(tmp.path("paused.db"), { progress: () => (++calls < 5 ? 0 : Infinity) });
    expect(calls).toBe(5);
    expect(paused.remainingPages).toBe(0);
    expect(rowsOf(tmp.path("paused.db")).length).toBe(3000);
    const boom = new Error("stop the backup");
    await expect(db.backup(tmp.path("aborted.db"), { progress: () => { throw boom; } })).rejects.toBe(boom);
    await expect(db.backup(tmp.path("aborted.db"), { progress: () => "fast" as any })).rejects.toMatchObject({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" });
    expect(readdirSync(tmp.dir).filter((n) => n.includes("aborted"))).toEqual([]);
    await db.close();
  });

  it("should check the destination and the options as the sync backup() does", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path);
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB); INSERT INTO t (s) VALUES ('one')");
    await expect(db.backup(tmp.path("missing/copy.db"))).rejects.toMatchObject({ code: "HARDENED_BACKUP_NO_DIRECTORY" });
    writeFileSync(tmp.path("notes.txt"), "not a database");
    await expect(db.backup(tmp.path("notes.txt"))).rejects.toMatchObject({ code: "SQLITE_NOTADB" });
    await db.backup(tmp.path("copy.db"));
    await expect(db.backup(tmp.path("copy.db"), { overwrite: false })).rejects.toMatchObject({ code: "HARDENED_BACKUP_EXISTS" });
    await db.backup(tmp.path("notes.txt"), { overwrite: true });
    expect(rowsOf(tmp.path("notes.txt"))).toEqual([{ id: 1, s: "one", b: "" }]);
    await expect(db.backup(path)).rejects.toMatchObject({ code: "HARDENED_BACKUP_DESTINATION" });
    await expect(db.backup(path + "-wal", { overwrite: true })).rejects.toMatchObject({ code: "HARDENED_BACKUP_DESTINATION" });
    mkdirSync(tmp.path("dir"));
    await expect(db.backup(tmp.path("dir"))).rejects.toMatchObject({ code: "HARDENED_PATH_IS_DIRECTORY" });
    await expect(db.backup(":memory:")).rejects.toMatchObject({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.backup("  ")).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.backup(42 as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.backup(tmp.path("x.db"), { attached: "main" } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.backup(tmp.path("x.db"), { progress: 1 } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    expect(exists(tmp.path("x.db"))).toBe(false);
    await db.close();
    await expect(db.backup(tmp.path("late.db"))).rejects.toMatchObject({ code: "HARDENED_NOT_OPEN" });
  });

  it("should be waited for by close(), which then removes -wal", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path);
    await db.exec(FILL);
    const copied = db.backup(tmp.path("copy.db"));
    await db.close();
    expect((await copied).remainingPages).toBe(0);
    expect(rowsOf(tmp.path("copy.db")).length).toBe(3000);
    expect(exists(path + "-wal")).toBe(false);
  });
});

describe("a backup running at process exit", () => {
  it("should be aborted, leaving no temporary file, and the database closed without -wal (Node)", () => {
    const path = tmp.path("app.db");
    const code = `const { HardenedDb } = require('./index.js');
      (async () => {
        const db = await HardenedDb.openAsync(${JSON.stringify(path)});
        await db.exec(${JSON.stringify(FILL)});
        let steps = 0;
        db.backup(${JSON.stringify(tmp.path("copy.db"))}, { progress() { if (++steps === 3) process.exit(0); } });
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const { status, stderr } = runScript(code, "node");
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(readdirSync(tmp.dir)).toEqual(["app.db"]);
  }, 60_000);
});

describe("db.vacuum()", () => {
  it("should rewrite the file without its free pages, in turn with the writes queued around it", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"));
    await db.exec(FILL + "; DELETE FROM t WHERE id > 100");
    const before = (await db.get("PRAGMA freelist_count")) as { freelist_count: number };
    expect(before.freelist_count).toBeGreaterThan(1000);
    const order: string[] = [];
    const first = db.run("INSERT INTO t (s) VALUES ('first')").then(() => order.push("first"));
    const vacuumed = db.vacuum().then((pages: number) => (order.push("vacuum"), pages));
    const last = db.run("INSERT INTO t (s) VALUES ('last')").then(() => order.push("last"));
    const [, pages] = await Promise.all([first, vacuumed, last]);
    expect(order).toEqual(["first", "vacuum", "last"]);
    expect(pages).toBeGreaterThanOrEqual(before.freelist_count);
    expect(await db.get("PRAGMA freelist_count")).toEqual({ freelist_count: 0 });
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 102 });
    await db.close();
    await expect(db.vacuum()).rejects.toMatchObject({ code: "HARDENED_NOT_OPEN" });
  });
});
