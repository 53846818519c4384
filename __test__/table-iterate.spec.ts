// A statement that reads a db.table() table, run by stmt.iterate(): each next()
// steps SQLite once, so the table's generator runs no row ahead of the caller
// (better-sqlite3's behaviour; other statements read rows ahead in batches).
// The scenarios run under Node against better-sqlite3 12 (the oracle) and this
// package, and again under Bun.
import { describe, it, expect } from "bun:test";
import { oracle } from "./helpers";

const Database = require("../index.js");

/**
 * The body of `(Database) => outcome`: for each way of reading a generator
 * table, the values the loop saw and how far the generator had run when the
 * loop stopped at its third row, and then after one more row.
 */
const SCENARIO = `
  const db = new Database('');
  let state = 0;
  function* rows() {
    for (const x of ['foo', 'bar', 'baz', 'qux', 'quux']) {
      state += 1;
      yield [x];
    }
    state += 1;
  }
  db.table('letters', { columns: ['x'], rows });
  db.table('spelled', { columns: ['x'], parameters: ['word'], *rows(word) { for (const c of word) { state += 1; yield [c]; } } });
  db.table('module', () => ({ columns: ['x'], rows }));
  db.exec("CREATE VIRTUAL TABLE made USING module(); CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
  const sources = {
    table: 'SELECT x FROM letters',
    parameter: "SELECT x FROM spelled('abcdef')",
    created: 'SELECT x FROM made',
    join: 'SELECT t.id || letters.x AS x FROM t, letters ORDER BY t.id',
    subquery: 'SELECT (SELECT count(*) FROM letters) AS x FROM t',
  };
  const out = {};
  for (const [name, sql] of Object.entries(sources)) {
    state = 0;
    const seen = [];
    const iterator = db.prepare(sql).pluck().iterate();
    for (let i = 0; i < 3; i++) seen.push(iterator.next().value);
    const atThird = state;
    iterator.next();
    out[name] = { seen, atThird, atFourth: state };
    iterator.return();
  }
  return out;`;

describe("iterate() over a generator table", () => {
  it("should run the generator one row per next(), as better-sqlite3 does (Node)", () => {
    const { bs3, ours } = oracle(SCENARIO);
    expect(ours).toEqual(bs3);
    expect(ours.table).toEqual({ seen: ["foo", "bar", "baz"], atThird: 3, atFourth: 4 });
    expect(ours.parameter).toEqual({ seen: ["a", "b", "c"], atThird: 3, atFourth: 4 });
    expect(ours.created).toEqual(ours.table);
    expect(ours.join).toEqual({ seen: ["1foo", "1bar", "1baz"], atThird: 3, atFourth: 4 });
  });

  it("should run the generator one row per next() under Bun too", () => {
    const outcome = new Function("Database", SCENARIO)(Database);
    expect(outcome.table).toEqual({ seen: ["foo", "bar", "baz"], atThird: 3, atFourth: 4 });
    expect(outcome.parameter).toEqual({ seen: ["a", "b", "c"], atThird: 3, atFourth: 4 });
    expect(outcome.created).toEqual(outcome.table);
    expect(outcome.join).toEqual({ seen: ["1foo", "1bar", "1baz"], atThird: 3, atFourth: 4 });
    // The scalar subquery reads the whole table for each row of t, and t has only two rows.
    expect(outcome.subquery.seen).toEqual([5, 5, undefined]);
  });

  // A view may read a generator table marked innocuous (trusted_schema is off here; better-sqlite3 leaves it on).
  it("should step one row at a time once a schema change makes a prepared statement read a generator table", () => {
    const db = new Database("");
    let state = 0;
    db.table("letters", {
      columns: ["x"],
      innocuous: true,
      *rows() {
        for (const x of ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]) {
          state += 1;
          yield [x];
        }
      },
    });
    db.exec("CREATE TABLE plain (x); INSERT INTO plain VALUES ('p'), ('q'); CREATE VIEW source AS SELECT x FROM plain");
    const stmt = db.prepare("SELECT x FROM source").pluck();
    expect(stmt.all()).toEqual(["p", "q"]);
    // The statement is prepared again at its next step, reading the generator table now.
    db.exec("DROP VIEW source; CREATE VIEW source AS SELECT x FROM letters");
    const iterator = stmt.iterate();
    const seen = [iterator.next().value, iterator.next().value, iterator.next().value];
    expect(seen).toEqual(["a", "b", "c"]);
    expect(state).toBe(3);
    iterator.return();
    db.close();
  });
});
