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
    // The control: it is trusted_schema that refused them.
    db.pragma("trusted_schema = ON");
    expect(db.prepare("SELECT * FROM files").all()).toHaveLength(1);
    db.close();
  });

  it("should be reported by health() when SQL turned it back on", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    expect(db.health().status).toBe("healthy");
    db.pragma("trusted_schema = ON");
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
