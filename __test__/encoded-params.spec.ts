// Values written into the scratch buffer by JS (lib/encoded-params.js) and run through
// bun:ffi on Bun (lib/ffi.js): they bind exactly as the Node-API path and the peer drivers
// bind them, every value the encoder leaves alone still binds or fails as before, and a
// call that fails leaves nothing behind for the next one.
import { describe, it, expect, afterAll } from "bun:test";
import * as real from "bun:sqlite";
import * as face from "../bun.js";
import { HardenedDb } from "../index.js";
import { tempDir, thrown, oracle, runScript } from "./helpers";

const tmp = tempDir("encoded");
afterAll(() => tmp.cleanup());

/** One row per value: its storage class and SQLite's literal of it. */
const PROBE = "SELECT typeof(v) AS type, quote(v) AS value FROM (SELECT ? AS v)";

/** Values the encoder handles itself, and values it leaves to Node-API. */
const VALUES: [string, () => unknown][] = [
  ["int", () => 42],
  ["negative int", () => -7],
  ["zero", () => 0],
  ["minus zero", () => -0],
  ["fraction", () => 0.25],
  ["2^53 - 1", () => 2 ** 53 - 1],
  ["2^53", () => 2 ** 53],
  ["NaN", () => NaN],
  ["Infinity", () => -Infinity],
  ["ascii", () => "hello"],
  ["empty string", () => ""],
  ["latin1", () => "café"],
  ["emoji", () => "a😀b"],
  ["lone surrogate", () => "x\uD800y"],
  ["NUL inside", () => "a\0b"],
  ["bigint", () => 2n ** 63n - 1n],
  ["negative bigint", () => -(2n ** 63n)],
  ["true", () => true],
  ["false", () => false],
  ["null", () => null],
  ["undefined", () => undefined],
  ["Buffer", () => Buffer.from([1, 2, 255])],
  ["Uint8Array view", () => new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4)],
  ["empty Uint8Array", () => new Uint8Array(0)],
  ["Uint8ClampedArray", () => new Uint8ClampedArray([3, 4])],
  ["Int16Array", () => new Int16Array([-1, 2])],
  ["Float64Array", () => new Float64Array([1.5])],
  ["DataView", () => new DataView(new Uint8Array([7, 8, 9]).buffer, 1)],
  ["ArrayBuffer", () => new Uint8Array([4, 5]).buffer],
  ["Int16Array given Uint8Array.prototype", () => Object.setPrototypeOf(new Int16Array([-1, 2]), Uint8Array.prototype)],
  [
    "Uint8Array with lying length getters",
    () => {
      const bytes = new Uint8Array([1, 2, 3]);
      for (const key of ["length", "byteLength"]) Object.defineProperty(bytes, key, { get: () => 1 });
      return bytes;
    },
  ],
  ["long string", () => "é".repeat(40_000)],
];

const outcome = (fn: () => unknown) => {
  try {
    return fn();
  } catch (e: any) {
    return { threw: e.constructor.name, code: e.code };
  }
};

