// The bun:sqlite face (hardened-sqlite/bun) against the real bun:sqlite: the same calls
// on both, compared, for binding, rows, statements, transactions, serialize; and the
// hardened differences (docs/bun.md), each asserted on its own.
import { describe, it, expect, afterAll } from "bun:test";
import * as real from "bun:sqlite";
import * as face from "../../bun.js";
import { tempDir, thrown, runScript, NODE, PACKAGE_ROOT } from "../helpers";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const tmp = tempDir("bunface");
afterAll(() => tmp.cleanup());

type Db = InstanceType<typeof real.Database>;
const json = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? { [x.constructor.name]: [...x] } : x)));

/** Runs `scenario` on a fresh in-memory database of bun:sqlite and of the face; returns both outcomes. */
function both(scenario: (db: Db, lib: typeof real) => unknown, options?: object) {
  const out: unknown[] = [];
  for (const lib of [real, face as unknown as typeof real]) {
    const db = new lib.Database(":memory:", options as any);
    try {
      out.push(json(scenario(db, lib)));
    } catch (e: any) {
      out.push({ threw: e.constructor === TypeError ? "TypeError" : e.constructor === RangeError ? "RangeError" : "Error", message: e.message.split(/[:(]/)[0].trim() });
    } finally {
      db.close();
    }
  }
  return out;
}

function same(scenario: (db: Db, lib: typeof real) => unknown, options?: object) {
  const [theirs, ours] = both(scenario, options);
  expect(ours).toEqual(theirs);
}

describe("binding, as bun:sqlite", () => {
  it("binds whole safe numbers as INTEGER and the rest as REAL", () => {
    for (const v of [5, 2 ** 40, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 60, 2.5, -0, 0, NaN, Infinity, 1e300]) {
      same((db) => db.query("SELECT typeof(?) t, ? v").get(v, v));
    }
  });

  it("binds booleans, bigints, strings, null, undefined and every binary view", () => {
    same((db) => db.query("SELECT typeof(?) a, ? b, ? c, ? d, ? e").get(true, 5n, "héllo ☃", null, undefined));
    for (const v of [new Uint8Array([1, 2]), Buffer.from([3]), new Int16Array([1, 2]), new Float64Array([1]), new ArrayBuffer(2), new DataView(new ArrayBuffer(3))]) {
      same((db) => db.query("SELECT ? a").get(v));
    }
  });

  it("takes positional values spread or as one array, ?NNN by index, and checks their count", () => {
    same((db) => [db.query("SELECT ? a, ? b").get([1, 2]), db.query("SELECT ? a, ? b").get(1, 2), db.query("SELECT ?2 a, ?1 b").get(1, 2)]);
    same((db) => db.query("SELECT ? a").get(1, 2));
    same((db) => db.query("SELECT ? a, ? b").get(1));
    same((db) => db.query("SELECT $x a, $y b").get(1, 2));
  });

  it("binds named keys with their prefix (or bare), leaving missing ones NULL", () => {
    same((db) => db.query("SELECT $x a, :y b, @z c").get({ $x: 1, ":y": 2, "@z": 3 }));
    same((db) => db.query("SELECT $x a, :x b").get({ x: 1 }));
    same((db) => db.query("SELECT $x a").get({ x: 1, $x: 2 }));
    same((db) => db.query("SELECT $x a, $y b").get({ $x: 1 }));
    same((db) => db.query("SELECT ? a").get({ a: 1 }));
  });

  it("under strict: true takes bare keys and names a missing parameter", () => {
    same((db) => db.query("SELECT $x a, :y b, @z c").get({ x: 1, y: 2, z: 3 }), { strict: true });
    same((db) => db.query("SELECT $x a, $y b").get({ x: 1 }), { strict: true });
    same((db) => db.query("SELECT :x a").get({ $x: 1 }), { strict: true });
    same((db) => db.query("SELECT $x a, ? b").get({ x: 1 }), { strict: true });
    same((db) => db.query("SELECT $x a").get({ x: undefined }), { strict: true });
    const db = new face.Database(":memory:", { strict: true });
    const error = thrown(() => db.query("SELECT $x a, $y b").get({ x: 1 }));
    expect([error.code, error.message]).toEqual(["HARDENED_MISSING_PARAMETER", 'Missing parameter "y": pass an object with a "y" key']);
  });

  it("throws a TypeError for values SQLite cannot store", () => {
    for (const v of [new Date(0), new Map(), new Set(), Symbol("s"), () => 1, [[1]]]) {
      same((db) => db.query("SELECT ? a").get(v as any));
      expect(thrown(() => new face.Database().query("SELECT ? a").get(v as any)).code).toBe("HARDENED_INVALID_ARGUMENT");
    }
  });

  it("keeps the last bindings for a call without parameters, and binds prepare()'s params now", () => {
    same((db) => {
      const q = db.query("SELECT ? a");
      return [q.get(1), q.get(), q.all(), db.prepare("SELECT ? a", [5]).get(), db.prepare("SELECT ? a", 5).get(6)];
    });
  });
});

describe("rows and statements, as bun:sqlite", () => {
  const setup = (db: Db) => {
    db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, b BLOB, r REAL)");
    db.run("INSERT INTO t(name, b, r) VALUES ('a', x'01ff', 1.5), (NULL, NULL, NULL)");
    return db.query("SELECT id, name, b, r, 1 + 1 e FROM t WHERE id > ?");
  };

  it("get() is a row or null; all(), values(), iterate() and for...of give every row; blobs are Uint8Array", () => {
    same((db) => {
      const q = setup(db);
      const iterated = [];
      for (const row of q.iterate(0)) iterated.push(row);
      const looped = [];
      for (const row of q) looped.push(row);
      return [q.get(0), q.get(5), q.all(0), q.values(0), iterated, looped, db.query("SELECT 1 WHERE 0").all()];
    });
    const db = new face.Database();
    expect(setup(db).get(0)!.b).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(setup(new face.Database()).get(0)!.b)).toBe(false);
  });

  it("describes columns, parameters and the SQL with its values", () => {
    same((db) => {
      const q = setup(db);
      const before = [q.columnNames, q.declaredTypes, q.paramsCount, q.toString()];
      q.all(0);
      return [before, q.columnTypes, q.toString(), `${q}`];
    });
    same((db) => {
      const q = db.query("SELECT ? a, ? b, 'it''s' c");
      q.get(new Uint8Array([1, 255]), "o'k");
      return [q.toString(), q.columnTypes];
    });
    same((db) => {
      db.run("CREATE TABLE w(x)");
      return db.prepare("INSERT INTO w VALUES (1)").columnTypes;
    });
  });

  it("as(Class) gives rows its prototype without calling it", () => {
    same((db) => {
      class Row {
        name?: string;
        get upper() {
          return this.name?.toUpperCase();
        }
      }
      db.run("CREATE TABLE p(name)");
      db.run("INSERT INTO p VALUES ('ann'), ('bob')");
      const q = db.query("SELECT name FROM p").as(Row);
      return [q.get()!.upper, q.all().map((r) => [r instanceof Row, r.upper]), [...q.iterate()].map((r) => r instanceof Row), Object.keys(q.get()!)];
    });
    same((db) => db.query("SELECT 1").as(5 as any));
  });

  it("query() caches per SQL and replaces a finalized statement; prepare() does not cache", () => {
    same((db) => {
      const a = db.query("SELECT 7 a");
      const cached = a === db.query("SELECT 7 a");
      a.finalize();
      return [cached, db.prepare("SELECT 1") === db.prepare("SELECT 1"), db.query("SELECT 7 a").get(), a.isFinalized];
    });
    const f = new face.Database().query("SELECT 1");
    f.finalize();
    expect(thrown(() => f.get()).code).toBe("HARDENED_STATEMENT_FINALIZED");
  });

  it("safeIntegers reads bigints, and binding past 64 bits is a RangeError", () => {
    same((db) => [db.query("SELECT 9007199254740993 a").safeIntegers(true).get(), db.query("SELECT 1 a").safeIntegers(), db.query("INSERT INTO s VALUES (1)")], {
      safeIntegers: true,
    });
    same((db) => [db.query("SELECT 1 a, 1.5 b").get(), db.query("SELECT ? a").get(-(2n ** 63n)), db.run("SELECT 1")], { safeIntegers: true });
    same((db) => db.query("SELECT ? a").get(2n ** 64n), { safeIntegers: true });
  });

  it("running a statement again invalidates its open iterator; other statements run beside it", () => {
    same((db) => {
      const q = db.query("SELECT 1 a UNION SELECT 2");
      const it = q.iterate();
      it.next();
      const write = db.run("CREATE TABLE beside(x)");
      return [write, q.get(), (() => { try { it.next(); return "resumed" } catch (e: any) { return e.message } })()];
    });
    for (const again of ["all", "values", "run", "iterate"] as const) {
      same((db) => {
        const q = db.query("SELECT 1 a UNION SELECT 2");
        const it = q.iterate();
        const first = it.next().value;
        const rerun = again === "iterate" ? [...q.iterate()] : q[again]();
        return [first, rerun, (() => { try { it.next(); return "resumed" } catch (e: any) { return e.message } })()];
      });
    }
  });
});

