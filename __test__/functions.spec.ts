// User-defined functions and aggregates (db.function(), db.aggregate()):
// options, argument and result conversion, window functions, exceptions that
// reach the caller unchanged, use of the connection from inside a function,
// and the release of the JS functions.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, SqliteError } from "../index.js";
import { runCrashFree, thrown } from "./helpers";

let db: HardenedDb;
const one = (sql: string, ...args: unknown[]) => db.prepare(`SELECT ${sql}`).pluck().get(...args);
const WINDOW = "WINDOW win AS (ORDER BY rowid ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) ORDER BY rowid";

beforeEach(() => {
  db = new HardenedDb(":memory:");
  db.exec("CREATE TABLE ints (_); INSERT INTO ints VALUES (3), (5), (7), (11), (13), (17), (19); CREATE TABLE empty (_)");
});
afterEach(() => db.close());

describe("db.function()", () => {
  it("should register a function, return the database and take fn.length arguments", () => {
    expect(db.function("plus", (a: number, b: number) => a + b)).toBe(db);
    expect(one("plus(?, ?)", 2, 40)).toBe(42);
    const e = thrown(() => one("plus(1)"));
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.code).toBe("SQLITE_ERROR");
    expect(e.message).toContain("wrong number of arguments");
  });

  it("should pass every argument type as a row value would be", () => {
    const seen: unknown[] = [];
    db.function("see", { varargs: true }, (...args: unknown[]) => void seen.push(...args));
    one("see(1, 2.5, 'é', x'0102', NULL)");
    expect(seen).toEqual([1, 2.5, "é", Buffer.from([1, 2]), null]);
    expect(seen[3]).toBeInstanceOf(Buffer);
  });

  it("should refuse an integer argument beyond 2^53 unless safeIntegers, and give bigints with it", () => {
    db.function("id", (x: unknown) => String(x));
    const e = thrown(() => one("id(9007199254740993)"));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe("HARDENED_INTEGER_OVERFLOW");
    expect(e.message).toContain("Argument 1 of user-defined function id()");
    db.function("kind", { safeIntegers: true }, (x: unknown) => typeof x);
    expect(one("kind(1)")).toBe("bigint");
    expect(one("kind(1.5)")).toBe("number");
    db.defaultSafeIntegers(true);
    db.function("kind2", (x: unknown) => typeof x);
    db.defaultSafeIntegers(false);
    expect(one("kind2(1)")).toBe("bigint");
    db.function("kind3", { safeIntegers: false }, (x: unknown) => typeof x);
    expect(one("kind3(1)")).toBe("number");
  });

  it("should convert results as better-sqlite3 does", () => {
    const results: Record<string, unknown> = {
      num: 1.5, int: 7, big: 9007199254740993n, str: "héllo", buf: Buffer.from([9, 8]),
      u8: new Uint8Array([1, 2, 3]), nul: null, undef: undefined,
    };
    for (const [name, value] of Object.entries(results)) db.function(name, () => value);
    expect(db.prepare("SELECT typeof(num()), typeof(int()), typeof(big()), typeof(str()), typeof(buf()), typeof(nul()), typeof(undef())").raw().get())
      .toEqual(["real", "real", "integer", "text", "blob", "null", "null"]);
    db.defaultSafeIntegers(true);
    expect(db.prepare("SELECT num(), big(), str(), buf(), u8(), nul(), undef()").raw().get())
      .toEqual([1.5, 9007199254740993n, "héllo", Buffer.from([9, 8]), Buffer.from([1, 2, 3]), null, null]);
  });

  it("should refuse an invalid result with a TypeError and a bigint beyond 64 bits with a RangeError", () => {
    for (const [name, value] of [["obj", {}], ["bool", true], ["sym", Symbol("s")], ["fn", () => 1]] as const) {
      db.function(name, () => value);
      const e = thrown(() => one(`${name}()`));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_FUNCTION_RESULT");
      expect(e.message).toContain(`User-defined function ${name}() returned an invalid value`);
    }
    db.function("huge", () => 2n ** 64n);
    const e = thrown(() => one("huge()"));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe("HARDENED_FUNCTION_RESULT");
  });

  it("should rethrow exactly what the function threw, from get(), all(), run(), iterate() and exec()", () => {
    for (const exception of [new TypeError("t"), new Error("e"), { yup: "ok" }, "text", "", null, 123.4, undefined]) {
      db.function("boom", () => { throw exception; });
      const calls = [
        () => one("boom()"),
        () => db.prepare("SELECT boom() FROM ints").all(),
        () => db.prepare("SELECT boom()").run(),
        () => [...db.prepare("SELECT boom() FROM ints").iterate()],
        () => db.exec("SELECT boom()"),
      ];
      for (const call of calls) {
        let caught: unknown = Symbol("none");
        try { call(); } catch (error) { caught = error; }
        expect(caught).toBe(exception);
      }
    }
  });

  it("should leave a later, unrelated error alone after a function threw", () => {
    db.function("boom", () => { throw new Error("mine"); });
    expect(() => one("boom()")).toThrow("mine");
    const e = thrown(() => one("no_such_function()"));
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.message).toContain("no such function");
  });

  it("should keep the statement usable after its function threw midway through an iteration", () => {
    let i = 0;
    const err = new Error("fifth");
    db.function("fn", (x: number) => { if (++i === 5) throw err; return x; });
    const stmt = db.prepare("SELECT fn(_) FROM ints").pluck();
    const seen: number[] = [];
    expect(() => { for (const v of stmt.iterate()) seen.push(v as number); }).toThrow(err);
    expect(seen).toEqual([3, 5, 7, 11]);
    i = -100;
    expect(stmt.all()).toEqual([3, 5, 7, 11, 13, 17, 19]);
  });

  it("should refuse any use of its own connection from inside a function, as better-sqlite3 does", () => {
    const stmt = db.prepare("SELECT 1");
    const attempts: Record<string, () => unknown> = {
      exec: () => db.exec("SELECT 1"),
      prepare: () => db.prepare("SELECT 1"),
      pragma: () => db.pragma("cache_size"),
      get: () => stmt.get(),
      iterate: () => [...stmt.iterate()],
      function: () => db.function("x", () => 1),
      aggregate: () => db.aggregate("y", { step: () => 1 }),
      close: () => db.close(),
      safeIntegers: () => stmt.safeIntegers(),
      pluck: () => stmt.pluck(),
    };
    const codes: Record<string, string> = {};
    db.function("inside", () => {
      for (const [name, attempt] of Object.entries(attempts)) {
        try { attempt(); codes[name] = "allowed"; } catch (e: any) { codes[name] = `${e.constructor.name} ${e.code}`; }
      }
      return db.open && db.inTransaction ? 1 : 0;
    });
    db.exec("BEGIN");
    expect(one("inside()")).toBe(1);
    db.exec("COMMIT");
    for (const name of Object.keys(attempts)) expect([name, codes[name]]).toEqual([name, "TypeError HARDENED_DATABASE_BUSY"]);
    expect(db.open).toBe(true);
    expect(stmt.get()).toEqual({ 1: 1 });
  });

  it("should refuse the same statement from inside its own function", () => {
    let code = "";
    let stmt: ReturnType<HardenedDb["prepare"]>;
    db.function("again", () => { try { stmt.get(); } catch (e: any) { code = e.code; } return 1; });
    stmt = db.prepare("SELECT again() AS v");
    expect(stmt.get()).toEqual({ v: 1 });
    expect(["HARDENED_STATEMENT_BUSY", "HARDENED_DATABASE_BUSY"]).toContain(code);
  });

  it("should let a function read another connection while rows are being collected", () => {
    const other = new HardenedDb(":memory:");
    try {
      other.exec("CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO names (name) VALUES ('ada'), ('bob'), ('cy')");
      const byId = other.prepare("SELECT name, x'aabb' AS b FROM names WHERE id = ?");
      db.function("name_of", (id: number) => byId.get(((id - 1) % 3) + 1)!.name);
      const rows = db.prepare("SELECT _, 'row ' || _ AS label, name_of(rowid) AS name, x'0102' AS blob FROM ints").all();
      expect(rows.map((r: any) => [r._, r.label, r.name, [...r.blob]])).toEqual(
        [3, 5, 7, 11, 13, 17, 19].map((n, i) => [n, `row ${n}`, ["ada", "bob", "cy"][i % 3], [1, 2]]),
      );
    } finally {
      other.close();
    }
  });

  it("should replace a function of the same name and argument count only", () => {
    db.function("f", () => 0);
    db.function("f", (a: unknown) => 1);
    db.function("f", () => "zero");
    expect(one("f()")).toBe("zero");
    expect(one("f(1)")).toBe(1);
  });

  it("should refuse to register while an iterator is open on the connection", () => {
    const iterator = db.prepare("SELECT _ FROM ints").iterate();
    iterator.next();
    const e = thrown(() => db.function("late", () => 1));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe("HARDENED_DATABASE_BUSY");
    iterator.return!();
    expect(db.function("late", () => 1)).toBe(db);
    // Read ahead to its end, the statement is done inside SQLite but the iterator is still open.
    const short = db.prepare("SELECT 1 UNION ALL SELECT 2").iterate();
    short.next();
    short.next();
    expect(thrown(() => db.aggregate("later", { step: () => 1 })).code).toBe("HARDENED_DATABASE_BUSY");
    short.return!();
    expect(db.aggregate("later", { step: () => 1 })).toBe(db);
  });

  it("should check its arguments as better-sqlite3 does", () => {
    const length = (n: unknown) => Object.defineProperty(() => {}, "length", { value: n });
    const bad: Array<[() => unknown, ErrorConstructor]> = [
      [() => (db as any).function(), TypeError],
      [() => (db as any).function("a"), TypeError],
      [() => (db as any).function({}, () => {}), TypeError],
      [() => (db as any).function(new String("h"), () => {}), TypeError],
      [() => (db as any).function("d", {}), TypeError],
      [() => db.function("", () => {}), TypeError],
      [() => db.function("v", { varargs: undefined } as any, () => {}), TypeError],
      [() => db.function("v", { deterministic: 1 } as any, () => {}), TypeError],
      [() => db.function("v", { determinstic: true } as any, () => {}), TypeError],
      [() => db.function("l", length(-1) as any), TypeError],
      [() => db.function("l", length(2.5) as any), TypeError],
      [() => db.function("l", length(101) as any), RangeError],
      [() => db.function("x".repeat(256), () => {}), RangeError],
      [() => db.function("nul\0", () => {}), TypeError],
      [() => db.function("both", { directOnly: true, innocuous: true }, () => {}), TypeError],
    ];
    for (const [call, type] of bad) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(type);
      expect(e.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
    expect(db.function("many", length(100) as any)).toBe(db);
  });

  it("should keep trusted_schema: a view may call a function only if it is innocuous", () => {
    db.function("plain", () => 1);
    db.function("safe", { innocuous: true }, () => 2);
    db.function("direct", { directOnly: true }, () => 3);
    db.exec("CREATE VIEW v1 AS SELECT plain() AS x; CREATE VIEW v2 AS SELECT safe() AS x; CREATE VIEW v3 AS SELECT direct() AS x");
    expect(thrown(() => db.prepare("SELECT x FROM v1").get()).message).toContain("unsafe use of plain()");
    expect(db.prepare("SELECT x FROM v2").pluck().get()).toBe(2);
    expect(thrown(() => db.prepare("SELECT x FROM v3").get()).message).toContain("unsafe use of direct()");
    expect(one("plain() + direct()")).toBe(4);
  });

  it("should accept a function in an index only when deterministic and innocuous", () => {
    db.function("twice", { deterministic: true, innocuous: true }, (x: number) => x * 2);
    db.function("trusted", { deterministic: true }, (x: number) => x * 2);
    db.function("noisy", { innocuous: true }, (x: number) => x * 2);
    db.exec("CREATE TABLE t (x); CREATE INDEX t_twice ON t (twice(x)); INSERT INTO t VALUES (1), (2)");
    expect(db.prepare("SELECT x FROM t WHERE twice(x) = 4").pluck().all()).toEqual([2]);
    expect(thrown(() => db.exec("CREATE INDEX t_trusted ON t (trusted(x))")).message).toContain("unsafe use of trusted()");
    expect(thrown(() => db.exec("CREATE INDEX t_noisy ON t (noisy(x))")).message).toContain("non-deterministic");
  });
});

