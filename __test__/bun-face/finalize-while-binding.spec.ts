// finalize() from inside a call of the same statement (bun face): from a
// getter, array-index getter or Proxy trap while the call binds its values,
// and from a loop body. Every way ends in a clear error or a finalized
// statement, never a crash or a statement freed under a running call, and
// the connection keeps working. The plain cases are compared with bun:sqlite
// in statement-extras.spec.ts; this sweeps the combinations on our face.
import { describe, expect, it } from "bun:test";
import { ourFace } from "./faces";

const PLACEMENTS = ["getter", "arrayIndex", "proxyGet", "proxyOwnKeys", "proxyGopd", "proxyArray"] as const;
const METHODS = ["get", "all", "values", "run", "iterate"] as const;
const FIRES = ["first", "every"] as const;

/** The values of one call, whose hooks call `act()`: named ($a, $b) or positional. */
function hostileArgs(placement: (typeof PLACEMENTS)[number], act: () => void): unknown[] {
  switch (placement) {
    case "getter":
      return [{ $b: 2, get $a() { act(); return 1; } }];
    case "arrayIndex": {
      const values = [0, 2];
      Object.defineProperty(values, 0, { enumerable: true, configurable: true, get() { act(); return 1; } });
      return [values];
    }
    case "proxyArray":
      return [new Proxy([1, 2], { get(target, key, receiver) { act(); return Reflect.get(target, key, receiver); } })];
    case "proxyGet":
      return [new Proxy({ $a: 1, $b: 2 }, { get(target, key, receiver) { act(); return Reflect.get(target, key, receiver); } })];
    case "proxyOwnKeys":
      return [new Proxy({ $a: 1, $b: 2 }, { ownKeys(target) { act(); return Reflect.ownKeys(target); } })];
    case "proxyGopd":
      return [new Proxy({ $a: 1, $b: 2 }, { getOwnPropertyDescriptor(target, key) { act(); return Reflect.getOwnPropertyDescriptor(target, key); } })];
  }
}

function call(statement: any, method: (typeof METHODS)[number], args: unknown[]) {
  if (method === "iterate") return [...statement.iterate(...args)];
  return statement[method](...args);
}

describe("finalize() from inside a call of the same statement", () => {
  it("should end every placement, method and firing in a finalized statement or a clear error, and keep the connection working", () => {
    const { Database } = ourFace();
    const seen = new Set<string>();
    for (const placement of PLACEMENTS) {
      for (const method of METHODS) {
        for (const fire of FIRES) {
          const db = new Database();
          db.run("CREATE TABLE t(a, b)");
          const named = !placement.startsWith("arrayIndex") && placement !== "proxyArray";
          const sql = method === "run"
            ? `INSERT INTO t VALUES (${named ? "$a, $b" : "?, ?"})`
            : `SELECT ${named ? "$a" : "?"} AS a, ${named ? "$b" : "?"} AS b`;
          const statement = db.prepare(sql);
          let calls = 0;
          const finalizeErrors: string[] = [];
          const act = () => {
            calls++;
            if (fire === "first" && calls > 1) return;
            try {
              statement.finalize();
            } catch (error: any) {
              finalizeErrors.push(error.code);
            }
          };
          let outcome: string;
          try {
            call(statement, method, hostileArgs(placement, act));
            outcome = "returned";
          } catch (error: any) {
            outcome = error.code ?? error.message;
          }
          const label = `${placement} ${method} ${fire}`;
          // The hook ran inside the binding, so the finalize was taken and the call failed before running.
          if (calls > 0) {
            expect([label, outcome]).toEqual([label, "HARDENED_STATEMENT_FINALIZED"]);
            expect([label, statement.isFinalized, finalizeErrors]).toEqual([label, true, []]);
            expect(db.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
          }
          seen.add(calls > 0 ? "finalized" : "hook not run");
          expect(db.query("SELECT 41 + 1 AS v").get()).toEqual({ v: 42 });
          db.close();
        }
      }
    }
    expect(seen.has("finalized")).toBe(true);
  });

  it("should let a getter of another statement's call, nested in the binding, finalize the outer statement: the outer call fails, the inner one runs", () => {
    const { Database } = ourFace();
    const db = new Database();
    const outer = db.prepare("SELECT $a AS a");
    const inner = db.prepare("SELECT $b AS b");
    const result = (() => {
      try {
        return outer.get({
          get $a() {
            // A call of another statement, whose getter finalizes the outer one: taken by the outer binding.
            const row = inner.get({ get $b() { outer.finalize(); return 2; } });
            return row.b;
          },
        });
      } catch (error: any) {
        return error.code;
      }
    })();
    expect(result).toBe("HARDENED_STATEMENT_FINALIZED");
    expect([outer.isFinalized, inner.isFinalized]).toEqual([true, false]);
    expect(inner.get({ $b: 3 })).toEqual({ b: 3 });
  });
});
