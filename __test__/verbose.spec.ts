// The `verbose` option (issue #10): better-sqlite3's logger gets each statement's text,
// parameters written in (long strings and BLOBs cut after 32 bytes), after binding and
// just before the statement runs, so a logger that throws stops the statement. Where it
// can, a scenario runs under Node against both better-sqlite3 12 (the oracle) and this
// package, and the two outcomes must be equal; the rest runs under Bun.
import { describe, it, expect } from "bun:test";
import { thrown, oracle } from "./helpers";

const Database = require("../index.js");

/** A scenario (see `oracle`): a logger that throws when `fail` is set, and a function counting its calls meanwhile. */
const ABORTING = `
  let fail = false;
  let failures = 0;
  const err = new Error('foo');
  const db = new Database('', { verbose: () => { if (fail) throw err; } });
  db.prepare('create table data (x)').run();
  db.function('fn', (value) => { if (fail) failures += 1; return value; });
  const outcome = (fn) => {
    const out = [];
    for (const failing of [false, true, false]) {
      fail = failing;
      try { out.push(['ok', JSON.stringify(fn() ?? null)]) } catch (e) { out.push([e === err ? 'logger threw' : e.constructor.name + ': ' + e.message]) }
    }
    fail = false;
    return out;
  };
`;

describe("the verbose logger", () => {
  it("should call verbose with each statement's text, parameters expanded, as better-sqlite3 does", () => {
    const scenario = `
      const calls = [];
      const db = new Database('', { verbose: (...args) => calls.push(args) });
      const stmt = db.prepare('select ?');
      db.exec('select 5; select 6');
      db.prepare('create table data (x)').run();
      stmt.get(BigInt(10));
      stmt.all(BigInt(15));
      stmt.iterate(BigInt(20)).return();
      for (const x of stmt.iterate(BigInt(25))) {}
      db.pragma('cache_size');
      db.prepare("insert into data values (?)").run("it's");
      try { db.prepare("insert into data values (?)").run({}) } catch {}
      try { db.exec("select 7; selec 8") } catch {}
      db.close();
      return calls;`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
    expect(ours).toContainEqual(["insert into data values ('it''s')"]);
  });

  it("should report a statement that failed, and throw what verbose throws", () => {
    const seen: string[] = [];
    const db = new Database("", { verbose: (sql: string) => seen.push(sql) });
    db.exec("CREATE TABLE t (x UNIQUE)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    insert.run(1);
    expect(thrown(() => insert.run(1)).code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    expect(seen).toEqual(["CREATE TABLE t (x UNIQUE)", "INSERT INTO t VALUES (1.0)", "INSERT INTO t VALUES (1.0)"]);
    db.close();
    const failing = new Error("logger failed");
    const loud = new Database("", { verbose: () => { throw failing; } });
    expect(thrown(() => loud.prepare("SELECT 1").get())).toBe(failing);
    loud.close();
  });

  it("should take verbose null or undefined as none, and refuse anything but a function", () => {
    for (const verbose of [null, undefined]) new Database("", { verbose }).close();
    for (const verbose of [false, true, 123, "null", {}, []]) {
      const error = thrown(() => new Database("", { verbose } as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_OPTION");
      expect(error.message).toContain('"verbose"');
    }
  });

  it("should be called before the statement runs, so a logger that throws stops it, as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`${ABORTING}
      const use = (sql, fn) => { const stmt = db.prepare(sql); return () => fn(stmt) };
      const results = [
        outcome(() => { db.exec('select fn(5)') }),
        outcome(() => { db.exec('insert into data values (1); select fn(6)') }),
        outcome(use('insert into data values (fn(5))', (s) => s.run().changes)),
        outcome(use('insert into data values (fn(?))', (s) => s.run(5).changes)),
        outcome(use('select fn(?) as v', (s) => s.get(5))),
        outcome(use('select fn(?) as v', (s) => s.all(5))),
        outcome(use('select fn(?) as v', (s) => Array.from(s.iterate(5)))),
        outcome(use('select fn(?) as v', (s) => s.iterate(5).return())),
        outcome(() => db.pragma('user_version', { simple: true })),
        outcome(db.transaction(() => db.prepare('select count(*) as n from data').get())),
      ];
      return { results, failures, rows: db.prepare('select x from data').pluck().all(), inTransaction: db.inTransaction };`);
    expect(ours).toEqual(bs3);
    expect((ours as any).failures).toBe(0);
    expect((ours as any).results[0]).toEqual([["ok", "null"], ["logger threw"], ["ok", "null"]]);
    // Each call whose logger threw inserted nothing.
    expect((ours as any).rows).toEqual([1, 1, 5, 5, 5, 5]);
  });

  it("should cut long bound strings and BLOBs after 32 bytes, as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`
      const calls = [];
      const db = new Database('', { verbose: (sql) => calls.push(sql) });
      const stmt = db.prepare('select ?, ?');
      stmt.get('this is a fairly short parameter', Buffer.alloc(4, 1));
      stmt.get('this is a slightly longer parameter', Buffer.alloc(40, 2));
      stmt.get('this is surely a very long bound parameter value that doesnt need to be logged in its entirety', 'é'.repeat(20));
      db.prepare('select :a').get({ a: 'x'.repeat(100) });
      return calls;`);
    expect(ours).toEqual(bs3);
    expect((ours as string[])[2]).toBe("select 'this is surely a very long bound'/*+62 bytes*/, 'éééééééééééééééé'/*+8 bytes*/");
  });

  it("should log before the function runs and at an iteration's first row, not at iterate()", () => {
    const seen: string[] = [];
    const db = new Database("", { verbose: (sql: string) => seen.push(sql) });
    db.function("note", (v: number) => {
      seen.push(`fn ${v}`);
      return v;
    });
    db.prepare("select note(?)").get(1);
    const stmt = db.prepare("select note(value) as v from json_each(?)");
    stmt.iterate("[2]").return();
    expect(seen).toEqual(["select note(1.0)", "fn 1"]);
    const rows = stmt.iterate("[3, 4]");
    expect(seen).toEqual(["select note(1.0)", "fn 1"]);
    expect(rows.next().value).toEqual({ v: 3 });
    expect(Array.from(rows)).toEqual([{ v: 4 }]);
    expect(seen).toEqual(["select note(1.0)", "fn 1", "select note(value) as v from json_each('[3, 4]')", "fn 3", "fn 4"]);
    db.close();
  });

  it("should bind the values of a logged call for that call only, and refuse to run the statement from its own logger", () => {
    let reenter: (() => unknown) | null = null;
    const db = new Database("", {
      verbose: () => {
        const again = reenter;
        reenter = null;
        if (again) again();
      },
    });
    const stmt = db.prepare("select ? as v");
    expect(stmt.get(1)).toEqual({ v: 1 });
    expect(stmt.get(2)).toEqual({ v: 2 });
    expect(thrown(() => stmt.get()).code).toBe("HARDENED_PARAMETER_COUNT");
    reenter = () => stmt.get(3);
    const error = thrown(() => stmt.get(4));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe("HARDENED_STATEMENT_BUSY");
    reenter = () => stmt.bind(5);
    expect(thrown(() => stmt.get(6)).code).toBe("HARDENED_STATEMENT_BUSY");
    expect(stmt.get(7)).toEqual({ v: 7 });
    const bound = db.prepare("select ? as v").bind(8);
    expect(bound.get()).toEqual({ v: 8 });
    expect(thrown(() => bound.get(9)).code).toBe("HARDENED_ALREADY_BOUND");
    db.close();
  });

  it("should survive a logger that closes the database: the call throws, nothing crashes", () => {
    let db: any;
    db = new Database("", { verbose: () => db.close() });
    const stmt = db.prepare("select 1 as v");
    const error = thrown(() => stmt.get());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe("HARDENED_NOT_OPEN");
    expect(db.open).toBe(false);
    let closing = false;
    const other = new Database("", { verbose: (sql: string) => closing && sql.includes("(2)") && other.close() });
    other.exec("create table t (x)");
    closing = true;
    expect(thrown(() => other.exec("insert into t values (1); insert into t values (2)")).code).toBe("HARDENED_NOT_OPEN");
    expect(other.open).toBe(false);
  });
});
