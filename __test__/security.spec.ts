// What a connection refuses or bounds so that SQL (and a database file from
// elsewhere) cannot do more than it says: encryption pragmas that would do
// nothing, schema code calling unsafe functions, URI file names in ATTACH,
// SQLite's run-time limits and the statement timeout. docs/security.md cites
// each test here.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { HardenedDb, HardenedDbError, SqliteError } from "../index.js";
import { tempDir, thrown, runScript, PACKAGE_ROOT } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-sec")));
afterEach(() => tmp.cleanup());

function expectNoEncryption(error: any) {
  expect(error).toBeInstanceOf(HardenedDbError);
  expect(error.code).toBe("HARDENED_NO_ENCRYPTION");
  expect(error.message).toContain("no encryption at rest");
  expect(error.message).toContain("encrypt the disk or volume");
  expect(error.message).toContain("SQLCipher");
}

describe("encryption pragmas", () => {
  const KEY_PRAGMAS = ["key", "rekey", "hexkey", "hexrekey", "textkey", "textrekey"];
  const forms = (name: string) => [
    `${name} = 'secret'`, `${name.toUpperCase()}='secret'`, `main.${name} = 'secret'`, `${name}('secret')`, name,
  ];

  it("should refuse PRAGMA key and friends through prepare, exec and pragma(), in every form", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES ('plaintext')");
    for (const name of KEY_PRAGMAS) {
      for (const form of forms(name)) {
        expectNoEncryption(thrown(() => db.prepare(`PRAGMA ${form}`)));
        expectNoEncryption(thrown(() => db.exec(`PRAGMA ${form}`)));
        expectNoEncryption(thrown(() => db.pragma(form)));
        expectNoEncryption(thrown(() => db.pragma(form, { simple: true })));
      }
    }
    // Refused inside a script too: nothing after it runs.
    expectNoEncryption(thrown(() => db.exec("INSERT INTO t VALUES (1); PRAGMA key = 'x'; INSERT INTO t VALUES (2)")));
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(2);
    // Other unknown pragmas stay no-ops, as in SQLite (SQLCipher's probe reads nothing).
    expect(db.pragma("cipher_version")).toEqual([]);
    expect(db.pragma("keys = 1")).toEqual([]);
    db.close();
  });

  it("should refuse them on readonly connections and in migrations", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).close();
    const reader = new HardenedDb(path, { readonly: true });
    expectNoEncryption(thrown(() => reader.pragma("key = 'x'")));
    reader.close();
    const error = thrown(() => new HardenedDb(path, { migrations: [{ version: 1, name: "key", sql: "PRAGMA key = 'x';" }] }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_FAILED");
    expect(error.message).toContain("no encryption at rest");
  });

  it("should refuse file: URLs asking for a key or cipher, and keep refusing other parameters", () => {
    for (const param of ["key=secret", "hexkey=00ff", "cipher=aes256", "mode=rwc&KEY=x", "textkey=x"]) {
      const path = `file:${tmp.path("app.db")}?${param}`;
      expectNoEncryption(thrown(() => new HardenedDb(path)));
    }
    const other = thrown(() => new HardenedDb(`file:${tmp.path("app.db")}?mode=ro`));
    expect(other).toBeInstanceOf(TypeError);
    expect(other.code).toBe("HARDENED_INVALID_PATH");
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});

describe("trusted_schema", () => {
  it("should be off, so views and triggers cannot use functions and tables that are not innocuous", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    expect(db.pragma("trusted_schema", { simple: true })).toBe(0);
    // What a downloaded database could carry: a view and a trigger reading the
    // connection's files (a table-valued pragma is not SQLITE_VTAB_INNOCUOUS).
    db.exec(`
      CREATE TABLE t(x);
      CREATE TABLE seen(file);
      CREATE VIEW files AS SELECT file FROM pragma_database_list;
      CREATE TRIGGER spy AFTER INSERT ON t BEGIN INSERT INTO seen SELECT file FROM pragma_database_list; END;
    `);
    for (const run of [() => db.prepare("SELECT * FROM files").all(), () => db.prepare("INSERT INTO t VALUES (1)").run()]) {
      const error = thrown(run);
      expect(error).toBeInstanceOf(SqliteError);
      expect(error.code).toBe("SQLITE_ERROR");
      expect(error.message).toContain('unsafe use of virtual table "pragma_database_list"');
    }
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(0);
    // Used directly by the application, the same table is fine.
    expect(db.prepare("SELECT file FROM pragma_database_list").pluck().get()).toBe(tmp.path("app.db"));
    // The control: it is trusted_schema that refused them (turning it on needs unsafeMode()).
    db.unsafeMode();
    db.pragma("trusted_schema = ON");
    expect(db.prepare("SELECT * FROM files").all()).toHaveLength(1);
    db.close();
  });

  it("should be reported by health() when SQL turned it back on", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    expect(db.health().status).toBe("healthy");
    db.unsafeMode();
    db.pragma("trusted_schema = ON");
    db.unsafeMode(false);
    const report = db.health();
    expect(report.status).not.toBe("healthy");
    expect(JSON.stringify(report.checks)).toContain("trusted_schema");
    db.close();
  });
});

