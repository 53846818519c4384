// Statements let go without finalize(): their SQLite statements are finalized
// once the garbage collector took their JS objects, without waiting for the
// event loop to turn (src/collected_statements.rs). Before, a loop that never
// yielded kept every one (about 3.5 KB each) until it did.
import { describe, expect, it } from "bun:test";
import { runCrashFree } from "./helpers";

const GC = "const collect = () => (globalThis.gc ?? (() => Bun.gc(true)))();";

/**
 * Prepares `dropped` statements and lets them go, collects, prepares `after` more
 * (enough for the list to double, which sweeps it); prints the live counts.
 */
const dropLoop = (dropped: number, after: number) => `
  ${GC}
  const { NativeDatabase } = require('./binding.js');
  const { prepareHandle } = require('./lib/native-statement.js');
  const native = new NativeDatabase(':memory:');
  const prepare = (sql) => prepareHandle(native, sql);
  const kept = prepare('SELECT 41 AS kept');
  for (let i = 0; i < ${dropped}; i++) prepare('SELECT ' + i + ' AS n');
  collect();
  for (let i = 0; i < ${after}; i++) prepare('SELECT ' + i + ' AS m');
  const afterSweep = native.liveStatements();
  const keptColumns = kept.columns().map((c) => c.name);
  native.close();
  console.log(JSON.stringify({ afterSweep, keptColumns, afterClose: native.liveStatements() }));
`;

describe("statements let go in a loop that never yields", () => {
  for (const runtime of ["node", "bun"] as const) {
    it(`should be finalized after a collection, the live ones kept (${runtime})`, () => {
      const out = JSON.parse(runCrashFree(runtime, dropLoop(5000, 5000)));
      // No finalizer ran (the loop never yielded): without the sweep all 10,001 would be
      // live. The first 5,000 were collected and swept; the last 5,000 may not be yet.
      expect(out.afterSweep).toBeLessThan(10_001 - 4000);
      expect(out.afterSweep).toBeGreaterThanOrEqual(1);
      expect(out.keptColumns).toEqual(["kept"]);
      expect(out.afterClose).toBe(0);
    });
  }

  it("should keep a statement whose call is running while its parameter getter prepares and collects", () => {
    const code = `
      ${GC}
      const { HardenedDb } = require('./index.js');
      const db = new HardenedDb(':memory:');
      const params = {
        get v() {
          for (let i = 0; i < 500; i++) db.prepare('SELECT ' + i);
          collect();
          for (let i = 0; i < 500; i++) db.prepare('SELECT ' + i);
          return 5;
        },
      };
      const rows = [];
      for (let round = 0; round < 3; round++) rows.push(db.prepare('SELECT :v * 2 AS v, ' + round + ' AS r').get(params));
      console.log(JSON.stringify(rows));
    `;
    for (const runtime of ["node", "bun"] as const) {
      expect(JSON.parse(runCrashFree(runtime, code))).toEqual([
        { v: 10, r: 0 },
        { v: 10, r: 1 },
        { v: 10, r: 2 },
      ]);
    }
  });
});

/** Prints `{ before, afterLoop, afterSweep }`: the live statement ids of the thread around loops of `body` that never yield. */
const liveIdsAround = (prepareLine: string, body: string) => `
  ${GC}
  const { NativeStatement } = require('./binding.js');
  ${prepareLine}
  const before = NativeStatement.liveIds();
  for (let i = 0; i < 5000; i++) { ${body} }
  const afterLoop = NativeStatement.liveIds();
  collect();
  // Enough to double the list of followed statements, which sweeps it.
  for (let i = 0; i < 5000; i++) { ${body} }
  console.log(JSON.stringify({ before, afterLoop, afterSweep: NativeStatement.liveIds() }));
`;