describe("database methods, as bun:sqlite", () => {
  it("run() runs several statements and returns { changes, lastInsertRowid }; exec is its alias", () => {
    same((db) => [
      db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, x UNIQUE)"),
      db.run("INSERT INTO t(x) VALUES (?)", [1]),
      db.run("INSERT INTO t(x) VALUES (?)", 2),
      db.run("INSERT INTO t(x) VALUES ($v)", { $v: 3 }),
      db.run("INSERT INTO t(x) VALUES (10); INSERT INTO t(x) VALUES (11)"),
      db.exec("INSERT INTO t(x) VALUES (30)"),
      db.query("INSERT INTO t(x) VALUES (?)").run(40),
    ]);
  });

  it("transactions commit, roll back, nest, and report inTransaction", () => {
    same((db) => {
      db.run("CREATE TABLE t(x)");
      const add = db.transaction((n: number) => {
        db.run("INSERT INTO t VALUES (?)", n);
        if (n < 0) throw new Error("negative");
        return db.inTransaction;
      });
      const outcome = [add(1), add.deferred(2), add.immediate(3), add.exclusive(4), db.transaction(() => add(5))()];
      let rolledBack = "";
      try {
        add(-1);
      } catch (e: any) {
        rolledBack = e.message;
      }
      return [outcome, rolledBack, db.inTransaction, db.query("SELECT x FROM t").values()];
    });
  });

  it("function() and aggregate() register SQL functions", () => {
    same((db) => {
      db.function("twice", (x: number) => x * 2);
      db.function("joined", { varargs: true, deterministic: true }, (...parts: unknown[]) => parts.join("-"));
      db.aggregate("total", { start: 0, step: (sum: number, x: number) => sum + x });
      db.run("CREATE TABLE n(x); INSERT INTO n VALUES (1), (2), (3)");
      return [db.query("SELECT twice(21) a, joined('a', 1, 'b') b").get(), db.query("SELECT total(x) t FROM n").get()];
    });
  });

  it("errors are SQLiteError with code, errno and byteOffset", () => {
    for (const sql of ["SELEC 1", "SELECT * FROM nope", "INSERT INTO u VALUES (1)"]) {
      const errors = [real, face as unknown as typeof real].map((lib) => {
        const db = new lib.Database();
        db.run("CREATE TABLE u(x UNIQUE)");
        db.run("INSERT INTO u VALUES (1)");
        const e = thrown(() => db.run(sql));
        return [e instanceof lib.SQLiteError, e.name, e.code, e.errno, e.message, Object.keys(e).sort()];
      });
      expect(errors[1]).toEqual(errors[0]);
    }
    const e = thrown(() => new face.Database().prepare("SELEC 1"));
    expect([e.byteOffset, e.code, e.errno]).toEqual([0, "SQLITE_ERROR", 1]);
    same((db) => ["SELECT 1;\nSELEC 2", "SELECT 1;   SELECT 2; SELEC", "SELECT * FROM nope"].map((sql) => thrown(() => db.run(sql)).byteOffset));
    same((db) => ["", "-- nothing"].map((sql) => { try { return db.run(sql) } catch (e: any) { return e.message } }));
  });

  it("serialize() and Database.deserialize() round-trip, read-only on request", () => {
    same((db, lib) => {
      db.run("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)");
      const bytes = db.serialize();
      const copy = lib.Database.deserialize(bytes);
      const readonly = lib.Database.deserialize(new Uint8Array(bytes), true);
      let refused = "";
      try {
        readonly.run("INSERT INTO t VALUES (3)");
      } catch (e: any) {
        refused = e.code;
      }
      return [bytes instanceof Uint8Array, copy.query("SELECT count(*) n FROM t").get(), refused];
    });
  });

  it("constants, Database.open with flags, fileControl, close(), using", () => {
    expect(face.constants).toEqual(real.constants);
    const path = tmp.path("flags.db");
    const db = face.Database.open(path, face.constants.SQLITE_OPEN_READWRITE | face.constants.SQLITE_OPEN_CREATE);
    db.run("CREATE TABLE t(x)");
    expect(db.fileControl(face.constants.SQLITE_FCNTL_PERSIST_WAL, 0)).toBe(0);
    db.close();
    db.close();
    expect(new face.Database(path, face.constants.SQLITE_OPEN_READONLY).query("SELECT count(*) n FROM t").get()).toEqual({ n: 0 });
    expect(thrown(() => new face.Database(tmp.path("missing.db"), face.constants.SQLITE_OPEN_READWRITE)).code).toBe("SQLITE_CANTOPEN");
    let outer: face.Database;
    {
      using scoped = new face.Database();
      outer = scoped;
    }
    expect(outer.open).toBe(false);
  });
});

