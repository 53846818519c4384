// bun:sqlite conformance of user-defined functions (db.function, db.aggregate):
// how a returned value is stored (booleans as 0/1, whole numbers as INTEGER),
// BLOB arguments as Uint8Array, and the useBigIntArguments option; plus the
// statement metadata under stmt.native and the query cache's counter, which
// Bun's own tests read. Every scenario runs on bun:sqlite (asserting the
// expected value) and on hardened-sqlite/bun (asserting the same); see faces.ts.
import { describe, it } from "bun:test";
import { same } from "./faces";

describe("db.function() results, as bun:sqlite stores them", () => {
  it("should store booleans as 1/0 and whole safe numbers as INTEGER, -0 and fractions as REAL", () => {
    same((face) => {
      const db = new face.Database();
      const results: Record<string, unknown> = {
        yes: true, no: false, small: 5, big: 2 ** 40, negative: -5, minusZero: -0,
        fraction: 1.5, unsafe: 2 ** 53 + 2, bigint: 7n, text: "s", nothing: null,
      };
      return Object.entries(results).map(([name, value]) => {
        db.function(`f_${name}`, () => value);
        const row = db.query(`SELECT typeof(f_${name}()) AS type, f_${name}() || '' AS text`).get();
        return [name, row.type, row.text];
      });
    }, {
      value: [
        ["yes", "integer", "1"], ["no", "integer", "0"], ["small", "integer", "5"],
        ["big", "integer", "1099511627776"], ["negative", "integer", "-5"], ["minusZero", "real", "0.0"],
        ["fraction", "real", "1.5"], ["unsafe", "real", "9007199254740994.0"], ["bigint", "integer", "7"],
        ["text", "text", "s"], ["nothing", "null", null],
      ],
    });
  });

  it("should store an aggregate's boolean result as an INTEGER too", () => {
    same((face) => {
      const db = new face.Database();
      db.aggregate("anyPositive", { start: false, step: (seen: boolean, x: number) => seen || x > 0 });
      return db.query("SELECT anyPositive(value) AS v, typeof(anyPositive(value)) AS t FROM (SELECT -1 AS value UNION ALL SELECT 2)").get();
    }, { value: { v: 1, t: "integer" } });
  });
});

describe("db.function() arguments", () => {
  it("should pass a BLOB as a Uint8Array", () => {
    same((face) => {
      const db = new face.Database();
      db.function("describe", (value: unknown) => `${(value as object).constructor.name}:${Array.from(value as Uint8Array)}`);
      return db.query("SELECT describe(x'0102') AS d").get();
    }, { value: { d: "Uint8Array:1,2" } });
  });

  it("should pass INTEGER arguments as bigint with useBigIntArguments, as with safeIntegers", () => {
    same((face) => {
      const db = new face.Database(":memory:", { safeIntegers: true });
      db.function("plus", { useBigIntArguments: true }, (a: bigint, b: bigint) => [typeof a, typeof b].join() + ":" + (a + b));
      db.function("identity", { useBigIntArguments: true }, (x: bigint) => x);
      const big = BigInt(Number.MAX_SAFE_INTEGER) + 10n;
      return [db.query("SELECT plus(10, 20) AS r").get(), db.query("SELECT identity(?) AS r").get(big)];
    }, { value: [{ r: "bigint,bigint:30" }, { r: { bigint: "9007199254741001" } }] });
  });
});

describe("stmt.native and the query cache's counter", () => {
  it("should show the statement's metadata under bun:sqlite's native names", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)");
      db.run("INSERT INTO t(name) VALUES ('a')");
      const stmt = db.prepare("SELECT id, name, 1.5 AS r FROM t WHERE id > ?");
      stmt.get(0);
      const native = stmt.native;
      const seen = [native.columns, native.columnsCount, native.paramsCount, native.columnTypes, native.declaredTypes,
        native.safeIntegers, native.isFinalized, native.readonly, stmt.native === native];
      native.finalize();
      return [...seen, stmt.isFinalized];
    }, {
      value: [["id", "name", "r"], 3, 1, ["INTEGER", "TEXT", "FLOAT"], ["INTEGER", "TEXT", null], false, false, true, true, true],
    });
  });

  it("should count the statements db.query() keeps, not a failed one, and none after clearQueryCache()", () => {
    same((face) => {
      const db = new face.Database();
      const count = () => db[Symbol.for("Bun.Database.cache.count")];
      const counts = [count()];
      db.query("SELECT 1");
      db.query("SELECT 1");
      db.query("SELECT 2");
      counts.push(count());
      try {
        db.query("SELECT * FROM no_such_table");
      } catch {}
      counts.push(count());
      db.clearQueryCache();
      counts.push(count());
      return counts;
    }, { value: [0, 2, 2, 0] });
  });
});
