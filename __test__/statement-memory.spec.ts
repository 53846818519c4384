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
  const native = new NativeDatabase(':memory:');
  const kept = native.prepare('SELECT 41 AS kept');
  for (let i = 0; i < ${dropped}; i++) native.prepare('SELECT ' + i + ' AS n');
  collect();
  for (let i = 0; i < ${after}; i++) native.prepare('SELECT ' + i + ' AS m');
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
