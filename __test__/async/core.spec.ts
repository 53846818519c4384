// The async handle's queries: open, routing, values, bindings and errors,
// compared with what the sync handle returns for the same SQL.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, AsyncHardenedDb, SqliteError } from "../../index.js";
import { statSync } from "node:fs";
import { tempDir, exists } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async")));
afterEach(() => tmp.cleanup());

const MIGRATIONS = [{ version: 1, name: "init", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v, b BLOB)" }];

describe("HardenedDb.openAsync()", () => {
  it("should open a writer and the requested readers, with migrations run once before it resolves", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { migrations: MIGRATIONS, readers: 3 });
    expect(db).toBeInstanceOf(AsyncHardenedDb);
    expect(db.readers).toBe(3);
    expect(db.name).toBe(path);
    expect(await db.get("PRAGMA user_version")).toEqual({ user_version: 1 });
    expect(await db.get("PRAGMA journal_mode")).toEqual({ journal_mode: "wal" });
    await db.close();
    const sync = new HardenedDb(path);
    expect(sync.prepare("SELECT name FROM sqlite_schema WHERE name NOT LIKE '\\_%' ESCAPE '\\'").pluck().all()).toEqual(["t"]);
    sync.close();
  });

  it("should validate the options as the sync constructor does, plus its own", async () => {
    const path = tmp.path("app.db");
    await expect(HardenedDb.openAsync(path, { busyTimout: 5 } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION", message: expect.stringContaining('did you mean "busyTimeout"') });
    await expect(HardenedDb.openAsync(path, { readers: 0 })).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await expect(HardenedDb.openAsync(path, { transactionTimeout: -1 })).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await expect(HardenedDb.openAsync(path, { busyTimeout: -1 })).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await expect(HardenedDb.openAsync(path, { verbose: 1 } as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await expect(HardenedDb.openAsync(":memory:")).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await expect(HardenedDb.openAsync(tmp.path("missing.db"), { fileMustExist: true })).rejects.toBeInstanceOf(SqliteError);
    expect(exists(tmp.path("missing.db"))).toBe(false);
  });

  it("should fail with HARDENED_NOT_A_DATABASE on a file that is not a database, leaving nothing open", async () => {
    const path = tmp.path("notes.db");
    await Bun.write(path, "x".repeat(4096));
    await expect(HardenedDb.openAsync(path)).rejects.toMatchObject({ code: "HARDENED_NOT_A_DATABASE" });
  });

  it("should run a failed migration's error and leave no connection open", async () => {
    const path = tmp.path("app.db");
    const bad = [{ version: 1, name: "bad", sql: "CREATE TABLE" }];
    await expect(HardenedDb.openAsync(path, { migrations: bad })).rejects.toBeInstanceOf(Error);
    // Nothing holds the file: a sync handle removes -wal on close.
    const sync = new HardenedDb(path);
    sync.close();
    expect(exists(path + "-wal")).toBe(false);
  });
});

describe("the options the JS side handles", () => {
  it("should run healthCheck before it resolves, and a PASSIVE checkpoint every checkpointInterval", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { healthCheck: true, checkpointInterval: 20, walAutocheckpoint: 0 });
    await db.exec("CREATE TABLE t (x); WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 5000) INSERT INTO t SELECT randomblob(100) FROM c");
    const before = statSync(path).size;
    // The checkpointer copies the -wal into the database file: it grows (bounded wait).
    for (let i = 0; i < 250 && statSync(path).size === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(path).size).toBeGreaterThan(before);
    await db.close();
  });
});

describe("get/all/run/exec", () => {
  it("should return the rows and values the sync handle returns for the same SQL", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { migrations: MIGRATIONS, readers: 2 });
    expect(await db.run("INSERT INTO t (v, b) VALUES (?, ?)", 1.5, Buffer.from("hi"))).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(await db.run("INSERT INTO t (v) VALUES (:v)", { v: "text" })).toEqual({ changes: 1, lastInsertRowid: 2 });
    expect(await db.run("INSERT INTO t (v) VALUES (@v)", { v: 2n ** 40n })).toEqual({ changes: 1, lastInsertRowid: 3 });
    expect(await db.run("INSERT INTO t (v) VALUES ($v)", [true].map((v) => ({ v }))[0])).toEqual({ changes: 1, lastInsertRowid: 4 });
    const sql = "SELECT id, v, typeof(v) AS type, b, ? / ? AS ratio FROM t ORDER BY id";
    const rows = await db.all(sql, 5, 2);
    const sync = new HardenedDb(path);
    expect(rows).toEqual(sync.prepare(sql).all(5, 2));
    expect(rows[0].b).toBeInstanceOf(Buffer);
    expect(rows[0].ratio).toBe(2.5);
    expect(await db.get("SELECT v FROM t WHERE id = ?", [3])).toEqual({ v: 2 ** 40 });
    expect(await db.get("SELECT v FROM t WHERE id = ?", 99)).toBeUndefined();
    sync.close();
    await db.close();
  });

  it("should read integers as bigint with safeIntegers, and refuse to round one beyond 2^53", async () => {
    const path = tmp.path("app.db");
    const db = await HardenedDb.openAsync(path, { migrations: MIGRATIONS });
    await db.run("INSERT INTO t (id, v) VALUES (?, ?)", 1, 2n ** 60n);
    await expect(db.get("SELECT v FROM t")).rejects.toMatchObject({ code: "HARDENED_INTEGER_OVERFLOW" });
    const stmt = await db.prepare("SELECT id, v FROM t");
    expect(await stmt.safeIntegers().get()).toEqual({ id: 1n, v: 2n ** 60n });
    await db.close();
    const big = await HardenedDb.openAsync(path, { safeIntegers: true });
    expect(await big.get("SELECT v FROM t")).toEqual({ v: 2n ** 60n });
    expect((await big.run("INSERT INTO t (v) VALUES (1)")).lastInsertRowid).toBe(2n);
    await big.close();
  });

  it("should give the sync API's binding errors", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    await expect(db.get("SELECT ?", 1, 2)).rejects.toMatchObject({ code: "HARDENED_PARAMETER_COUNT" });
    await expect(db.get("SELECT ?, ?", 1)).rejects.toMatchObject({ code: "HARDENED_PARAMETER_COUNT" });
    await expect(db.get("SELECT :a", { b: 1 })).rejects.toMatchObject({ code: "HARDENED_MISSING_PARAMETER" });
    await expect(db.get("SELECT :a", { a: 1 }, { b: 2 })).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await expect(db.get("SELECT ?", new Date())).rejects.toBeInstanceOf(TypeError);
    await expect(db.get("SELECT ?", 2n ** 70n)).rejects.toMatchObject({ code: "HARDENED_INTEGER_OVERFLOW" });
    await expect(db.get("SELECT 1; SELECT 2")).rejects.toMatchObject({ code: "HARDENED_MULTIPLE_STATEMENTS" });
    await expect(db.get("  -- nothing")).rejects.toMatchObject({ code: "HARDENED_NO_STATEMENT" });
    await expect(db.get("SELEC 1")).rejects.toBeInstanceOf(SqliteError);
    await expect(db.all("CREATE TABLE u (x)")).rejects.toMatchObject({ code: "HARDENED_NOT_A_READER" });
    await expect(db.get(42 as any)).rejects.toMatchObject({ code: "HARDENED_INVALID_ARGUMENT" });
    await db.close();
  });

  it("should refuse BEGIN outside db.transaction() and leave no connection inside a transaction", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS, readers: 1 });
    await expect(db.run("BEGIN")).rejects.toMatchObject({ code: "HARDENED_TRANSACTION_CONTROL" });
    await expect(db.exec("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES (1)")).rejects.toMatchObject({ code: "HARDENED_TRANSACTION_CONTROL" });
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 0 });
    await db.run("INSERT INTO t (v) VALUES (1)");
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 1 });
    await db.close();
  });

  it("should run exec() scripts on the writer and keep the hardened authorizer", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"));
    await db.exec("CREATE TABLE a (x); INSERT INTO a VALUES (1), (2);");
    expect(await db.all("SELECT x FROM a")).toEqual([{ x: 1 }, { x: 2 }]);
    await expect(db.run("PRAGMA synchronous = OFF")).rejects.toMatchObject({ code: "HARDENED_WEAKER_PRAGMA" });
    await expect(db.get("SELECT load_extension('x')")).rejects.toBeInstanceOf(Error);
    await db.close();
  });
});