describe("db.aggregate()", () => {
  it("should fold rows with start, step and result", () => {
    expect(db.aggregate("total", { start: 0, step: (acc: number, x: number) => acc + x })).toBe(db);
    expect(one("total(_) FROM ints")).toBe(75);
    db.aggregate("avg2", { start: () => ({ sum: 0, n: 0 }), step: (acc: any, x: number) => { acc.sum += x; acc.n++; }, result: (acc: any) => acc.sum / acc.n });
    expect(one("avg2(_) FROM ints")).toBeCloseTo(75 / 7);
    expect(one("avg2(_) FROM empty")).toBe(null); // 0 / 0 is NaN, which SQLite stores as NULL
    db.aggregate("noop", { step: () => {} });
    expect(one("noop() FROM ints")).toBe(null);
  });

  it("should run as a window function with inverse, and refuse OVER without it", () => {
    db.aggregate("plain", { start: 0, step: (acc: number, x: number) => acc + x });
    expect(thrown(() => db.prepare(`SELECT plain(_) OVER win FROM ints ${WINDOW}`).all()).code).toBe("SQLITE_ERROR");
    db.aggregate("moving", { start: () => 0, step: (acc: number, x: number) => acc + x, inverse: (acc: number, x: number) => acc - x });
    expect(db.prepare(`SELECT moving(_) OVER win FROM ints ${WINDOW}`).pluck().all()).toEqual([8, 15, 23, 31, 41, 49, 36]);
  });

  it("should rethrow what start, step, inverse or result threw, unchanged", () => {
    for (const phase of ["start", "step", "inverse", "result"] as const) {
      const exception = { phase };
      const calls: string[] = [];
      const cb = (name: string) => () => { calls.push(name); if (name === phase) throw exception; };
      db.aggregate(`w_${phase}`, { start: cb("start"), step: cb("step"), inverse: cb("inverse"), result: cb("result") });
      let caught: unknown;
      try { db.prepare(`SELECT w_${phase}() OVER win FROM ints ${WINDOW}`).all(); } catch (e) { caught = e; }
      expect(caught).toBe(exception);
      expect(calls.at(-1)).toBe(phase);
    }
  });

  it("should convert the result and refuse an invalid one", () => {
    db.aggregate("blob", { step: () => {}, result: () => Buffer.from([7]) });
    expect(one("blob() FROM ints")).toEqual(Buffer.from([7]));
    db.aggregate("bad", { step: () => {}, result: () => ({}) });
    const e = thrown(() => one("bad() FROM ints"));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe("HARDENED_FUNCTION_RESULT");
  });

  it("should take its argument count from step and inverse, minus the accumulator", () => {
    db.aggregate("two", { step: (acc: unknown, a: unknown, b: unknown) => 1, inverse: (acc: unknown, a: unknown) => 1 });
    expect(one("two(1, 2)")).toBe(1);
    expect(thrown(() => one("two(1)")).code).toBe("SQLITE_ERROR");
    db.aggregate("any", { varargs: true, start: 0, step: (acc: number, ...xs: number[]) => acc + xs.length });
    expect(one("any(1, 2, 3) FROM ints")).toBe(21);
  });

  it("should check its arguments as better-sqlite3 does", () => {
    const bad: Array<() => unknown> = [
      () => (db as any).aggregate("a"),
      () => (db as any).aggregate("a", null),
      () => (db as any).aggregate("a", {}),
      () => (db as any).aggregate("a", { step: true }),
      () => (db as any).aggregate("a", { step: () => {}, inverse: 1 }),
      () => (db as any).aggregate("a", { step: () => {}, result: "x" }),
      () => (db as any).aggregate("a", { step: () => {}, safeIntegers: undefined }),
      () => (db as any).aggregate("", { step: () => {} }),
      () => (db as any).aggregate("a", { step: () => {}, name: "a" }),
    ];
    for (const call of bad) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
  });
});