describe("the bun face binds encoded values as bun:sqlite does", () => {
  for (const [name, make] of VALUES) {
    it(name, () => {
      const theirs = new real.Database(":memory:");
      const ours = new face.Database(":memory:");
      const a = outcome(() => theirs.query(PROBE).get(make()));
      const b = outcome(() => ours.query(PROBE).get(make()));
      // The Node-API path: one array of values is not encoded.
      const c = outcome(() => ours.query(PROBE).get([make()]));
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      theirs.close();
      ours.close();
    });
  }

  it("never runs a BLOB's own length getters", () => {
    let calls = 0;
    const lying = () => {
      const bytes = new Uint8Array([1, 2, 3]);
      for (const key of ["length", "byteLength"]) Object.defineProperty(bytes, key, { get: () => (calls++, 1) });
      return bytes;
    };
    const ours = new face.Database(":memory:");
    expect(ours.query("SELECT hex(?) AS h").get(lying())).toEqual({ h: "010203" });
    ours.prepare("SELECT ?").run(lying());
    const main = new HardenedDb(":memory:");
    expect(main.prepare("SELECT hex(?) AS h").get(lying())).toEqual({ h: "010203" });
    expect(calls).toBe(0);
    ours.close();
    main.close();
  });

  it("leaves a Date and a Proxy of bytes to Node-API, which binds them as bun:sqlite does", () => {
    for (const make of [() => new Date(0), () => new Proxy(new Uint8Array(2), {})]) {
      const theirs = new real.Database(":memory:");
      const ours = new face.Database(":memory:");
      const a = outcome(() => theirs.query(PROBE).get(make())) as any;
      const b = outcome(() => ours.query(PROBE).get(make())) as any;
      expect(b.threw === undefined ? b : b.threw).toEqual(a.threw === undefined ? a : a.threw);
      theirs.close();
      ours.close();
    }
  });

  it("refuses a bigint beyond 64 bits (docs/bun.md: bun:sqlite wraps it)", () => {
    const ours = new face.Database(":memory:");
    expect(thrown(() => ours.query(PROBE).get(2n ** 64n)).code).toBe("HARDENED_INTEGER_OVERFLOW");
    expect(thrown(() => ours.prepare("SELECT ?").run(-(2n ** 63n) - 1n)).code).toBe("HARDENED_INTEGER_OVERFLOW");
    ours.close();
  });

  it("runs an insert of every kind through run() and reads back what bun:sqlite does", () => {
    const rows: unknown[][] = [];
    for (const lib of [real, face]) {
      const db = new lib.Database(":memory:");
      db.run("CREATE TABLE t (a, b, c, d, e)");
      const insert = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
      for (let i = 0; i < 50; i++) insert.run(i, i + 0.5, `row ${i} é`, new Uint8Array([i, 255 - i]), i % 2 ? null : BigInt(i) << 40n);
      rows.push(db.query("SELECT a, typeof(a), b, c, hex(d), e FROM t ORDER BY rowid").values());
      db.close();
    }
    expect(rows[1]).toEqual(rows[0]);
  });
});

describe("the main face binds encoded values as better-sqlite3 does", () => {
  // Differences on purpose (docs/api.md): better-sqlite3 refuses booleans, and
  // stores a lone surrogate as invalid UTF-8 where we store U+FFFD.
  const DIFFERENT = ["long string", "true", "false", "lone surrogate"];

  it("matches better-sqlite3 for every value but the documented differences (under Node)", () => {
    const scenario = `
      const db = new Database(':memory:');
      const probe = db.prepare(${JSON.stringify(PROBE)});
      const values = [${VALUES.filter(([n]) => !DIFFERENT.includes(n))
        .map(([, make]) => make.toString())
        .join(", ")}];
      const out = values.map((make) => { try { return probe.get(make()) } catch (e) { return { threw: e.constructor.name } } });
      db.close();
      return out;`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
  });

  it("binds booleans as 1/0 and a lone surrogate as U+FFFD, under Node too", () => {
    const code = `
      const db = new (require('./index.js'))(':memory:');
      const probe = db.prepare(${JSON.stringify(PROBE)});
      console.log(JSON.stringify([true, false, 'x\\uD800y'].map((v) => probe.get(v))));`;
    const { status, stdout, stderr } = runScript(code, "node");
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      { type: "integer", value: "1" },
      { type: "integer", value: "0" },
      { type: "text", value: "'x\uFFFDy'" },
    ]);
  });

  it("binds the same values through the encoder and through an array (Node-API)", () => {
    const db = new HardenedDb(":memory:");
    const probe = db.prepare(PROBE);
    for (const [, make] of VALUES) {
      expect(outcome(() => probe.get(make()))).toEqual(outcome(() => probe.get([make()])));
    }
    db.close();
  });

  it("still refuses a call whose values do not fit, and named values, as before", () => {
    const db = new HardenedDb(":memory:");
    const two = db.prepare("SELECT ?, ?");
    expect(thrown(() => two.get(1)).code).toBe("HARDENED_PARAMETER_COUNT");
    expect(thrown(() => two.get(1, 2, 3)).code).toBe("HARDENED_PARAMETER_COUNT");
    const named = db.prepare("SELECT :a AS a");
    expect(named.get({ a: 5 })).toEqual({ a: 5 });
    expect(thrown(() => named.get(5)).code).toBeDefined();
    const bound = db.prepare("SELECT ? AS v").bind(3);
    expect(bound.get()).toEqual({ v: 3 });
    expect(thrown(() => bound.get(4)).code).toBe("HARDENED_ALREADY_BOUND");
    expect(thrown(() => bound.run(4)).code).toBe("HARDENED_ALREADY_BOUND");
    db.close();
  });

  it("binds more values than the encoder holds through Node-API", () => {
    const db = new HardenedDb(":memory:");
    const many = Array.from({ length: 300 }, (_, i) => i);
    const sql = `SELECT ${many.map(() => "?").join(" + ")} AS total`;
    expect(db.prepare(sql).get(...many)).toEqual({ total: (299 * 300) / 2 });
    db.close();
  });
});