describe("prepare()", () => {
  it("should describe the statement and run reads on readers, writes on the writer", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS });
    const insert = await db.prepare("INSERT INTO t (v) VALUES (?) RETURNING id");
    const select = await db.prepare("SELECT v FROM t WHERE id = ?");
    expect([insert.readonly, insert.reader, select.readonly, select.reader]).toEqual([false, true, true, true]);
    expect(await insert.get("a")).toEqual({ id: 1 });
    expect(await insert.run("b")).toEqual({ changes: 1, lastInsertRowid: 2 });
    expect(await select.all(2)).toEqual([{ v: "b" }]);
    const create = await db.prepare("CREATE TABLE u (x)");
    await expect(create.get()).rejects.toMatchObject({ code: "HARDENED_NOT_A_READER" });
    await expect(db.prepare("SELECT * FROM nowhere")).rejects.toBeInstanceOf(SqliteError);
    await db.close();
  });
});

describe("reads and writes side by side", () => {
  it("should answer a read while writes queue, and keep writes in call order", async () => {
    const db = await HardenedDb.openAsync(tmp.path("app.db"), { migrations: MIGRATIONS, readers: 2 });
    const writes = Array.from({ length: 50 }, (_, i) => db.run("INSERT INTO t (v) VALUES (?)", i));
    const reads = Array.from({ length: 20 }, () => db.get("SELECT count(*) AS n FROM t"));
    const counts = (await Promise.all(reads)).map((r) => r.n);
    for (const n of counts) expect(n >= 0 && n <= 50).toBe(true);
    const ids = (await Promise.all(writes)).map((r) => r.lastInsertRowid);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await db.all("SELECT v FROM t ORDER BY id")).toEqual(Array.from({ length: 50 }, (_, i) => ({ v: i })));
    await db.close();
  });
});

describe("close()", () => {
  it("should finish queued work, then refuse new calls, remove -wal, and work with await using", async () => {
    const path = tmp.path("app.db");
    {
      await using db = await HardenedDb.openAsync(path, { migrations: MIGRATIONS });
      const queued = Array.from({ length: 30 }, (_, i) => db.run("INSERT INTO t (v) VALUES (?)", i));
      const closing = db.close();
      expect(db.open).toBe(false);
      await expect(db.get("SELECT 1")).rejects.toMatchObject({ code: "HARDENED_NOT_OPEN" });
      expect((await Promise.all(queued)).length).toBe(30);
      await closing;
      await db.close();
    }
    expect(exists(path + "-wal")).toBe(false);
    const sync = new HardenedDb(path);
    expect(sync.prepare("SELECT count(*) FROM t").pluck().get()).toBe(30);
    sync.close();
  });
});
