// The `verbose` option of the async handle: the logger gets the SQL of each
// statement the caller runs, on the JS thread, before the statement runs; a
// throwing logger rejects the call and the statement never runs.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../../index.js";
import { tempDir } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-verbose")));
afterEach(() => tmp.cleanup());

describe("the verbose option of openAsync()", () => {
  it("should log what the sync face logs for the same calls (statements without parameters)", async () => {
    const calls = async (db: any, sync: boolean) => {
      const wait = async (value: any) => (sync ? value : await value);
      await wait(db.exec("CREATE TABLE t (x); -- the index\n CREATE INDEX tx ON t (x) ;; /* end */"));
      await wait((await wait(db.prepare("INSERT INTO t VALUES (1)"))).run());
      const stmt = await wait(db.prepare("SELECT x FROM t"));
      await wait(stmt.get());
      await wait(stmt.all());
      if (sync) for (const _ of stmt.iterate());
      else for await (const _ of stmt.iterate());
    };
    const syncLog: string[] = [];
    const sync = new HardenedDb(tmp.path("sync.db"), { verbose: (sql: unknown) => void syncLog.push(sql as string) });
    await calls(sync, true);
    sync.close();
    const asyncLog: string[] = [];
    const db = await HardenedDb.openAsync(tmp.path("async.db"), { verbose: (sql: unknown) => void asyncLog.push(sql as string) });
    await calls(db, false);
    expect(asyncLog).toEqual(syncLog);
    // exec(): each statement of the script, as the sync face splits it.
    expect(asyncLog).toEqual(["CREATE TABLE t (x);", "-- the index\n CREATE INDEX tx ON t (x) ;", "INSERT INTO t VALUES (1)", "SELECT x FROM t", "SELECT x FROM t", "SELECT x FROM t"]);
    await db.close();
  });

  it("should log before the statement runs, with this undefined, inside transactions too (not their savepoints)", async () => {
    const path = tmp.path("app.db");
    const seen: Array<{ sql: string; rows: number; self: unknown }> = [];
    let reader: HardenedDb | undefined;
    const db = await HardenedDb.openAsync(path, {
      verbose(this: unknown, sql: unknown) {
        // A separate connection: what the database held when the statement was logged.
        const rows = reader ? (reader.prepare("SELECT count(*) FROM t").pluck().get() as number) : -1;
        seen.push({ sql: sql as string, rows, self: this });
      },
    });
    await db.exec("CREATE TABLE t (x)");
    reader = new HardenedDb(path, { readonly: true });
    await db.run("INSERT INTO t VALUES (?)", 1);
    await db.transaction(async (tx: any) => {
      await tx.run("INSERT INTO t VALUES (?)", 2);
      await tx.transaction((inner: any) => inner.get("SELECT count(*) AS n FROM t"));
      const stmt = await tx.prepare("SELECT x FROM t");
      for await (const _ of stmt.iterate());
    });
    reader.close();
    reader = undefined;
    expect(seen).toEqual([
      { sql: "CREATE TABLE t (x)", rows: -1, self: undefined },
      { sql: "INSERT INTO t VALUES (?)", rows: 0, self: undefined },
      { sql: "INSERT INTO t VALUES (?)", rows: 1, self: undefined },
      { sql: "SELECT count(*) AS n FROM t", rows: 1, self: undefined },
      { sql: "SELECT x FROM t", rows: 1, self: undefined },
    ]);
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 2 });
    await db.close();
  });

  it("should reject the call with what a throwing logger threw, without running the statement", async () => {
    const boom = new Error("logger failed");
    let armed = false;
    const db = await HardenedDb.openAsync(tmp.path("app.db"), {
      verbose: () => {
        if (armed) throw boom;
      },
    });
    await db.exec("CREATE TABLE t (x)");
    armed = true;
    await expect(db.run("INSERT INTO t VALUES (1)")).rejects.toBe(boom);
    await expect(db.exec("INSERT INTO t VALUES (1)")).rejects.toBe(boom);
    // The logger throws on the second statement of a script: no statement of it runs.
    let logged = 0;
    const partial = await HardenedDb.openAsync(tmp.path("partial.db"), { verbose: () => { if (++logged === 2) throw boom; } });
    await expect(partial.exec("CREATE TABLE a (x); CREATE TABLE b (x)")).rejects.toBe(boom);
    expect(await partial.all("SELECT name FROM sqlite_schema")).toEqual([]);
    await partial.close();
    const stmt = await db.prepare("SELECT x FROM t");
    await expect((async () => { for await (const _ of stmt.iterate()); })()).rejects.toBe(boom);
    await expect(db.transaction((tx: any) => tx.run("INSERT INTO t VALUES (1)"))).rejects.toBe(boom);
    armed = false;
    expect(await db.get("SELECT count(*) AS n FROM t")).toEqual({ n: 0 });
    await expect(HardenedDb.openAsync(tmp.path("app.db"), { verbose: "yes" as any })).rejects.toMatchObject({ code: "HARDENED_INVALID_OPTION" });
    await db.close();
  });
});