describe("ATTACH", () => {
  const LITERAL = ["file:m?mode=memory", "file:x.db?mode=ro"];

  /**
   * Attaches two `file:` URIs on a connection to `opened` in `runtime`, with the
   * temp dir as cwd, where files of those literal names already exist (empty: a
   * connection to a file has no SQLITE_OPEN_CREATE, so ATTACH never creates one).
   * Returns the files of the dir and their sizes.
   */
  function attachIn(runtime: "bun" | "node", opened: string, library = "hardened") {
    for (const name of LITERAL) writeFileSync(tmp.path(name), "");
    const open = library === "hardened"
      ? `new (require(${JSON.stringify(PACKAGE_ROOT)}).HardenedDb)(${JSON.stringify(opened)})`
      : `new (require(${JSON.stringify(PACKAGE_ROOT + "/node_modules/better-sqlite3")}))(${JSON.stringify(opened)})`;
    const result = runScript(
      `const db = ${open}; process.chdir(${JSON.stringify(tmp.dir)});
       db.exec("ATTACH 'file:x.db?mode=ro' AS a; CREATE TABLE a.t(x); INSERT INTO a.t VALUES (1)");
       db.exec("ATTACH 'file:m?mode=memory' AS m; CREATE TABLE m.t(x)");
       console.log(JSON.stringify(db.prepare('SELECT x FROM a.t').all())); db.close()`,
      runtime,
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('[{"x":1}]');
    const files = readdirSync(tmp.dir).filter((f) => !f.startsWith("app.db")).sort();
    return Object.fromEntries(files.map((f) => [f, statSync(tmp.path(f)).size > 0]));
  }

  // ?mode=ro did not make it read-only, ?mode=memory did not keep it in memory:
  // both tables were written to the files of the literal names.
  const PLAIN = { "file:m?mode=memory": true, "file:x.db?mode=ro": true };

  for (const runtime of ["bun", "node"] as const) {
    it(`should take a file: URI as a plain, writable file name (${runtime}, file and :memory:)`, () => {
      for (const opened of [tmp.path("app.db"), ":memory:"]) {
        expect(attachIn(runtime, opened)).toEqual(PLAIN);
        tmp.cleanup();
        tmp = tempDir("hs-sec");
      }
    });
  }

  it("should behave as better-sqlite3 does", () => {
    expect(attachIn("node", ":memory:", "better-sqlite3")).toEqual(PLAIN);
  });
});

describe("limits", () => {
  it("should make a string or BLOB longer than length fail with SQLITE_TOOBIG", () => {
    const db = new HardenedDb(":memory:", { limits: { length: 1000 } });
    db.exec("CREATE TABLE t(x)");
    for (const run of [
      () => db.prepare("INSERT INTO t VALUES (?)").run("x".repeat(1001)),
      () => db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(1001)),
      () => db.prepare("SELECT randomblob(1001)").get(),
    ]) {
      const error = thrown(run);
      expect(error).toBeInstanceOf(SqliteError);
      expect(error.code).toBe("SQLITE_TOOBIG");
    }
    // The limit bounds the whole row (its record header too).
    db.prepare("INSERT INTO t VALUES (?)").run("x".repeat(990));
    expect(db.prepare("SELECT length(x) FROM t").pluck().get()).toBe(990);
    db.close();
  });

  it("should refuse SQL longer than sqlLength and any ATTACH with attached: 0", () => {
    const db = new HardenedDb(tmp.path("app.db"), { limits: { sqlLength: 100, attached: 0 } });
    const long = `SELECT 1 ${" ".repeat(100)}`;
    for (const run of [() => db.prepare(long), () => db.exec(long)]) {
      const error = thrown(run);
      expect(error).toBeInstanceOf(SqliteError);
      expect(error.code).toBe("SQLITE_TOOBIG");
    }
    const attach = thrown(() => db.exec(`ATTACH ':memory:' AS other`));
    expect(attach).toBeInstanceOf(SqliteError);
    expect(attach.code).toBe("SQLITE_ERROR");
    expect(attach.message).toContain("too many attached databases - max 0");
    expect(db.prepare("SELECT 1").pluck().get()).toBe(1);
    db.close();
    // Without the option: SQLite's own limits.
    const plain = new HardenedDb(":memory:");
    plain.exec(`ATTACH ':memory:' AS other; ${long}`);
    plain.close();
  });

  it("should apply each limit (read back at open) and throw instead of clamping", () => {
    const db = new HardenedDb(":memory:", { limits: { column: 2, compoundSelect: 2, functionArg: 2, variableNumber: 2, exprDepth: 5 } });
    expect(thrown(() => db.exec("CREATE TABLE t(a, b, c)")).message).toContain("too many columns");
    expect(thrown(() => db.prepare("SELECT 1 UNION SELECT 2 UNION SELECT 3")).message).toContain("too many terms in compound SELECT");
    expect(thrown(() => db.prepare("SELECT max(1, 2, 3)")).message).toContain("too many arguments");
    expect(thrown(() => db.prepare("SELECT ?3")).message).toContain("variable number must be between ?1 and ?2");
    expect(thrown(() => db.prepare("SELECT 1 + (1 + (1 + (1 + (1 + (1 + 1)))))")).message).toContain("Expression tree is too large (maximum depth 5)");
    db.close();
    for (const [limits, bound] of [
      [{ attached: 11 }, '"limits.attached" must be at most 10'],
      [{ workerThreads: 9 }, '"limits.workerThreads" must be at most 8'],
      [{ length: 2_000_000_000 }, '"limits.length" must be at most 1000000000'],
      [{ length: 5 }, '"limits.length" must be at least 30'],
    ] as const) {
      const error = thrown(() => new HardenedDb(tmp.path("app.db"), { limits }));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.code).toBe("HARDENED_INVALID_OPTION");
      expect(error.message).toContain(bound);
      expect(error.message).toContain("would silently use");
    }
  });

  it("should reject unknown keys with the nearest one, wrong types and values out of range", () => {
    const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
      [{ lenght: 5 }, TypeError, 'Unknown option "limits.lenght"; did you mean "limits.length"?'],
      [{ sql_length: 5 }, TypeError, 'did you mean "limits.sqlLength"?'],
      [{ nothingLikeIt: 5 }, TypeError, "valid limits are length, sqlLength,"],
      [{ length: "5" }, TypeError, 'Option "limits.length" must be a number, got string'],
      [5, TypeError, 'Option "limits" must be an object, got number'],
      [null, TypeError, 'Option "limits" must be an object, got null'],
      [[1], TypeError, 'Option "limits" must be an object'],
      [{ attached: -1 }, RangeError, 'Option "limits.attached" must be a whole number from 0 to 2147483647, got -1'],
      [{ vdbeOp: 1.5 }, RangeError, '"limits.vdbeOp" must be a whole number'],
      [{ length: Infinity }, RangeError, '"limits.length" must be a whole number'],
    ];
    for (const [limits, type, message] of cases) {
      const error = thrown(() => new HardenedDb(":memory:", { limits } as any));
      expect(error).toBeInstanceOf(type);
      expect(error.code).toBe("HARDENED_INVALID_OPTION");
      expect(error.message).toContain(message);
    }
  });
});

