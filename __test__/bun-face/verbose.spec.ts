// The `verbose` option in the bun face (ours; bun:sqlite has none): the logger
// gets each statement's SQL with its values written in, before it runs, from
// query(), prepare() and run() (scripts statement by statement), while the
// results stay what bun:sqlite returns for the same calls without a logger.
import { describe, expect, it } from "bun:test";
import * as peer from "bun:sqlite";
import { ours } from "./faces";

/** The calls of a small Bun app, on `db`; returns what each gave. */
function app(db: any) {
  const results: unknown[] = [];
  results.push(db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES ('a')"));
  results.push(db.run("INSERT INTO t (name) VALUES (?)", "b"));
  results.push(db.run("INSERT INTO t (name) VALUES ($name); INSERT INTO t (name) VALUES ('d')", { $name: "c" }));
  const select = db.query("SELECT * FROM t WHERE id >= ?");
  results.push(select.get(2), select.all(3), select.values(4), [...select.iterate(2)], select.get());
  const prepared = db.prepare("SELECT name FROM t WHERE id = ?", 3);
  results.push(prepared.get(), prepared.all());
  const insert = db.prepare("INSERT INTO t (name) VALUES ($n)");
  results.push(insert.get({ $n: "e" }), db.transaction(() => insert.run({ $n: "f" }))());
  results.push([...insert.iterate({ $n: "g" })], db.query("PRAGMA busy_timeout = 250").all(), [...db.query("PRAGMA busy_timeout").iterate()]);
  results.push(select.toString());
  return results;
}

describe("verbose in the bun face", () => {
  it("should log every statement of query(), prepare() and run() before it runs, with the results bun:sqlite gives", () => {
    const logged: Array<[string, unknown]> = [];
    const db = new (ours().Database)(":memory:", {
      verbose(this: unknown, sql: string) {
        logged.push([sql, this]);
      },
    });
    const expected = app(new peer.Database(":memory:"));
    expect(app(db)).toEqual(expected);
    expect(logged.every(([, self]) => self === undefined)).toBe(true);
    expect(logged.map(([sql]) => sql)).toEqual([
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);",
      "INSERT INTO t (name) VALUES ('a')",
      "INSERT INTO t (name) VALUES ('b')",
      "INSERT INTO t (name) VALUES ('c');",
      "INSERT INTO t (name) VALUES ('d')",
      "SELECT * FROM t WHERE id >= 2",
      "SELECT * FROM t WHERE id >= 3",
      "SELECT * FROM t WHERE id >= 4",
      "SELECT * FROM t WHERE id >= 2",
      "SELECT * FROM t WHERE id >= 2",
      "SELECT name FROM t WHERE id = 3",
      "SELECT name FROM t WHERE id = 3",
      "INSERT INTO t (name) VALUES ('e')",
      "BEGIN IMMEDIATE",
      "INSERT INTO t (name) VALUES ('f')",
      "COMMIT",
      "INSERT INTO t (name) VALUES ('g')",
      "PRAGMA busy_timeout = 250",
      "PRAGMA busy_timeout",
    ]);
    db.close();
  });

  it("should not run a statement whose logger throws, and throw what it threw", () => {
    let refuse = false;
    const db = new (ours().Database)(":memory:", {
      verbose() {
        if (refuse) throw new Error("logger refused");
      },
    });
    db.run("CREATE TABLE t (x)");
    refuse = true;
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    for (const call of [() => insert.run(1), () => db.run("INSERT INTO t VALUES (2)"), () => db.query("SELECT 1").get()]) {
      expect(call).toThrow("logger refused");
    }
    refuse = false;
    expect(db.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    expect(insert.run(3)).toEqual({ changes: 1, lastInsertRowid: 1 });
    db.close();
  });
});
