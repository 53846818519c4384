// bun:sqlite conformance: db.onInsert, db.onUpdate and db.onDelete
// (sqlite3_update_hook): what each hook gets, what SQLite does not report,
// the connection busy while a hook runs, argument checks, and a hook that
// throws (reported as an uncaught exception; the statement goes on). Scenarios
// run on bun:sqlite and on hardened-sqlite/bun; see faces.ts.
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { failure, same } from "./faces";

describe("update hooks", () => {
  it("should call each hook with (db, tableName, rowid, schemaName) and this the database, per row, while the statement runs", () => {
    same((face) => {
      const db = new face.Database();
      const seen: unknown[] = [];
      db.onInsert = function (this: unknown, hooked: unknown, table: string, rowid: number, schema: string) {
        seen.push(["insert", this === db, hooked === db, table, rowid, schema]);
      };
      db.onUpdate = (_: unknown, table: string, rowid: number, schema: string) => seen.push(["update", table, rowid, schema]);
      db.onDelete = (_: unknown, table: string, rowid: number, schema: string) => seen.push(["delete", table, rowid, schema]);
      db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, x)");
      db.run("INSERT INTO t (x) VALUES (1), (2)");
      db.query("UPDATE t SET id = 7 WHERE id = 2").run();
      db.prepare("DELETE FROM t WHERE id = ?").run(1);
      db.run("ATTACH ':memory:' AS aux");
      db.run("CREATE TABLE aux.u (x)");
      db.transaction(() => db.run("INSERT INTO aux.u VALUES (1)"))();
      // Not reported: WITHOUT ROWID tables.
      db.run("CREATE TABLE w (k PRIMARY KEY) WITHOUT ROWID");
      db.run("INSERT INTO w VALUES (1)");
      return [seen, db.onInsert !== null, typeof db.onUpdate];
    }, {
      value: [[
        ["insert", true, true, "t", 1, "main"], ["insert", true, true, "t", 2, "main"], ["update", "t", 7, "main"],
        ["delete", "t", 1, "main"], ["insert", true, true, "u", 1, "aux"],
      ], true, "function"],
    });
  });

  it("should report a change that is rolled back later, and stop once the hook is null", () => {
    same((face) => {
      const db = new face.Database();
      const seen: unknown[] = [];
      db.run("CREATE TABLE t (x)");
      db.onInsert = (_: unknown, table: string, rowid: number) => seen.push([table, rowid]);
      try {
        db.transaction(() => {
          db.run("INSERT INTO t VALUES (1)");
          throw new Error("roll back");
        })();
      } catch {}
      db.onInsert = null;
      db.run("INSERT INTO t VALUES (2)");
      return [seen, db.onInsert, db.query("SELECT count(*) AS n FROM t").get()];
    }, { value: [[["t", 1]], null, { n: 1 }] });
  });

  it("should give rowids as bigints under safeIntegers", () => {
    same((face) => {
      const db = new face.Database(":memory:", { safeIntegers: true });
      const seen: unknown[] = [];
      db.onInsert = (_: unknown, _table: string, rowid: unknown) => seen.push(typeof rowid);
      db.run("CREATE TABLE t (x)");
      db.run("INSERT INTO t VALUES (1)");
      return seen;
    }, { value: ["bigint"] });
  });

  it("should refuse every other use of the connection while a hook runs, setting a hook too", () => {
    same((face) => {
      const db = new face.Database();
      const seen: unknown[] = [];
      db.run("CREATE TABLE t (x)");
      db.onInsert = (hooked: any) => {
        seen.push(failure(() => hooked.query("SELECT 1").get()));
        seen.push(failure(() => hooked.run("INSERT INTO t VALUES (9)")));
        seen.push(failure(() => hooked.close()));
      };
      db.run("INSERT INTO t VALUES (1)");
      db.onInsert = null;
      return [seen, db.query("SELECT x FROM t").values()];
    }, {
      value: [Array(3).fill(["TypeError", "This database connection is busy executing a query"]), [[1]]],
    });
  });

  it("should take a function, null or undefined, and refuse anything else with a TypeError", () => {
    same((face) => {
      const db = new face.Database();
      const outcomes = [5, "x", {}].map((value) => failure(() => (db.onDelete = value)));
      db.onDelete = () => {};
      db.onDelete = undefined;
      return [outcomes, db.onDelete, db.onInsert, db.onUpdate];
    }, { value: [Array(3).fill(["TypeError", "Expected a function or null"]), null, null, null] });
  });

  it("should report what a hook throws as an uncaught exception and go on with the statement", async () => {
    const script = (module: string) => `
      const { Database } = require(${JSON.stringify(module)});
      const reported = [];
      process.on("uncaughtException", (error) => reported.push(error.message.split(": ")[0]));
      const db = new Database();
      db.run("CREATE TABLE t (x)");
      let first = true;
      db.onInsert = (hooked) => {
        if (!first) throw new Error("hook threw");
        first = false;
        hooked.onInsert = null;
      };
      db.run("INSERT INTO t VALUES (1), (2)");
      const count = db.query("SELECT count(*) AS n FROM t").get().n;
      setTimeout(() => console.log(JSON.stringify({ count, reported: reported.sort(), hook: typeof db.onInsert })), 20);
    `;
    const run = async (module: string) => {
      const child = Bun.spawn([process.execPath, "-e", script(module)], { stdout: "pipe", stderr: "pipe" });
      const [out] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      return JSON.parse(out);
    };
    const expected = {
      count: 2,
      reported: ["This database connection is busy executing a query", "hook threw"],
      hook: "function",
    };
    expect(await run("bun:sqlite")).toEqual(expected);
    expect(await run(join(import.meta.dir, "..", "..", "bun.js"))).toEqual(expected);
  });
});
