// better-sqlite3's "busy" rules (issue #10): while an iterator of the connection is open,
// exec(), pragma(), close(), function(), aggregate(), loadExtension(), serialize(), run()
// and statements that write are refused with a TypeError (HARDENED_DATABASE_BUSY); reads
// on other statements keep working; unsafeMode() lifts the write rule only. The key cases
// run under Node against better-sqlite3 12 as the oracle.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../index.js";
import { oracle, runScript, tempDir, exists, thrown } from "./helpers";

let db: HardenedDb;
beforeEach(() => {
  db = new HardenedDb(":memory:");
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
});
afterEach(() => {
  if (db.open) db.close();
});

/** Each operation of the matrix, as a scenario line: `name: () => ...` (db, reader, writer in scope). */
const OPERATIONS = `{
  exec: () => db.exec('SELECT 1'),
  pragma: () => db.pragma('cache_size'),
  pragmaCheckpoint: () => db.pragma('wal_checkpoint(RESTART)'),
  prepare: () => db.prepare('DELETE FROM t'),
  close: () => db.close(),
  function: () => db.function('f' + (n++), () => 1),
  aggregate: () => db.aggregate('a' + (n++), { step: () => 1 }),
  serialize: () => db.serialize(),
  runWriter: () => writer.run(),
  runReader: () => db.prepare('SELECT 1').run(),
  getReader: () => reader.get(),
  allReader: () => reader.all(),
  iterateReader: () => Array.from(reader.iterate()),
  getSelf: () => self.get(),
  pluckSelf: () => self.pluck(),
  columnsSelf: () => self.columns(),
  defaultSafeIntegers: () => db.defaultSafeIntegers(false),
  inTransaction: () => db.inTransaction,
}`;

/** Runs every operation inside a loop over an open iterator; returns "allowed" or the error class per operation. */
const MATRIX = (setup: string) => `
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)');
  ${setup}
  const reader = db.prepare('SELECT x FROM t');
  const writer = db.prepare('UPDATE t SET x = x + 1');
  const self = db.prepare('SELECT x FROM t ORDER BY x');
  let n = 0;
  const ops = ${OPERATIONS};
  const out = {};
  for (const row of self.iterate()) {
    for (const [name, op] of Object.entries(ops)) {
      try { op(); out[name] = 'allowed' } catch (e) { out[name] = e.constructor.name }
    }
    break;
  }
  out.afterwards = (() => { try { writer.run(); db.exec('SELECT 1'); db.close(); return 'allowed' } catch (e) { return e.message } })();
  return out;
`;

