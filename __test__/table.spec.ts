// Virtual tables from generator functions (db.table()): table-valued
// functions and factories for CREATE VIRTUAL TABLE, the checks and messages of
// better-sqlite3, rows yielded as arrays or objects, exceptions that reach the
// caller unchanged, use of the connection from inside a generator, and the
// release of generators (early end, close, garbage collection).
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, SqliteError } from "../index.js";
import { runCrashFree, runScript, thrown } from "./helpers";

let db: HardenedDb;

beforeEach(() => {
  db = new HardenedDb(":memory:");
});
afterEach(() => {
  if (db.open) db.close();
});

const sequence = {
  columns: ["value"],
  parameters: ["length", "start"],
  *rows(length: number, start = 0) {
    if (length === undefined) throw new TypeError('missing required parameter "length"');
    for (let n = start; n < start + length; n++) yield { value: n };
  },
};

describe("db.table(name, definition)", () => {
  it("should register a table-valued function and return the database", () => {
    expect(db.table("sequence", sequence)).toBe(db);
    expect(db.prepare("SELECT * FROM sequence(3, 5)").pluck().all()).toEqual([5, 6, 7]);
    expect(db.prepare("SELECT * FROM sequence WHERE length = ? AND start = ?").pluck().all(2, 1)).toEqual([1, 2]);
    expect(db.prepare("SELECT value FROM sequence(2) ORDER BY value DESC").pluck().all()).toEqual([1, 0]);
  });

  it("should expose parameters as hidden columns, named $1.. when inferred from rows.length", () => {
    db.table("sequence", sequence);
    expect(db.prepare("SELECT * FROM sequence(2)").all()).toEqual([{ value: 0 }, { value: 1 }]);
    expect(db.prepare("SELECT length, start, value FROM sequence(2)").raw().all()).toEqual([[2, null, 0], [2, null, 1]]);
    db.table("pair", { columns: ["a"], *rows(x: number, y: number) { yield [x + y] } });
    expect(db.prepare('SELECT "$1", "$2", a FROM pair(1, 2)').raw().get()).toEqual([1, 2, 3]);
    const e = thrown(() => db.prepare("SELECT * FROM pair(1, 2, 3)"));
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.message).toContain("too many arguments");
  });

  it("should pass omitted parameters as undefined and skip the generator when one is NULL", () => {
    let calls = 0;
    db.table("sum", {
      columns: ["total"],
      parameters: ["x", "y"],
      *rows(x = 100, y = 10) {
        calls++;
        yield [x + y];
      },
    });
    expect(db.prepare("SELECT * FROM sum(1)").pluck().get()).toBe(11);
    expect(db.prepare("SELECT * FROM sum WHERE y = 2").pluck().get()).toBe(102);
    expect(db.prepare("SELECT * FROM sum(1, NULL)").pluck().all()).toEqual([]);
    expect(calls).toBe(2);
    expect(thrown(() => db.prepare("SELECT * FROM sequence(1)")).message).toContain("no such table");
  });

  it("should take rows as arrays or objects, and every value type; rowids count from 1", () => {
    const rows = [{ a: null, b: 123, c: 4.5, d: "foo", e: Buffer.from("bar") }];
    db.table("arrays", { columns: ["a", "b", "c", "d", "e"], *rows() { yield* rows.map((r) => Object.values(r)) } });
    db.table("objects", { columns: ["a", "b", "c", "d", "e"], *rows() { yield* rows } });
    expect(db.prepare("SELECT * FROM arrays").all()).toEqual(rows);
    expect(db.prepare("SELECT * FROM objects").all()).toEqual(rows);
    db.table("big", { columns: ["x"], *rows() { yield [2n ** 40n]; yield [new Uint8Array([1, 2])] } });
    expect(db.prepare("SELECT rowid, typeof(x) AS t FROM big").all()).toEqual([{ rowid: 1, t: "integer" }, { rowid: 2, t: "blob" }]);
  });

  it("should give INTEGER parameters as bigint with safeIntegers, and refuse unsafe ones without", () => {
    db.table("kind", { columns: ["t"], safeIntegers: true, *rows(x: unknown) { yield [typeof x] } });
    expect(db.prepare("SELECT * FROM kind(1)").pluck().get()).toBe("bigint");
    db.table("plain", { columns: ["t"], *rows(x: unknown) { yield [String(x)] } });
    expect(db.prepare("SELECT * FROM plain(1)").pluck().get()).toBe("1");
    const e = thrown(() => db.prepare("SELECT * FROM plain(9007199254740993)").all());
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe("HARDENED_INTEGER_OVERFLOW");
    expect(e.message).toContain('Parameter "$1" of virtual table module "plain"');
    db.defaultSafeIntegers(true);
    db.table("dflt", { columns: ["t"], *rows(x: unknown) { yield [typeof x] } });
    expect(db.prepare("SELECT * FROM dflt(1)").pluck().safeIntegers(false).get()).toBe("bigint");
  });

  it("should refuse operators other than = on parameters, with SQLite's message naming the parameter", () => {
    db.table("sequence", sequence);
    const e = thrown(() => db.prepare("SELECT * FROM sequence WHERE length > 1"));
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.code).toBe("SQLITE_ERROR");
    expect(e.message).toContain(`virtual table parameter "length" can only be constrained by the '=' operator`);
  });

  it("should stop the generator at LIMIT without reading further rows", () => {
    let last = 0;
    db.table("count", { columns: ["x"], *rows() { for (last = 1; last <= 3; last++) yield [last] } });
    expect(db.prepare("SELECT * FROM count LIMIT 1").pluck().all()).toEqual([1]);
    expect(last).toBe(1);
    expect(db.prepare("SELECT * FROM count LIMIT 1 OFFSET 1").pluck().all()).toEqual([2]);
    expect(last).toBe(2);
  });

  it("should refuse CREATE VIRTUAL TABLE for a definition object", () => {
    db.table("sequence", sequence);
    const e = thrown(() => db.exec("CREATE VIRTUAL TABLE s USING sequence"));
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.message).toContain("no such module");
  });
});

