// iterate() reads rows ahead in batches (1, 16, then 128), and a statement whose
// last iteration ran to its end reads the next one in a single first batch
// (src/statement_iteration.rs). Whatever the pattern of loops, every loop must
// see exactly the rows all() returns, including after a schema change, and a
// statement that may run JS while stepping keeps stepping in small batches.
import { describe, it, expect } from "bun:test";
import * as face from "../bun.js";
import { HardenedDb } from "../index.js";

/** A database whose table `t` holds `count` rows (id, text, blob). */
function filled(db: { exec(sql: string): unknown }, count: number) {
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)");
  db.exec(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count}) ` +
      "INSERT INTO t SELECT i, 'row ' || i, randomblob(8) FROM n",
  );
}

/** The rows a loop over `stmt.iterate(...params)` sees, stopping after `limit` rows. */
function loop(stmt: { iterate(...params: unknown[]): Iterable<any> }, limit: number, ...params: unknown[]) {
  const rows = [];
  for (const row of stmt.iterate(...params)) {
    rows.push(row);
    if (rows.length === limit) break;
  }
  return rows;
}

for (const [name, open] of [
  ["main face", () => new HardenedDb(":memory:")],
  ["bun face", () => new face.Database(":memory:")],
] as const) {
  describe(`iterate() batches (${name})`, () => {
    it("gives every loop the rows all() gives, whether loops run to the end or stop early", () => {
      for (const count of [0, 1, 2, 100, 127, 128, 129, 300]) {
        const db = open();
        filled(db, count);
        const stmt = db.prepare("SELECT id, s, b FROM t WHERE id >= ? ORDER BY id");
        const expected = stmt.all(1);
        // Full, full (one first batch), early stops of several sizes, full again.
        for (const limit of [Infinity, Infinity, 1, Infinity, 3, 17, Infinity, 200, Infinity]) {
          expect(loop(stmt, limit, 1)).toEqual(expected.slice(0, limit));
        }
        // Fewer rows, then more, than the loop before read.
        expect(loop(stmt, Infinity, Math.max(1, count - 5))).toEqual(stmt.all(Math.max(1, count - 5)));
        expect(loop(stmt, Infinity, 1)).toEqual(expected);
        db.close();
      }
    });

    it("reads the new columns after a schema change between two loops that ran to the end", () => {
      const db = open();
      filled(db, 50);
      const stmt = db.prepare("SELECT * FROM t ORDER BY id");
      expect(loop(stmt, Infinity).length).toBe(50);
      db.exec("ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7");
      const rows = loop(stmt, Infinity);
      expect(rows.length).toBe(50);
      expect(rows.every((row: any) => row.extra === 7)).toBe(true);
      db.close();
    });

    it("surfaces an error at the row it belongs to, and reads in small batches after it", () => {
      const db = open();
      db.exec("CREATE TABLE n (v)");
      db.exec("INSERT INTO n VALUES (1), (2), (3), ('x'), (5)");
      // json('{') fails at the fourth row, as the statement steps it.
      const stmt = db.prepare("SELECT v, CASE WHEN v = 'x' THEN json('{') ELSE v END AS w FROM n");
      const seen: unknown[] = [];
      let error: any;
      try {
        for (const row of stmt.iterate()) seen.push(row.v);
      } catch (e) {
        error = e;
      }
      expect(seen).toEqual([1, 2, 3]);
      expect(error?.code).toMatch(/^SQLITE_ERROR/);
      // The statement runs again from the start, rows and error alike.
      const again: unknown[] = [];
      expect(() => {
        for (const row of stmt.iterate()) again.push(row.v);
      }).toThrow();
      expect(again).toEqual([1, 2, 3]);
      db.close();
    });
  });
}

describe("iterate() of a statement that may run JS while stepping", () => {
  it("keeps stepping in small batches after a loop that ran to the end (a user-defined function runs no further ahead)", () => {
    const db = new HardenedDb(":memory:");
    filled(db, 40);
    let calls = 0;
    db.function("counted", (x: number) => (calls++, x));
    // A scan in rowid order: SQLite calls the function as it steps each row.
    const stmt = db.prepare("SELECT counted(id) AS v FROM t");
    expect(loop(stmt, 1)).toEqual([{ v: 1 }]);
    expect(calls).toBe(1);
    expect(loop(stmt, Infinity).length).toBe(40);
    calls = 0;
    // After a full loop, a loop that stops at its first row has called the function once.
    expect(loop(stmt, 1)).toEqual([{ v: 1 }]);
    expect(calls).toBe(1);
    db.close();
  });
});

describe("iterate() of the bun face while the loop writes (docs/bun.md)", () => {
  it("sees each row that was there when the loop began exactly once", () => {
    for (let round = 0; round < 3; round++) {
      const db = new face.Database(":memory:");
      filled(db, 30);
      const stmt = db.query("SELECT id FROM t ORDER BY id");
      for (let warm = 0; warm < round; warm++) loop(stmt, Infinity);
      const insert = db.prepare("INSERT INTO t (id, s, b) VALUES (?, 'new', x'00')");
      const seen: number[] = [];
      for (const row of stmt.iterate() as Iterable<any>) {
        seen.push(row.id);
        if (row.id === 1) insert.run(1000 + round);
      }
      // SQLite leaves rows written during the loop undefined (in or out); the others come once each.
      const original = seen.filter((id) => id <= 30);
      expect(original).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(seen.length - original.length).toBeLessThanOrEqual(1);
      db.close();
    }
  });
});