describe("while an iterator is open", () => {
  it("should refuse and allow exactly what better-sqlite3 does", () => {
    const { bs3, ours } = oracle(MATRIX(""));
    expect(bs3.exec).toBe("TypeError");
    expect(bs3.getReader).toBe("allowed");
    expect(ours).toEqual(bs3);
  });

  it("should lift the write rule, and only it, in unsafeMode(), as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(MATRIX("db.unsafeMode()"));
    expect(bs3.runWriter).toBe("allowed");
    expect(bs3.close).toBe("TypeError");
    expect(ours).toEqual(bs3);
  });

  it("should throw TypeError HARDENED_DATABASE_BUSY with better-sqlite3's message and the way out", () => {
    const rows = db.prepare("SELECT x FROM t").iterate();
    rows.next();
    for (const call of [() => db.exec("SELECT 1"), () => db.close(), () => db.prepare("DELETE FROM t").run()]) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_DATABASE_BUSY");
      expect(e.message).toStartWith("This database connection is busy executing a query");
      expect(e.message).toContain("return()");
    }
    expect(db.open).toBe(true);
    rows.return();
    expect(db.prepare("DELETE FROM t").run().changes).toBe(3);
  });

  it("should refuse get(), all() and iterate() of a statement that writes (stricter than better-sqlite3, which checks run() only)", () => {
    const returning = db.prepare("INSERT INTO t VALUES (9) RETURNING x");
    const rows = db.prepare("SELECT x FROM t").iterate();
    rows.next();
    for (const call of [() => returning.get(), () => returning.all(), () => returning.iterate()]) {
      expect(thrown(call).code).toBe("HARDENED_DATABASE_BUSY");
    }
    rows.return();
    expect(returning.get()).toEqual({ x: 9 });
  });

  it("should count an iterator that read its last rows ahead as open until next() reports the end", () => {
    const rows = db.prepare("SELECT x FROM t").iterate();
    // The batches grow 1, 16, ...: the second next() has read all three rows and the end.
    expect([rows.next().value, rows.next().value, rows.next().value]).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    expect(thrown(() => db.close()).code).toBe("HARDENED_DATABASE_BUSY");
    expect(rows.next()).toEqual({ value: undefined, done: true });
    db.close();
    expect(db.open).toBe(false);
  });

  it("should still close at process exit, checkpointing the WAL, with an iterator left open", () => {
    const tmp = tempDir("busy-exit");
    try {
      const file = tmp.path("app.db");
      const { status, stderr } = runScript(`
        const Database = require('./index.js');
        const db = new Database(${JSON.stringify(file)});
        db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)');
        const rows = db.prepare('SELECT x FROM t').iterate();
        rows.next();
        if (require('fs').existsSync(${JSON.stringify(file + "-wal")}) !== true) process.exit(3);
      `);
      expect([status, stderr]).toEqual([0, ""]);
      expect(exists(file)).toBe(true);
      expect(exists(`${file}-wal`)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });
});