describe("a failed call leaves no values behind", () => {
  it("a call that fails before binding does not lend its values to the next call", () => {
    const db = new face.Database(tmp.path("stale.db"));
    const keep = db.query("SELECT ? AS v");
    expect(keep.get(7)).toEqual({ v: 7 });
    const other = new face.Database(tmp.path("other.db"));
    const doomed = other.query("SELECT ? AS v");
    other.close();
    expect(thrown(() => doomed.get(99)).code).toBe("HARDENED_NOT_OPEN");
    const writer = new face.Database(tmp.path("other2.db"));
    const insert = writer.prepare("SELECT ? AS v");
    writer.close();
    expect(thrown(() => insert.run(55)).code).toBe("HARDENED_NOT_OPEN");
    // No values: bun:sqlite runs again with the values bound last (7), not 99 or 55.
    expect(keep.get()).toEqual({ v: 7 });
    db.close();
  });
});

describe("run() and get() through bun:ffi", () => {
  const errorOf = (db: face.Database) => {
    db.run("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    const insert = db.prepare("INSERT INTO u (name) VALUES (?)");
    const first = insert.run("ada");
    const e = thrown(() => insert.run("ada"));
    return { first, error: { cls: e.constructor.name, code: e.code, errno: e.errno, message: e.message } };
  };

  it("reports results and errors as the Node-API call does (a UDF makes the connection use Node-API)", () => {
    const fast = new face.Database(":memory:");
    const slow = new face.Database(":memory:");
    (slow as any).function("noop", () => 1);
    expect(errorOf(fast)).toEqual(errorOf(slow));
    fast.close();
    slow.close();
  });

  it("runs statements from inside a user-defined function of another connection", () => {
    const outer = new HardenedDb(":memory:");
    const inner = new HardenedDb(":memory:");
    inner.exec("CREATE TABLE log (v)");
    const log = inner.prepare("INSERT INTO log VALUES (?)");
    outer.function("logged", (v: number) => Number(log.run(v).lastInsertRowid));
    expect(outer.prepare("SELECT logged(value) AS id FROM json_each('[5,6,7]')").all()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(inner.prepare("SELECT v FROM log").pluck().all()).toEqual([5, 6, 7]);
    outer.close();
    inner.close();
  });

  it("get() hands a row with values over 64 KiB to Node-API, as bun:sqlite returns them", () => {
    const rows: unknown[] = [];
    for (const lib of [real, face]) {
      const db = new lib.Database(":memory:");
      db.run("CREATE TABLE big (id INTEGER PRIMARY KEY, t TEXT, b BLOB)");
      db.prepare("INSERT INTO big (t, b) VALUES (?, ?)").run("é".repeat(50_000), new Uint8Array(70_000).fill(7));
      const row = db.query("SELECT id, t, b FROM big WHERE id = ?").get(1) as any;
      rows.push({ id: row.id, t: row.t.length, tail: row.t.slice(-2), b: row.b.length, sum: row.b.reduce((x: number, y: number) => x + y, 0), type: row.b.constructor.name });
      db.close();
    }
    expect(rows[1]).toEqual(rows[0]);
  });

  it("iterate() hands rows with values over 64 KiB to Node-API mid-iteration, as bun:sqlite returns them", () => {
    const seen: unknown[] = [];
    for (const lib of [real, face]) {
      const db = new lib.Database(":memory:");
      db.run("CREATE TABLE big (id INTEGER PRIMARY KEY, t TEXT)");
      const insert = db.prepare("INSERT INTO big (t) VALUES (?)");
      for (let i = 0; i < 30; i++) insert.run(i % 7 === 3 ? "x".repeat(70_000) + i : `row ${i}`);
      const rows: unknown[] = [];
      for (const row of db.query("SELECT id, t FROM big WHERE id > ? ORDER BY id").iterate(0) as any) {
        rows.push([row.id, row.t.length, row.t.slice(-3)]);
      }
      seen.push(rows);
      db.close();
    }
    expect((seen[0] as unknown[]).length).toBe(30);
    expect(seen[1]).toEqual(seen[0]);
  });

  it("get() and iterate() read the columns after a schema change by another connection", () => {
    const path = tmp.path("schema.db");
    const db = new face.Database(path);
    db.run("CREATE TABLE t (a INTEGER)");
    for (let i = 1; i <= 20; i++) db.prepare("INSERT INTO t VALUES (?)").run(i);
    const one = db.query("SELECT * FROM t WHERE a = ?");
    const every = db.query("SELECT * FROM t WHERE a > ?");
    expect(one.get(3)).toEqual({ a: 3 });
    expect([...every.iterate(18)]).toEqual([{ a: 19 }, { a: 20 }]);
    const other = new face.Database(path);
    other.run("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
    other.close();
    expect(one.get(3)).toEqual({ a: 3, b: "x" });
    expect([...every.iterate(18)]).toEqual([{ a: 19, b: "x" }, { a: 20, b: "x" }]);
    db.close();
  });

  it("get() of a statement that writes runs it once", () => {
    const db = new face.Database(":memory:");
    db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v)");
    const insert = db.query("INSERT INTO t (v) VALUES (?) RETURNING id, v");
    expect(insert.get("a")).toEqual({ id: 1, v: "a" });
    expect(insert.get("b")).toEqual({ id: 2, v: "b" });
    expect(db.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
    db.close();
  });

  it("get() reports an integer beyond 2^53 and a closed database as Node-API does", () => {
    const db = new HardenedDb(":memory:");
    const big = db.prepare("SELECT ? + 1 AS v");
    expect(thrown(() => big.get(2n ** 60n)).code).toBe("HARDENED_INTEGER_OVERFLOW");
    expect(big.safeIntegers().get(2n ** 60n)).toEqual({ v: 2n ** 60n + 1n });
    db.close();
    expect(thrown(() => big.get(1)).code).toBe("HARDENED_NOT_OPEN");
  });

  it("gives the same rows with HARDENED_SQLITE_FFI=0 (Node-API only) and by default", () => {
    const code = `
      const { Database } = require('./bun.js');
      const db = new Database(':memory:');
      db.run('CREATE TABLE t (a, b, c)');
      const s = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
      const results = [];
      for (let i = 0; i < 20; i++) results.push(s.run(i, 'v' + i, i % 3 ? null : new Uint8Array([i])));
      const one = db.query('SELECT a, b, c FROM t WHERE a = ?');
      for (let i = 0; i < 20; i += 3) results.push(one.get(i));
      console.log(JSON.stringify({ results, rows: db.query('SELECT a, b, hex(c) FROM t').values(),
        ffi: require('./lib/ffi.js').enabled }));`;
    const on = runScript(code, "bun");
    const off = runScript(code, "bun", { HARDENED_SQLITE_FFI: "0" });
    expect(on.status).toBe(0);
    expect(off.status).toBe(0);
    const a = JSON.parse(on.stdout);
    const b = JSON.parse(off.stdout);
    expect([a.ffi, b.ffi]).toEqual([true, false]);
    expect(a.rows).toEqual(b.rows);
    expect(a.results).toEqual(b.results);
  });
});
