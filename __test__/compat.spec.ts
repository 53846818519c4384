// better-sqlite3's shape and semantics (issue #10): the module is the constructor,
// SqliteError, anonymous databases, the nativeBinding option (verbose: verbose.spec.ts), numbers
// bound as REAL, lastInsertRowid under safeIntegers, stmt.database. Where it can,
// a scenario runs under Node against both better-sqlite3 12 (the oracle) and this
// package, and the two outcomes must be equal.
import { describe, it, expect, afterEach } from "bun:test";
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tempDir, thrown, runScript, oracle, PACKAGE_ROOT, NODE } from "./helpers";

const Database = require("../index.js");
const { HardenedDb, SqliteError, HardenedDbError, Statement, sqliteVersion } = Database;

const tmp = tempDir("compat");
afterEach(() => tmp.cleanup());

describe("the module", () => {
  it("should be the constructor, callable with or without new, with every export as a property", () => {
    expect(typeof Database).toBe("function");
    expect(HardenedDb).toBe(Database);
    expect(Database.default).toBe(Database);
    expect(typeof SqliteError).toBe("function");
    expect(typeof HardenedDbError).toBe("function");
    expect(typeof Statement).toBe("function");
    expect(typeof sqliteVersion()).toBe("string");
    const called = Database(tmp.path("a.db"));
    const built = new HardenedDb(tmp.path("b.db"));
    for (const db of [called, built]) {
      expect(db).toBeInstanceOf(Database);
      expect(db.constructor).toBe(Database);
      expect(Object.getPrototypeOf(db)).toBe(Database.prototype);
      expect(db.close).toBe(Database.prototype.close);
      db.close();
    }
  });

  it("should be subclassable, keeping the private state of the base class", () => {
    class MyDatabase extends Database {
      foo() {
        return 999;
      }
    }
    const db = new MyDatabase(tmp.path("sub.db"));
    expect(db).toBeInstanceOf(MyDatabase);
    expect(db).toBeInstanceOf(Database);
    expect(db.constructor).toBe(MyDatabase);
    expect(db.foo()).toBe(999);
    expect(Database.prototype.foo).toBeUndefined();
    expect(db.prepare("SELECT 1 AS x").get()).toEqual({ x: 1 });
    db.close();
    expect(db.open).toBe(false);
  });

  it("should give every connection one hidden class in V8, and a subclass's connections theirs", () => {
    // A constructor that builds each connection for a new.target of its own made V8 rebuild the
    // hidden class at every open: 1.8 µs more per open, and every method that read a private
    // field met a new shape (docs/performance.md, "open + harden + close").
    const code = `
      const Database = require('./index.js');
      class Sub extends Database { constructor(path) { super(path); this.extra = 1 } }
      const pair = (make) => { const a = make(), b = make(); const same = %HaveSameMap(a, b); a.close(); b.close(); return same };
      const out = [pair(() => new Database(':memory:')), pair(() => Database(':memory:')),
        pair(() => new Sub(':memory:')), Database.length, Database.name];
      const a = new Database(':memory:'), b = Database(':memory:');
      out.push(%HaveSameMap(a, b));
      console.log(JSON.stringify(out));`;
    const { status, stdout, stderr } = spawnSync(NODE, ["--allow-natives-syntax", "-e", code], {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual([true, true, true, 2, "HardenedDb", true]);
  });

  it("should give import the same function as default export, with the named exports", () => {
    const code = `import('hardened-sqlite').then((m) => {
      const cjs = require('hardened-sqlite');
      console.log(JSON.stringify([m.default === cjs, m.HardenedDb === cjs, m.SqliteError === cjs.SqliteError,
        typeof m.default('').prepare, Object.keys(m).sort()]));
    })`;
    for (const runtime of ["bun", "node"] as const) {
      const { status, stdout, stderr } = runScript(code, runtime);
      expect(stderr).toBe("");
      expect(status).toBe(0);
      expect(JSON.parse(stdout)).toEqual([true, true, true, "function",
        ["AsyncHardenedDb", "HardenedDb", "HardenedDbError", "SqliteError", "Statement", "default", "openAsync", "sqliteVersion"]]);
    }
  });
});

describe("SqliteError", () => {
  it("should behave as better-sqlite3's: callable, message as a string, code required, stack captured", () => {
    const scenario = `
      const { SqliteError } = Database;
      const e = SqliteError(123, 'baz');
      const f = new SqliteError('foo', 'SQLITE_ERROR');
      const missing = (() => { try { SqliteError('foo') } catch (x) { return x.constructor.name } })();
      const numeric = (() => { try { new SqliteError('foo', 123) } catch (x) { return x.constructor.name } })();
      return [e instanceof Error, e instanceof SqliteError, e.message, e.code, e.name, typeof e.stack,
        String(f), Object.keys(f), SqliteError.prototype.name, Object.getPrototypeOf(SqliteError) === Error, missing, numeric];`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
    expect((ours as unknown[])[2]).toBe("123");
  });

  it("should be the class of the errors SQLite reports, with a stack naming the caller", () => {
    const db = new Database("");
    const error = thrown(() => db.exec("SELEC 1"));
    expect(error).toBeInstanceOf(SqliteError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("SqliteError");
    expect(error.code).toBe("SQLITE_ERROR");
    expect(error.stack).toContain("SqliteError");
    db.close();
    expect(thrown(() => SqliteError("x", 1 as never)).code).toBe("HARDENED_INVALID_ARGUMENT");
  });
});

describe("anonymous databases", () => {
  it("should open a private temporary database for '', null and no path, as better-sqlite3 does", () => {
    const scenario = `
      return [[''], [], [null], [undefined], [':memory:']].map((args) => {
        const db = new Database(...args);
        db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
        const out = [db.name, db.memory, db.readonly, db.open, db.inTransaction, db.prepare('SELECT count(*) AS n FROM t').get()];
        db.close();
        return out;
      });`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
    expect((ours as unknown[][])[0].slice(0, 2)).toEqual(["", true]);
  });

  it("should create no file where the process runs, and keep each temporary database private", () => {
    const before = readdirSync(PACKAGE_ROOT).sort();
    const a = new Database("");
    const b = new Database();
    a.exec("CREATE TABLE t (x)");
    expect(b.prepare("SELECT count(*) AS n FROM sqlite_master").get()).toEqual({ n: 0 });
    // More than the page cache holds, so that SQLite spills it to its temporary file.
    a.prepare("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000) INSERT INTO t SELECT randomblob(4096) FROM n").run();
    expect(a.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 8000 });
    expect(a.pragma("journal_mode", { simple: true })).not.toBe("wal");
    a.close();
    b.close();
    expect(readdirSync(PACKAGE_ROOT).sort()).toEqual(before);
  });

  it("should refuse readonly for ':memory:' and '' with a TypeError, as better-sqlite3 does", () => {
    for (const path of [":memory:", ""]) {
      const error = thrown(() => new Database(path, { readonly: true }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_OPTION");
      expect(error.message).toContain("cannot be readonly");
    }
    const { bs3 } = oracle(`return [':memory:', ''].map((p) => { try { new Database(p, { readonly: true }); return 'opened' } catch (e) { return e.constructor.name } });`);
    expect(bs3).toEqual(["TypeError", "TypeError"]);
  });
});

describe("options of better-sqlite3", () => {
  it("should refuse readonly, fileMustExist and timeout given as undefined, and timeouts that are not whole numbers, as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`
      const out = {};
      const cases = { readonly: undefined, fileMustExist: undefined, timeout: undefined };
      for (const [key, value] of Object.entries(cases)) {
        try { new Database('', { [key]: value }).close(); out[key] = 'opened' } catch (e) { out[key] = e.constructor.name }
      }
      for (const timeout of [null, NaN, '75', -1, 75.01, 0x80000000, 0, 2000]) {
        try { new Database('', { timeout }).close(); out[String(timeout)] = 'opened' } catch (e) { out[String(timeout)] = e.constructor.name }
      }
      return out;
    `);
    expect(bs3).toMatchObject({ readonly: "TypeError", "75.01": "TypeError", "2147483648": "RangeError", "2000": "opened" });
    expect(ours).toEqual(bs3);
  });

  it("should refuse pragma(source, { simple: undefined }) with a TypeError, as better-sqlite3 does", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      const out = {};
      for (const options of [{ simple: undefined }, { simple: true }, {}]) {
        try { out[JSON.stringify(Object.entries(options))] = db.pragma('user_version', options) } catch (e) { out[JSON.stringify(Object.entries(options))] = e.constructor.name }
      }
      return out;
    `);
    expect(bs3['[["simple",null]]']).toBe("TypeError");
    expect(ours).toEqual(bs3);
  });

  it("should set cache_size to better-sqlite3's build default, -16000, for files, ':memory:' and temporary databases", () => {
    const own = tempDir("cache-size");
    const { bs3, ours } = oracle(`
      return [${JSON.stringify(own.path("a.db"))}, ':memory:', ''].map((path, i) => {
        const db = new Database(i === 0 ? path + '.' + (Database.HardenedDb ? 'ours' : 'bs3') : path);
        const out = [db.pragma('cache_size', { simple: true }), db.pragma('cache_size')];
        db.close();
        return out;
      });`);
    own.cleanup();
    expect(bs3).toEqual([[-16000, [{ cache_size: -16000 }]], [-16000, [{ cache_size: -16000 }]], [-16000, [{ cache_size: -16000 }]]]);
    expect(ours).toEqual(bs3);
    const db = new Database("", { cacheSize: -500 });
    expect(db.pragma("cache_size", { simple: true })).toBe(-500);
    db.close();
  });

  it("should fail a missing file with readonly or fileMustExist as SqliteError SQLITE_CANTOPEN, as better-sqlite3 does, keeping hardenedCode", () => {
    const own = tempDir("cantopen");
    const missing = own.path("missing.db");
    const { bs3, ours } = oracle(`
      const out = [];
      for (const options of [{ readonly: true }, { fileMustExist: true }]) {
        try { new Database(${JSON.stringify(missing)}, options).close(); out.push('opened') }
        catch (e) { out.push([e instanceof Database.SqliteError, e.code, e.hardenedCode ?? null]) }
      }
      return { out, created: require('fs').existsSync(${JSON.stringify(missing)}) };
    `);
    expect(bs3).toEqual({ out: [[true, "SQLITE_CANTOPEN", null], [true, "SQLITE_CANTOPEN", null]], created: false });
    expect(ours).toEqual({ out: [[true, "SQLITE_CANTOPEN", "HARDENED_FILE_NOT_FOUND"], [true, "SQLITE_CANTOPEN", "HARDENED_FILE_NOT_FOUND"]], created: false });
    own.cleanup();
  });

  it("should accept and ignore nativeBinding (a string or an object), and refuse other types", () => {
    for (const nativeBinding of ["build/Release/better_sqlite3.node", {}, null, undefined]) {
      const db = new Database("", { nativeBinding });
      expect(db.prepare("SELECT 1 AS x").get()).toEqual({ x: 1 });
      db.close();
    }
    for (const nativeBinding of [1, true, () => {}]) {
      const error = thrown(() => new Database("", { nativeBinding } as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_OPTION");
    }
  });
});

describe("values and results", () => {
  it("should bind every number as REAL and every bigint as INTEGER, as better-sqlite3 does", () => {
    const scenario = `
      const db = new Database('');
      db.exec('CREATE TABLE t (i INTEGER, r REAL, n NUMERIC, a)');
      const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
      for (const v of [1, 2.5, -0, 2 ** 52, 1e300, BigInt(7)]) insert.run(v, v, v, v);
      return [
        db.prepare('SELECT ? / ? AS q, typeof(?) AS t, typeof(?) AS b').get(5, 2, 1, BigInt(1)),
        db.prepare('SELECT typeof(i), typeof(r), typeof(n), typeof(a), i, r, n, a FROM t').raw().all(),
        db.prepare('SELECT * FROM t LIMIT ?').all(1).length,
        db.prepare('SELECT ? = 1 AS eq').get(1),
      ];`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
    expect((ours as any[])[0]).toEqual({ q: 2.5, t: "real", b: "integer" });
  });

  it("should report lastInsertRowid as a bigint under safeIntegers, and changes as a number", () => {
    const scenario = `
      const db = new Database('');
      db.exec('CREATE TABLE t (x)');
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      const out = [insert.run(1), insert.safeIntegers().run(2), insert.run(3), insert.safeIntegers(false).run(4)];
      db.defaultSafeIntegers();
      out.push(db.prepare('INSERT INTO t VALUES (5)').run());
      return out.map((r) => [r.changes, typeof r.changes, r.lastInsertRowid, typeof r.lastInsertRowid]);`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
  });

  it("should give each statement its database as stmt.database", () => {
    const db = new Database(tmp.path("owner.db"));
    expect(db.prepare("SELECT 1").database).toBe(db);
    db.exec("CREATE TABLE notes (tenant_id TEXT, body TEXT)");
    const tenant = db.forTenant("acme");
    expect(tenant.prepare("SELECT body FROM notes").database).toBe(tenant);
    tenant.close();
    db.close();
  });
});

describe("a closed database", () => {
  it("should throw better-sqlite3's TypeError from exec, prepare, transaction, pragma and old statements", () => {
    const scenario = `
      const db = new Database('');
      const stmt = db.prepare('SELECT 1');
      db.close();
      return [() => db.exec('SELECT 1'), () => db.prepare('SELECT 1'), () => db.transaction(() => {}),
        () => db.pragma('cache_size'), () => stmt.get(), () => stmt.all(), () => stmt.bind()].map((f) => {
        try { f(); return 'no throw' } catch (e) { return e.constructor.name + ': ' + e.message }
      });`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
    expect((ours as string[])[2]).toBe("TypeError: The database connection is not open");
  });
});

describe("objects better-sqlite3 code inspects", () => {
  it("should refuse new Statement() outside prepare(), and give each transaction variant its database", () => {
    const scenario = `
      const db = new Database('');
      const stmt = db.prepare('SELECT 1');
      const refused = (() => { try { new stmt.constructor('SELECT 1'); return 'constructed' } catch (e) { return e.constructor.name } })();
      const trx = db.transaction(() => 1);
      const keys = ['default', 'deferred', 'immediate', 'exclusive'];
      return [stmt.constructor.name, refused, keys.map((k) => trx[k].database === db && keys.every((j) => trx[k][j] === trx[j]))];`;
    const { bs3, ours } = oracle(scenario);
    expect(ours).toEqual(bs3);
    expect(ours).toEqual(["Statement", "TypeError", [true, true, true, true]]);
  });
});