describe("iterate()", () => {
  it("should return an iterator object like better-sqlite3's: next, return, Symbol.iterator, no throw", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      const stmt = db.prepare('SELECT 1 AS x UNION ALL SELECT 2');
      const it = stmt.iterate();
      const shape = {
        type: typeof it, next: typeof it.next, return: typeof it.return, throw: typeof it.throw,
        self: it[Symbol.iterator]() === it, busy: stmt.busy,
      };
      const rows = [...it];
      return { shape, rows, after: stmt.busy, done: it.next(), returned: it.return() };
    `);
    expect(bs3.shape).toEqual({ type: "object", next: "function", return: "function", throw: "undefined", self: true, busy: true });
    expect(ours).toEqual(bs3);
  });

  it("should check parameters and the statement when called, not at the first next(), as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      const out = {};
      const call = (name, fn) => { try { fn(); out[name] = 'no throw' } catch (e) { out[name] = e.constructor.name } };
      call('missing', () => db.prepare('SELECT ? AS x').iterate());
      call('function', () => db.prepare('SELECT @a AS x').iterate({ a: 1 }, () => {}));
      call('notReader', () => db.prepare('CREATE TABLE u (x)').iterate());
      const stmt = db.prepare('SELECT 1');
      db.close();
      call('closed', () => stmt.iterate());
      return out;
    `);
    expect(bs3).toEqual({ missing: "RangeError", function: "TypeError", notReader: "TypeError", closed: "TypeError" });
    expect(ours).toEqual(bs3);
  });

  it("should let next() be called inside the loop and return() end it, as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3), (4), (5)');
      const stmt = db.prepare('SELECT x FROM t');
      const seen = [];
      const it = stmt.iterate();
      for (const row of it) { seen.push(row.x); it.next(); }
      const early = stmt.iterate();
      const first = [];
      for (const row of early) { first.push(row.x); early.return(); }
      return { seen, first, busy: stmt.busy };
    `);
    expect(bs3).toEqual({ seen: [1, 3, 5], first: [1], busy: false });
    expect(ours).toEqual(bs3);
  });

  it("should refuse next() and return() from inside a function of the connection, and keep the iterator", () => {
    let rows: IterableIterator<unknown>;
    const codes: string[] = [];
    db.function("probe", () => {
      for (const call of [() => rows.next(), () => rows.return()]) {
        try { call(); codes.push("allowed"); } catch (e: any) { codes.push(e.code); }
      }
      return 1;
    });
    const probe = db.prepare("SELECT probe() AS v");
    rows = db.prepare("SELECT x FROM t").iterate();
    expect(probe.get()).toEqual({ v: 1 });
    expect(codes).toEqual(["HARDENED_DATABASE_BUSY", "HARDENED_DATABASE_BUSY"]);
    expect([...rows].map((r: any) => r.x)).toEqual([1, 2, 3]);
  });

  it("should refuse, inside a function of the connection, even a row read ahead; another connection's are handed out", () => {
    const other = new HardenedDb(":memory:");
    try {
      other.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (10), (20), (30);");
      const seen: string[] = [];
      let mine: IterableIterator<any>;
      let theirs: IterableIterator<any>;
      db.function("probe", () => {
        for (const [name, rows] of [["mine", mine], ["theirs", theirs]] as const) {
          try { seen.push(`${name} ${rows.next().value.x}`); } catch (e: any) { seen.push(`${name} ${e.code}`); }
        }
        return 1;
      });
      const probe = db.prepare("SELECT probe() AS v");
      mine = db.prepare("SELECT x FROM t").iterate();
      theirs = other.prepare("SELECT x FROM t").iterate();
      // Batches grow 1, 16, ...: after two next() calls the third row waits, read ahead.
      for (const rows of [mine, theirs]) { rows.next(); rows.next(); }
      expect(probe.get()).toEqual({ v: 1 });
      expect(seen).toEqual(["mine HARDENED_DATABASE_BUSY", "theirs 30"]);
      expect(mine.next().value).toEqual({ x: 3 });
      expect(mine.next().done).toBe(true);
      expect(theirs.next().done).toBe(true);
    } finally {
      other.close();
    }
  });

  it("should not let an iterator ended by [Symbol.dispose]() read a later iteration of the statement", () => {
    const stmt = db.prepare("SELECT x FROM t");
    const stale = stmt.iterate();
    expect(stale.next().value).toEqual({ x: 1 });
    stmt[Symbol.dispose]();
    const fresh = stmt.iterate();
    expect(stale.next()).toEqual({ value: undefined, done: true });
    stale.return();
    expect(stmt.busy).toBe(true);
    expect([...fresh].map((r: any) => r.x)).toEqual([1, 2, 3]);
  });
});

describe("statement details of better-sqlite3", () => {
  it("should report changes 0 for statements that change no row (BEGIN, COMMIT, CREATE, DROP)", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      const run = (sql) => db.prepare(sql).run().changes;
      return [
        run('CREATE TABLE t (x)'), run("INSERT INTO t VALUES (1), (2)"), run('BEGIN'), run('COMMIT'),
        run("INSERT INTO t VALUES (3), (4)"), run('CREATE TABLE u (y)'), run('DROP TABLE u'), run('SELECT 1'), run('DELETE FROM t'),
      ];
    `);
    expect(bs3).toEqual([0, 2, 0, 0, 2, 0, 0, 0, 4]);
    expect(ours).toEqual(bs3);
  });

  it("should refuse bind() twice, and answer pluck(), raw() and expand() after close(), as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      const out = {};
      const call = (name, fn) => { try { fn(); out[name] = 'allowed' } catch (e) { out[name] = e.constructor.name } };
      const stmt = db.prepare('SELECT ? AS x');
      call('bind', () => stmt.bind(1));
      call('bindAgain', () => stmt.bind());
      const reader = db.prepare('SELECT 1 AS x');
      db.close();
      for (const mode of ['pluck', 'raw', 'expand']) call(mode, () => reader[mode]());
      return out;
    `);
    expect(bs3).toEqual({ bind: "allowed", bindAgain: "TypeError", pluck: "allowed", raw: "allowed", expand: "allowed" });
    expect(ours).toEqual(bs3);
    const stmt = db.prepare("SELECT ? AS x").bind(1);
    const e = thrown(() => stmt.bind());
    expect([e.constructor, e.code]).toEqual([TypeError, "HARDENED_ALREADY_BOUND"]);
  });
});