describe("the native state of statements (no Node-API wrapper per statement)", () => {
  for (const runtime of ["node", "bun"] as const) {
    it(`should be released in a loop that never yields, let go or finalized (${runtime})`, () => {
      const letGo = JSON.parse(
        runCrashFree(runtime, liveIdsAround("const db = new (require('./index.js').HardenedDb)(':memory:');", "db.prepare('SELECT ' + i + ' AS n').get();")),
      );
      const finalized = JSON.parse(
        runCrashFree(runtime, liveIdsAround("const db = new (require('./bun.js').Database)(':memory:');", "const s = db.prepare('SELECT ' + i + ' AS n'); s.get(); s.finalize();")),
      );
      for (const out of [letGo, finalized]) {
        expect(out.afterLoop).toBeGreaterThan(out.before);
        // Without the sweep all 10,000 would still be live (no finalizer has run): the
        // first 5,000 were collected and released; the last 5,000 may not be yet.
        expect(out.afterSweep).toBeLessThan(out.before + 10_000 - 4000);
      }
    });

    it(`should be released once the event loop turns, with no prepare after (${runtime})`, () => {
      const code = `
        ${GC}
        const { NativeStatement } = require('./binding.js');
        const { HardenedDb } = require('./index.js');
        const db = new HardenedDb(':memory:');
        const kept = db.prepare('SELECT 7 AS kept');
        const before = NativeStatement.liveIds();
        for (let i = 0; i < 40; i++) db.prepare('SELECT ' + i).get();
        const afterLoop = NativeStatement.liveIds();
        (async () => {
          let after = afterLoop;
          for (let turn = 0; turn < 50 && after > before; turn++) {
            collect();
            await new Promise((resolve) => setTimeout(resolve, 20));
            after = NativeStatement.liveIds();
          }
          console.log(JSON.stringify({ before, afterLoop, after, kept: kept.get() }));
        })();
      `;
      const out = JSON.parse(runCrashFree(runtime, code));
      expect(out.afterLoop).toBe(out.before + 40);
      expect(out.after).toBe(out.before);
      expect(out.kept).toEqual({ kept: 7 });
    });
  }

  for (const runtime of ["node", "bun"] as const) {
    it(`should end an iteration left open once its statement is collected, freeing the connection (${runtime})`, () => {
      const code = `
        ${GC}
        const { HardenedDb } = require('./index.js');
        const db = new HardenedDb(':memory:');
        db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)');
        (() => { const rows = db.prepare('SELECT x FROM t').iterate(); rows.next(); })();
        const write = () => { try { db.exec('INSERT INTO t VALUES (4)'); return 'written'; } catch (e) { return e.code; } };
        const whileOpen = write();
        (async () => {
          let after = whileOpen;
          for (let turn = 0; turn < 50 && after !== 'written'; turn++) {
            collect();
            await new Promise((resolve) => setTimeout(resolve, 20));
            after = write();
          }
          console.log(JSON.stringify({ whileOpen, after, rows: db.prepare('SELECT count(*) AS n FROM t').get().n }));
        })();
      `;
      expect(JSON.parse(runCrashFree(runtime, code))).toEqual({ whileOpen: "HARDENED_DATABASE_BUSY", after: "written", rows: 4 });
    });
  }

  it("should never let the id of a released statement reach the statement that takes its place", () => {
    const code = `
      const { NativeDatabase, NativeStatement } = require('./binding.js');
      const { prepareHandle } = require('./lib/native-statement.js');
      const native = new NativeDatabase(':memory:');
      const prepare = (sql) => prepareHandle(native, sql);
      const hot = NativeStatement.hotFunctions(typeof Bun !== 'undefined');
      const first = prepare('SELECT 1 AS one');
      const oldId = first.id;
      NativeStatement.release(oldId);
      NativeStatement.release(oldId); // a second release does nothing
      const second = prepare('SELECT 2 AS two');
      const refused = (fn) => { try { fn(); return 'ran'; } catch (e) { return e.name + ' ' + e.code; } };
      console.log(JSON.stringify({
        sameSlot: second.id % 2 ** 21 === oldId % 2 ** 21,
        newId: second.id !== oldId,
        columns: refused(() => NativeStatement.columnNames(oldId)),
        get: refused(() => hot.get(oldId, () => [])),
        handle: refused(() => first.columnNames()),
        secondColumns: second.columnNames(),
      }));
    `;
    for (const runtime of ["node", "bun"] as const) {
      expect(JSON.parse(runCrashFree(runtime, code))).toEqual({
        sameSlot: true,
        newId: true,
        columns: "TypeError HARDENED_INVALID_ARGUMENT",
        get: "TypeError HARDENED_INVALID_ARGUMENT",
        handle: "TypeError HARDENED_INVALID_ARGUMENT",
        secondColumns: ["two"],
      });
    }
  });
});