describe("options", () => {
  it("takes bun's options and the hardened ones in one object, each checked", () => {
    const db = new face.Database(tmp.path("opts.db"), { strict: true, create: true, busyTimeout: 1234, foreignKeys: true, safeIntegers: true });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1n });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    db.close();
    expect([thrown(() => new face.Database(":memory:", { strictt: true } as any)).message]).toEqual(['Unknown option "strictt"; did you mean "strict"?']);
    expect(thrown(() => new face.Database(":memory:", { strict: 1 } as any)).code).toBe("HARDENED_INVALID_OPTION");
    expect(thrown(() => new face.Database(":memory:", { readOnly: true } as any)).message).toContain('did you mean "readonly"');
    expect(thrown(() => new face.Database(tmp.path("x.db"), { readonly: true, create: true })).code).toBe("HARDENED_INVALID_OPTION");
    expect(thrown(() => new face.Database(tmp.path("y.db"), { readwrite: true })).code).toBe("SQLITE_CANTOPEN");
    expect(thrown(() => new face.Database(tmp.path("z.db"), { readwrite: false })).code).toBe("SQLITE_CANTOPEN");
  });

  it("applies migrations and health at open, with IMMEDIATE default transactions", () => {
    const path = tmp.path("migrated.db");
    const db = new face.Database(path, { migrations: [{ version: 1, name: "init", sql: "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)" }], healthCheck: true });
    expect(db.migrationStatus()).toEqual({ current: 1, latest: 1, pending: [] });
    expect(db.health().status).toBe("healthy");
    const traced: string[] = [];
    const verbose = new face.Database(tmp.path("verbose.db"), { verbose: (sql: string) => traced.push(sql) });
    verbose.transaction(() => verbose.run("CREATE TABLE v(x)"))();
    expect(traced).toEqual(["BEGIN IMMEDIATE", "CREATE TABLE v(x)", "COMMIT"]);
    db.close();
    verbose.close();
  });

  it("reads back PRAGMA busy_timeout as set, though the fair busy handler replaces SQLite's", () => {
    same((db) => {
      db.run("PRAGMA busy_timeout = 4321");
      return [db.query("PRAGMA busy_timeout").get(), db.query("PRAGMA busy_timeout = 1234").all(), db.prepare("PRAGMA busy_timeout").values()];
    });
  });

  it("refuses pragmas that weaken the hardened settings, keeps harmless ones, and unsafeMode() lifts it", () => {
    const db = new face.Database(tmp.path("pragmas.db"));
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = FULL");
    for (const sql of ["PRAGMA journal_mode = DELETE", "PRAGMA synchronous = OFF"]) {
      const error = thrown(() => db.run(sql));
      expect([error.constructor.name, error.code]).toEqual(["HardenedDbError", "HARDENED_WEAKER_PRAGMA"]);
    }
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    db.unsafeMode(true);
    db.run("PRAGMA synchronous = OFF");
    expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 0 });
    expect(db.health().checks.filter((c: any) => !c.ok).map((c: any) => c.name)).toEqual(["pragma.synchronous"]);
    db.close();
  });
});