describe("db.table(name, factory)", () => {
  it("should call the factory on CREATE VIRTUAL TABLE with the module arguments and this", () => {
    const seen: unknown[] = [];
    db.table("list", function (this: unknown, ...args: string[]) {
      seen.push(this, args);
      return { columns: ["item"], *rows() { yield* args.map((a) => [a]) } };
    });
    expect(thrown(() => db.prepare("SELECT * FROM list")).message).toContain("no such table");
    db.exec("CREATE VIRTUAL TABLE fruits USING list(apple, pear tree)");
    expect(seen).toEqual([{ module: "list", database: "main", table: "fruits" }, ["apple", "pear tree"]]);
    expect(db.prepare("SELECT item FROM fruits").pluck().all()).toEqual(["apple", "pear tree"]);
  });

  it("should reject a factory result that is not a definition", () => {
    db.table("bad", () => 5 as any);
    const e = thrown(() => db.exec("CREATE VIRTUAL TABLE t USING bad()"));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe("HARDENED_INVALID_ARGUMENT");
    expect(e.message).toBe('Virtual table module "bad" did not return a table definition object; return { columns, rows }');
    db.table("bad2", () => ({ columns: [], *rows() {} }));
    const r = thrown(() => db.exec("CREATE VIRTUAL TABLE t USING bad2()"));
    expect(r).toBeInstanceOf(RangeError);
    expect(r.message).toBe('Virtual table module "bad2" returned a table definition with zero columns');
  });
});