describe("statementTimeout", () => {
  const RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

  function expectTimeout(error: any, ms = 50) {
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_STATEMENT_TIMEOUT");
    expect(error.message).toContain(`ran longer than statementTimeout (${ms} ms) and was interrupted`);
    expect(error.cause).toBeInstanceOf(SqliteError);
    expect(error.cause.code).toBe("SQLITE_INTERRUPT");
  }

  it("should stop a runaway query in get, all, iterate, run and exec, and leave the connection usable", () => {
    const db = new HardenedDb(tmp.path("app.db"), { statementTimeout: 50 });
    db.exec("CREATE TABLE t(x)");
    const stmt = db.prepare(RUNAWAY);
    for (const run of [
      () => stmt.get(),
      () => stmt.all(),
      () => stmt.pluck().get(),
      () => [...stmt.iterate()],
      () => db.prepare(`INSERT INTO t ${RUNAWAY}`).run(),
      () => db.exec(`CREATE TABLE u(x); ${RUNAWAY}; CREATE TABLE never(x)`),
    ]) {
      expectTimeout(thrown(run));
      expect(db.prepare("SELECT 1").pluck().get()).toBe(1);
    }
    expect(stmt.busy).toBe(false);
    // exec ran its first statement, then stopped at the runaway one.
    expect(db.prepare("SELECT group_concat(name) FROM sqlite_schema").pluck().get()).toBe("t,u");
    expect(thrown(() => db.prepare(RUNAWAY).get()).message).toContain('"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"');
    db.close();
  });

  it("should give each call its own deadline: calls and iterate batches that each finish in time run on", () => {
    const db = new HardenedDb(":memory:", { statementTimeout: 50 });
    const bounded = db.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) SELECT x FROM c");
    let seen = 0;
    for (let i = 0; i < 200; i++) seen += bounded.all().length;
    expect(seen).toBe(200_000);
    // An endless iteration is JS's to stop: each batch of at most 64 rows is one call.
    const endless = db.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c");
    let last = 0;
    for (const row of endless.iterate() as Iterable<{ x: number }>) if ((last = row.x) === 100_000) break;
    expect(last).toBe(100_000);
    db.close();
  });

  it("should stop a runaway pragma", () => {
    // integrity_check of 500,000 rows and 3 indexes: far beyond 1 ms on any machine.
    const db = new HardenedDb(tmp.path("app.db"), { statementTimeout: 1 });
    db.exec(`CREATE TABLE big(a, b, c); CREATE INDEX big_a ON big(a); CREATE INDEX big_b ON big(b); CREATE INDEX big_c ON big(c);`);
    const fill = new HardenedDb(tmp.path("app.db")); // no timeout for the setup
    fill.exec(`INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 500000)
               SELECT x, -x, printf('%08d', x) FROM c`);
    fill.close();
    expectTimeout(thrown(() => db.pragma("integrity_check")), 1);
    expectTimeout(thrown(() => db.pragma("integrity_check", { simple: true })), 1);
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.close();
  });

  it("should keep a transaction when a read is interrupted, and lose it when a write is", () => {
    const db = new HardenedDb(tmp.path("app.db"), { statementTimeout: 50 });
    db.exec("CREATE TABLE t(x)");
    // A read: SQLite undoes nothing; the transaction goes on and commits.
    db.exec("BEGIN; INSERT INTO t VALUES (1)");
    expectTimeout(thrown(() => db.prepare(RUNAWAY).get()));
    expect(db.inTransaction).toBe(true);
    db.exec("COMMIT");
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(1);
    // A write: SQLite rolls the whole transaction back.
    db.exec("BEGIN; INSERT INTO t VALUES (2)");
    expectTimeout(thrown(() => db.prepare(`INSERT INTO t ${RUNAWAY}`).run()));
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT group_concat(x) FROM t").pluck().get()).toBe("1");
    // db.transaction() rethrows the timeout and does not trip over the rolled-back transaction.
    const write = db.transaction(() => {
      db.prepare("INSERT INTO t VALUES (3)").run();
      db.prepare(`INSERT INTO t ${RUNAWAY}`).run();
    });
    expectTimeout(thrown(() => write()));
    expect(db.inTransaction).toBe(false);
    const read = db.transaction(() => {
      db.prepare("INSERT INTO t VALUES (4)").run();
      expectTimeout(thrown(() => db.prepare(RUNAWAY).get()));
    });
    read();
    expect(db.prepare("SELECT group_concat(x) FROM t").pluck().get()).toBe("1,4");
    db.close();
  });

  it("should leave connections without the option alone, and validate it", () => {
    const db = new HardenedDb(":memory:");
    expect(db.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000) SELECT count(*) FROM c").pluck().get()).toBe(3_000_000);
    db.close();
    for (const [value, type, message] of [
      [-1, RangeError, 'Option "statementTimeout" must be a whole number from 0 to 2147483647, got -1'],
      [2.5, RangeError, '"statementTimeout" must be a whole number'],
      [2 ** 31, RangeError, '"statementTimeout" must be a whole number'],
      ["50", TypeError, 'Option "statementTimeout" must be a number, got string'],
    ] as const) {
      const error = thrown(() => new HardenedDb(":memory:", { statementTimeout: value as any }));
      expect(error).toBeInstanceOf(type);
      expect(error.code).toBe("HARDENED_INVALID_OPTION");
      expect(error.message).toContain(message);
    }
  });
});