describe("under Node", () => {
  it("loads through require and import, and runs the same calls", () => {
    for (const node of [NODE, join(PACKAGE_ROOT, "node_modules", "node", "bin", "node")]) {
      const code = `
        const { Database, SQLiteError } = require('./bun.js');
        const db = new Database(':memory:', { strict: true });
        db.run('CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)');
        db.run('INSERT INTO t(b) VALUES (?)', new Uint8Array([7]));
        const row = db.query('SELECT id, b FROM t WHERE id = $id').get({ id: 1 });
        let e; try { db.run('SELEC') } catch (x) { e = x }
        import('./bun.mjs').then((m) => console.log(JSON.stringify([row.id, row.b.constructor.name, [...row.b], db.query('SELECT 1 WHERE 0').get(), e instanceof SQLiteError, e.errno, m.default === Database])));
      `;
      const out = spawnSync(node, ["-e", code], { cwd: PACKAGE_ROOT, encoding: "utf8", timeout: 60_000 });
      expect(out.stderr).toBe("");
      expect(JSON.parse(out.stdout)).toEqual([1, "Uint8Array", [7], null, true, 1, true]);
    }
  });
});

describe("bun.d.ts", () => {
  it("declares every method and property of Database and Statement", () => {
    const { readFileSync } = require("node:fs");
    const dts: string = readFileSync(join(PACKAGE_ROOT, "bun.d.ts"), "utf8");
    const body = (head: string) => {
      const start = dts.indexOf(head);
      let depth = 0;
      for (let i = dts.indexOf("{", start); i < dts.length; i++) {
        if (dts[i] === "{") depth++;
        else if (dts[i] === "}" && --depth === 0) return dts.slice(start, i + 1);
      }
      throw new Error(`unbalanced ${head}`);
    };
    const declares = (text: string, name: string) => new RegExp(`^\\s+(readonly |static |static readonly )?${name}[(<?:]`, "m").test(text);
    for (const [cls, head] of [[face.Database, "export declare class Database "], [face.Statement, "export declare class Statement<"]] as const) {
      const text = body(head);
      const members = [...Object.getOwnPropertyNames(cls.prototype), ...Object.getOwnPropertyNames(cls).filter((m) => !["length", "name", "prototype"].includes(m))].filter((m) => m !== "constructor");
      expect(members.length).toBeGreaterThan(10);
      expect(members.filter((m) => !declares(text, m))).toEqual([]);
    }
  });
});