describe("checks", () => {
  const definitionErrors: Array<[string, () => unknown, string]> = [
    ["no name", () => (db as any).table(), "Expected first argument to be a string"],
    ["empty name", () => db.table("", sequence), "cannot be an empty string"],
    ["no definition", () => (db as any).table("a", null), "Expected second argument to be a function or a table definition"],
    ["no rows", () => (db as any).table("a", { columns: ["x"] }), 'used a table definition without a "rows" property'],
    ["no columns", () => (db as any).table("a", { *rows() {} }), 'used a table definition without a "columns" property'],
    ["plain function", () => (db as any).table("a", { columns: ["x"], rows() {} }), 'invalid "rows" property (should be a generator function)'],
    ["column kind", () => (db as any).table("a", { columns: ["x", 1], *rows() {} }), 'invalid "columns" property'],
    ["duplicate column", () => db.table("a", { columns: ["x", "x"], *rows() {} }), "duplicate column names"],
    ["duplicate parameter", () => db.table("a", { columns: ["x"], parameters: ["p", "p"], *rows() {} }), "duplicate parameter names"],
    ["both", () => db.table("a", { columns: ["x"], parameters: ["x"], *rows() {} }), 'column "x" which was ambiguously defined'],
    ["boolean", () => (db as any).table("a", { columns: ["x"], *rows() {}, directOnly: undefined }), 'invalid "directOnly" property'],
    ["flags", () => db.table("a", { columns: ["x"], *rows() {}, directOnly: true, innocuous: true }), "both directOnly and innocuous"],
  ];
  for (const [what, call, message] of definitionErrors) {
    it(`should throw a TypeError for ${what}`, () => {
      const e = thrown(call);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_INVALID_ARGUMENT");
      expect(e.message).toContain(message);
    });
  }

  it("should throw a RangeError for zero columns and more than 32 parameters", () => {
    for (const call of [
      () => db.table("a", { columns: [], *rows() {} }),
      () => db.table("a", { columns: ["x"], parameters: [...Array(33)].map((_, i) => `p${i}`), *rows() {} }),
    ]) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(RangeError);
      expect(e.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
  });

  it("should refuse invalid yielded rows and values with TypeError HARDENED_TABLE_ROW", () => {
    const yields: Array<[unknown, string]> = [
      [42, "yielded something that isn't a valid row object"],
      [[1, 2], "yielded a row with an incorrect number of columns (2, expected 1)"],
      [{ y: 1 }, 'yielded a row with an undeclared column "y"'],
      [{}, "yielded a row with missing columns"],
      [[true], 'Virtual table module "t" yielded an invalid value (a boolean)'],
      [[new Date()], 'Virtual table module "t" yielded an invalid value (an object)'],
    ];
    for (const [row, message] of yields) {
      db.table("t", { columns: ["x"], *rows() { yield row as any } });
      const e = thrown(() => db.prepare("SELECT * FROM t").all());
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_TABLE_ROW");
      expect(e.message).toContain(message);
    }
  });
});

describe("exceptions and re-entrancy", () => {
  it("should rethrow what the generator or the factory threw, unchanged", () => {
    for (const exception of [new TypeError("foo"), { yup: "ok" }, "text", null, 12.5]) {
      db.table("g", { columns: ["x"], *rows() { yield [1]; throw exception } });
      expect(db.prepare("SELECT * FROM g").pluck().get()).toBe(1);
      expect(thrown(() => db.prepare("SELECT * FROM g").all())).toBe(exception);
      db.table("f", () => {
        throw exception;
      });
      expect(thrown(() => db.exec("CREATE VIRTUAL TABLE t USING f()"))).toBe(exception);
    }
    // The failure does not stick to the next, unrelated error.
    const e = thrown(() => db.prepare("SELECT * FROM missing"));
    expect(e).toBeInstanceOf(SqliteError);
  });

  it("should keep the connection busy while the generator runs", () => {
    const codes = new Set<string>();
    db.table("other", { columns: ["x"], *rows() {} });
    db.table("busy", {
      columns: ["x"],
      *rows() {
        for (const attempt of [() => db.exec("SELECT 1"), () => db.prepare("SELECT 1"), () => db.table("y", { columns: ["x"], *rows() {} }), () => db.close()]) {
          try {
            attempt();
          } catch (e: any) {
            expect(e).toBeInstanceOf(TypeError);
            codes.add(e.code);
          }
        }
        yield [1];
      },
    });
    expect(db.prepare("SELECT * FROM busy").pluck().all()).toEqual([1]);
    expect([...codes]).toEqual(["HARDENED_DATABASE_BUSY"]);
    expect(db.open).toBe(true);
    db.exec("SELECT * FROM other");
  });

  it("should let the generator read another connection while an iterator reads this one", () => {
    const other = new HardenedDb(":memory:");
    other.exec("CREATE TABLE words (w); INSERT INTO words VALUES ('a'), ('b'), ('c')");
    const words = other.prepare("SELECT w FROM words ORDER BY w").pluck();
    db.table("echo", { columns: ["x"], *rows() { for (const w of words.all()) yield [w + w]; } });
    const seen: string[] = [];
    for (const row of db.prepare("SELECT x, (SELECT count(*) FROM echo) AS n FROM echo").iterate() as Iterable<any>) {
      seen.push(`${row.x}${row.n}`);
    }
    other.close();
    expect(seen).toEqual(["aa3", "bb3", "cc3"]);
  });

  it("should refuse to register a table while an iterator is open", () => {
    for (const _ of db.prepare("SELECT 1").iterate()) {
      const e = thrown(() => db.table("a", { columns: ["x"], *rows() {} }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_DATABASE_BUSY");
    }
    db.table("a", { columns: ["x"], *rows() {} });
  });
});

describe("views and trusted_schema", () => {
  it("should refuse a table in a view unless innocuous; directOnly refuses it always", () => {
    db.table("plain", { columns: ["x"], *rows() { yield [1] } });
    db.table("safe", { columns: ["x"], innocuous: true, *rows() { yield [2] } });
    db.table("direct", { columns: ["x"], directOnly: true, *rows() { yield [3] } });
    db.exec("CREATE VIEW v1 AS SELECT * FROM plain; CREATE VIEW v2 AS SELECT * FROM safe; CREATE VIEW v3 AS SELECT * FROM direct");
    expect(thrown(() => db.prepare("SELECT * FROM v1").get()).message).toContain('unsafe use of virtual table "plain"');
    expect(db.prepare("SELECT * FROM v2").pluck().get()).toBe(2);
    expect(thrown(() => db.prepare("SELECT * FROM v3").get()).message).toContain('unsafe use of virtual table "direct"');
    expect(db.prepare("SELECT * FROM direct").pluck().get()).toBe(3);
  });
});

describe("lifetime", () => {

  for (const runtime of ["bun", "node"] as const) {
    it(`should release generators ended early, returned or collected, and refuse close() mid-iteration under ${runtime}`, () => {
      const out = runCrashFree(runtime, `
        const { HardenedDb } = require(".");
        const collect = globalThis.gc || (() => Bun.gc(true));
        let released = 0, started = 0;
        const registry = new FinalizationRegistry(() => { released++; });
        const definition = { columns: ["x"], *rows() { const token = {}; started++; registry.register(token, 0); yield [1]; yield [2]; yield [token ? 3 : 0]; } };
        const db = new HardenedDb(":memory:");
        db.table("t", definition);
        for (let i = 0; i < 200; i++) db.prepare("SELECT * FROM t LIMIT 1").all();
        let it = db.prepare("SELECT * FROM t").iterate();
        it.next();
        it = null;
        const ended = db.prepare("SELECT * FROM t").iterate();
        ended.next();
        ended.return();
        const other = new HardenedDb(":memory:");
        other.table("t", definition);
        const open = other.prepare("SELECT * FROM t").iterate();
        open.next();
        let busy = "";
        try { other.close(); } catch (e) { busy = e.code || e.message; }
        open.return();
        other.close();
        let error = "";
        try { other.prepare("SELECT * FROM t").iterate().next(); } catch (e) { error = e.code || e.message; }
        const done = async () => {
          for (let i = 0; i < 20 && released < started; i++) { collect(); await new Promise((r) => setTimeout(r, 10)); }
          db.close();
          console.log(JSON.stringify({ started, allReleased: released === started, busy, error }));
        };
        done();
      `);
      const result = JSON.parse(out);
      expect(result.started).toBe(203);
      expect(result.allReleased).toBe(true);
      expect(result.busy).toBe("HARDENED_DATABASE_BUSY");
      expect(result.error).toBe("HARDENED_NOT_OPEN");
    });

    it(`should not crash when a worker ends with a scan of a virtual table open under ${runtime}`, () => {
      const out = runCrashFree(runtime, `
        const { Worker } = require("node:worker_threads");
        const worker = new Worker(\`
          const { HardenedDb } = require(\${JSON.stringify(process.cwd())});
          const db = new HardenedDb(":memory:");
          db.table("t", { columns: ["x"], *rows(n) { for (let i = 0; ; i++) yield [i * n]; } });
          db.table("f", (k) => ({ columns: ["k"], *rows() { yield [k]; } }));
          db.exec("CREATE VIRTUAL TABLE made USING f(7)");
          const it = db.prepare("SELECT * FROM t(2)").pluck().iterate();
          it.next(); it.next();
          require("node:worker_threads").parentPort.postMessage(it.next().value + ":" + db.prepare("SELECT k FROM made").pluck().get());
        \`, { eval: true });
        worker.on("message", (m) => console.log("got " + m));
        worker.on("exit", (code) => console.log("exit " + code));
      `);
      expect(out).toContain("got 4:7");
      expect(out).toContain("exit 0");
    });

    it(`should not crash when the environment ends with a scan open under ${runtime}`, () => {
      const out = runCrashFree(runtime, `
        const { HardenedDb } = require(".");
        const db = new HardenedDb(":memory:");
        db.table("t", { columns: ["x"], *rows() { for (let i = 0; ; i++) yield [i]; } });
        const it = db.prepare("SELECT * FROM t").iterate();
        it.next(); it.next();
        globalThis.keep = [db, it];
        console.log("ok");
      `);
      expect(out.trim()).toBe("ok");
    });
  }
});

describe("compared with better-sqlite3 under Node", () => {
  it("should give the same rows, errors and generator calls", () => {
    const script = (module: string) => `
      const Database = ${module};
      const db = new Database(":memory:");
      const out = {};
      const t = (k, f) => { try { out[k] = f(); } catch (e) { out[k] = { error: e.constructor.name, message: String(e && e.message).slice(0, 40) }; } };
      db.table("seq", { columns: ["value"], parameters: ["length", "start"], *rows(length, start = 0) { for (let n = start; n < start + length; n++) yield { value: n }; } });
      t("seq", () => db.prepare("SELECT * FROM seq(3, 5)").pluck().all());
      t("hidden", () => db.prepare("SELECT length, start, value FROM seq(2)").raw().all());
      t("where", () => db.prepare("SELECT * FROM seq WHERE start = ? AND length = ?").pluck().all(1, 2));
      t("null", () => db.prepare("SELECT * FROM seq(NULL)").pluck().all());
      t("gt", () => db.prepare("SELECT * FROM seq WHERE length > 1"));
      t("rowid", () => db.prepare("SELECT rowid FROM seq(3)").pluck().all());
      let finals = 0, last = 0;
      db.table("fin", { columns: ["x"], *rows() { try { for (last = 1; last < 4; last++) yield [last]; } finally { finals++; } } });
      t("limit", () => db.prepare("SELECT * FROM fin LIMIT 1").pluck().all());
      out.afterLimit = { finals, last };
      db.table("list", function (...args) { return { columns: ["item"], *rows() { yield* args.map((a) => [a]); } }; });
      db.exec("CREATE VIRTUAL TABLE l USING list(a, b c)");
      t("factory", () => db.prepare("SELECT * FROM l").pluck().all());
      t("eponymousCreate", () => db.exec("CREATE VIRTUAL TABLE s USING seq"));
      db.table("bad", { columns: ["x"], *rows() { yield [true]; } });
      t("badValue", () => db.prepare("SELECT * FROM bad").all());
      db.table("short", { columns: ["x", "y"], *rows() { yield [1]; } });
      t("shortRow", () => db.prepare("SELECT * FROM short").all());
      const err = new Error("boom");
      db.table("thrower", { columns: ["x"], *rows() { throw err; } });
      t("same", () => { try { db.prepare("SELECT * FROM thrower").all(); } catch (e) { return e === err; } });
      db.table("busy", { columns: ["x"], *rows() { try { db.exec("SELECT 1"); } catch (e) { yield [e.constructor.name]; } } });
      t("busy", () => db.prepare("SELECT * FROM busy").pluck().all());
      for (const [k, f] of Object.entries({
        empty: () => db.table("", { columns: ["x"], *rows() {} }),
        noColumns: () => db.table("a", { columns: [], *rows() {} }),
        notGenerator: () => db.table("a", { columns: ["x"], rows() {} }),
        params33: () => db.table("a", { columns: ["x"], parameters: [...Array(33)].map((_, i) => "p" + i), *rows() {} }),
      })) t(k, f);
      console.log(JSON.stringify(out));
    `;
    const ours = runScript(script('require(".").HardenedDb'), "node");
    const theirs = runScript(script('require("better-sqlite3")'), "node");
    expect(ours.stderr).toBe("");
    expect(theirs.stderr).toBe("");
    const a = JSON.parse(ours.stdout);
    const b = JSON.parse(theirs.stdout);
    expect(a).toEqual(b);
    expect(a.afterLimit).toEqual({ finals: 0, last: 1 });
    expect(a.same).toBe(true);
  });
});