describe("lifetime", () => {

  for (const runtime of ["bun", "node"] as const) {
    it(`should survive re-entrancy and close from inside functions under ${runtime}`, () => {
      const out = runCrashFree(runtime, `
        const { HardenedDb } = require(".");
        const db = new HardenedDb(":memory:");
        db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)");
        let stmt;
        const errors = new Set();
        db.function("f", (x) => {
          for (const attempt of [() => db.close(), () => stmt.all(), () => db.exec("DELETE FROM t"), () => [...stmt.iterate()]]) {
            try { attempt() } catch (e) { errors.add(e.code) }
          }
          return x * 10;
        });
        stmt = db.prepare("SELECT f(x) AS v FROM t");
        const rows = stmt.all();
        db.aggregate("g", { start: 0, step: (acc, x) => { try { db.close() } catch (e) { errors.add(e.code) } return acc + x } });
        const sum = db.prepare("SELECT g(x) FROM t").pluck().get();
        db.close();
        console.log(JSON.stringify({ rows, sum, errors: [...errors].sort(), open: db.open }));
      `);
      expect(JSON.parse(out)).toEqual({
        rows: [{ v: 10 }, { v: 20 }, { v: 30 }],
        sum: 6,
        errors: ["HARDENED_DATABASE_BUSY", "HARDENED_STATEMENT_BUSY"],
        open: false,
      });
    });

    it(`should release replaced functions and those of a closed database under ${runtime}`, () => {
      const out = runCrashFree(runtime, `
        const { HardenedDb } = require(".");
        let released = 0;
        const registry = new FinalizationRegistry(() => { released++; });
        const db = new HardenedDb(":memory:");
        for (let i = 0; i < 2000; i++) {
          const fn = () => i;
          registry.register(fn, i);
          db.function("f", fn);
          db.aggregate("g", { start: () => ({}), step: () => {}, result: () => i });
        }
        const last = db.prepare("SELECT f() AS f, g() AS g").get();
        const other = new HardenedDb(":memory:");
        for (let i = 0; i < 200; i++) { const fn = () => i; registry.register(fn, -i); other.function("h" + i, fn); }
        other.close();
        const collect = () => (globalThis.Bun ? Bun.gc(true) : globalThis.gc());
        (async () => {
          for (let round = 0; round < 20 && released < 2000; round++) {
            collect();
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          db.close();
          console.log(JSON.stringify({ last, enough: released >= 1900 }));
        })();
      `);
      expect(JSON.parse(out)).toEqual({ last: { f: 1999, g: 1999 }, enough: true });
    });

    it(`should not crash when a worker with functions and an open aggregate ends under ${runtime}`, () => {
      const out = runCrashFree(runtime, `
        const { Worker } = require("node:worker_threads");
        const worker = new Worker(\`
          const { HardenedDb } = require(\${JSON.stringify(process.cwd())});
          const db = new HardenedDb(":memory:");
          db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)");
          db.function("f", (x) => x + 1);
          db.aggregate("g", { start: () => ({ n: 0 }), step: (acc, x) => { acc.n += x }, result: (acc) => acc.n });
          const it = db.prepare("SELECT x, g(f(x)) FROM t GROUP BY x").raw().iterate();
          it.next();
          require("node:worker_threads").parentPort.postMessage(db.prepare("SELECT f(1)").pluck().get());
        \`, { eval: true });
        worker.on("message", (m) => console.log("got " + m));
        worker.on("exit", (code) => console.log("exit " + code));
      `);
      expect(out).toContain("got 2");
      expect(out).toContain("exit 0");
    });
  }
});
