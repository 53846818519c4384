// The migration runner: the `migrations` option, db.migrate() and
// db.migrationStatus(), the ledger, failures that roll back, foreign-key-off
// table rebuilds, readonly connections and 8 processes migrating at once.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { writeFileSync, readFileSync, mkdirSync, cpSync, unlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { HardenedDb, HardenedDbError, SqliteError } from "../index.js";
import { tempDir, exists, PACKAGE_ROOT, BUN, NODE, thrown } from "./helpers";

const EXAMPLE = join(PACKAGE_ROOT, "migrations");
const EXAMPLE_FILES = ["001_init.sql", "002_add_visits.sql", "003_users_email_nocase.sql"];

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-migrations")));
afterEach(() => tmp.cleanup());

/** A migrations directory in the temp dir holding `files` (name → SQL). */
function migrationsDir(files: Record<string, string>, name = "migrations"): string {
  const dir = tmp.path(name);
  mkdirSync(dir, { recursive: true });
  for (const [file, sql] of Object.entries(files)) writeFileSync(join(dir, file), sql);
  return dir;
}

/** A copy of the project's example migrations/ that a test may change. */
function exampleCopy(): string {
  const dir = tmp.path("migrations");
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function ledger(db: HardenedDb) {
  return db.prepare("SELECT version, name, sha256, applied_at FROM _hardened_migrations ORDER BY version").all() as {
    version: number; name: string; sha256: string; applied_at: string;
  }[];
}

/** Everything a failed migration must leave as it was. */
function snapshot(path: string) {
  const db = new HardenedDb(path);
  const state = {
    schema: db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all(),
    userVersion: db.pragma("user_version", { simple: true }),
    ledger: ledger(db),
    rows: db.prepare("SELECT * FROM t ORDER BY x").all(),
  };
  db.close();
  return state;
}


describe("migrations option", () => {
  it("should apply every migration of a fresh directory and record each in the ledger", () => {
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { migrations: EXAMPLE });
    expect(db.pragma("user_version", { simple: true })).toBe(3);
    const rows = ledger(db);
    expect(rows.map((r) => [r.version, r.name])).toEqual([[1, "init"], [2, "add_visits"], [3, "users_email_nocase"]]);
    expect(rows.map((r) => r.sha256)).toEqual(EXAMPLE_FILES.map((f) => sha256(readFileSync(join(EXAMPLE, f), "utf8"))));
    for (const r of rows) expect(r.applied_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(["_hardened_migrations", "notes", "users", "visits"]);
    db.close();

    const again = new HardenedDb(path, { migrations: EXAMPLE });
    expect(again.migrate()).toEqual({ from: 3, to: 3, applied: [] });
    expect(again.migrationStatus()).toEqual({ current: 3, latest: 3, pending: [] });
    expect(ledger(again)).toEqual(rows);
    again.close();
  });

  it("should apply only a newly added file on the next open", () => {
    const dir = exampleCopy();
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: dir }).close();
    writeFileSync(join(dir, "4_add_note_pinned.sql"), "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n");
    const db = new HardenedDb(path);
    expect(db.migrationStatus(dir)).toEqual({ current: 3, latest: 4, pending: [{ version: 4, name: "add_note_pinned" }] });
    const report = db.migrate(dir);
    expect(report.from).toBe(3);
    expect(report.to).toBe(4);
    expect(report.applied.map((a) => [a.version, a.name])).toEqual([[4, "add_note_pinned"]]);
    expect(typeof report.applied[0].ms).toBe("number");
    expect(report.applied[0].ms).toBeGreaterThanOrEqual(0);
    expect(db.prepare("SELECT name FROM pragma_table_info('notes') WHERE name = 'pinned'").pluck().get()).toBe("pinned");
    db.close();
  });

  it("should order files numerically, ignore non-.sql files and accept an empty file", () => {
    const dir = migrationsDir({
      "10_ten.sql": "INSERT INTO t VALUES (10);",
      "9_nine.sql": "",
      "1_one.sql": "CREATE TABLE t(x);",
      "README.md": "not a migration",
      "notes.txt": "SELECT nonsense",
    });
    const db = new HardenedDb(":memory:", { migrations: dir });
    expect(db.migrationStatus()).toEqual({ current: 10, latest: 10, pending: [] });
    expect(ledger(db).map((r) => r.version)).toEqual([1, 9, 10]);
    expect(db.prepare("SELECT x FROM t").pluck().all()).toEqual([10]);
    db.close();
  });

  it("should take migrations as an array of { version, name, sql }", () => {
    const migrations = [
      { version: 2, name: "seed", sql: "INSERT INTO t VALUES ('a;b');" },
      { version: 1, name: "init", sql: "CREATE TABLE t(x TEXT);" },
    ];
    const db = new HardenedDb(":memory:", { migrations });
    expect(db.prepare("SELECT x FROM t").pluck().all()).toEqual(["a;b"]);
    expect(ledger(db).map((r) => [r.version, r.name, r.sha256])).toEqual([
      [1, "init", sha256("CREATE TABLE t(x TEXT);")],
      [2, "seed", sha256("INSERT INTO t VALUES ('a;b');")],
    ]);
    db.close();
  });

  it("should run multi-statement SQL with triggers and comments", () => {
    const sql = [
      "-- audit every insert; this comment has a semicolon",
      "CREATE TABLE t(x TEXT);",
      "CREATE TABLE audit(what TEXT); /* another; comment */",
      "CREATE TRIGGER t_audit AFTER INSERT ON t",
      "BEGIN",
      "  INSERT INTO audit VALUES ('inserted ' || NEW.x || ';');",
      "  INSERT INTO audit VALUES ('second statement in the body');",
      "END;",
      "INSERT INTO t VALUES ('one');",
    ].join("\n");
    const db = new HardenedDb(":memory:", { migrations: [{ version: 1, name: "init", sql }] });
    expect(db.prepare("SELECT what FROM audit ORDER BY rowid").pluck().all()).toEqual([
      "inserted one;", "second statement in the body",
    ]);
    db.close();
  });
});

describe("a failing migration", () => {
  it("should leave schema, data, user_version and ledger unchanged when its third statement fails", () => {
    const dir = migrationsDir({ "001_init.sql": "CREATE TABLE t(x);\nINSERT INTO t VALUES (1);\n" });
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: dir }).close();
    const before = snapshot(path);
    writeFileSync(
      join(dir, "002_broken.sql"),
      "CREATE TABLE u(y);\nINSERT INTO t VALUES (2);\n\n-- the third statement has a typo\nINSRT INTO t VALUES (3);\nINSERT INTO t VALUES (4);\n",
    );
    writeFileSync(join(dir, "003_later.sql"), "CREATE TABLE later(z);\n");

    const error = thrown(() => new HardenedDb(path, { migrations: dir }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_FAILED");
    expect(error.message).toContain(join(dir, "002_broken.sql"));
    expect(error.message).toContain("line 5");
    expect(error.message).toContain("INSRT INTO t VALUES (3);");
    expect(error.message).toContain('near "INSRT": syntax error');
    expect(error.message).toContain("user_version stays 1");
    expect(error.cause).toBeInstanceOf(SqliteError);
    expect(error.cause.code).toBe("SQLITE_ERROR");

    expect(snapshot(path)).toEqual(before);
    // The constructor closed its connection: nothing is left holding the WAL.
    expect(exists(path + "-wal")).toBe(false);
  });

  it("should report a failing statement's SQLite error as the cause", () => {
    const migrations = [
      { version: 1, name: "init", sql: "CREATE TABLE t(x UNIQUE);" },
      { version: 2, name: "seed", sql: "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);" },
    ];
    const error = thrown(() => new HardenedDb(":memory:", { migrations }));
    expect(error.code).toBe("HARDENED_MIGRATION_FAILED");
    expect(error.message).toContain('migration 2 "seed", line 2');
    expect(error.cause).toBeInstanceOf(SqliteError);
    expect(error.cause.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
  });

  it("should refuse pragmas that do nothing inside its transaction, and transaction control", () => {
    for (const [sql, hint] of [
      ["PRAGMA foreign_keys = OFF;", "-- hardened: foreign_keys=off"],
      ["PRAGMA journal_mode = DELETE;", "journal_mode cannot change inside a transaction"],
      ["COMMIT;", "remove them"],
    ]) {
      const db = new HardenedDb(tmp.path("app.db"));
      const error = thrown(() => db.migrate([{ version: 1, name: "bad", sql: `CREATE TABLE t(x);\n${sql}` }]));
      expect(error.code).toBe("HARDENED_MIGRATION_FAILED");
      expect(error.message).toContain(hint);
      expect(error.message).toContain(sql);
      expect(db.pragma("user_version", { simple: true })).toBe(0);
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 't'").pluck().get()).toBe(0);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      db.close();
    }
  });
});

describe("checks on open", () => {
  it("should refuse an applied migration whose file changed, unless allowChangedMigrations", () => {
    const dir = exampleCopy();
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: dir }).close();
    writeFileSync(join(dir, "002_add_visits.sql"), readFileSync(join(dir, "002_add_visits.sql"), "utf8") + "\n-- edited\n");
    const error = thrown(() => new HardenedDb(path, { migrations: dir }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_CHANGED");
    expect(error.message).toContain(join(dir, "002_add_visits.sql"));
    expect(error.message).toContain("allowChangedMigrations");
    const db = new HardenedDb(path, { migrations: dir, allowChangedMigrations: true });
    expect(db.migrationStatus().current).toBe(3);
    db.close();
  });

  it("should not count CRLF line endings as a change", () => {
    const dir = exampleCopy();
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: dir }).close();
    const file = join(dir, "001_init.sql");
    writeFileSync(file, readFileSync(file, "utf8").replace(/\n/g, "\r\n"));
    new HardenedDb(path, { migrations: dir }).close();
  });

  it("should refuse a database newer than the latest migration, unless allowSchemaAhead", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: EXAMPLE }).close();
    const old = migrationsDir({ "001_init.sql": readFileSync(join(EXAMPLE, "001_init.sql"), "utf8") }, "old");
    const error = thrown(() => new HardenedDb(path, { migrations: old }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_SCHEMA_AHEAD");
    expect(error.message).toContain("schema version 3");
    expect(error.message).toContain("(1)");
    const db = new HardenedDb(path, { migrations: old, allowSchemaAhead: true });
    expect(db.migrationStatus()).toEqual({ current: 3, latest: 1, pending: [] });
    db.close();
  });

  it("should refuse a misnamed .sql file, naming it", () => {
    const dir = migrationsDir({ "001_init.sql": "", "add_users.sql": "" });
    const error = thrown(() => new HardenedDb(tmp.path("app.db"), { migrations: dir }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_INVALID");
    expect(error.message).toContain(join(dir, "add_users.sql"));
    expect(error.message).toContain("NNN_name.sql");
  });

  it("should refuse version 0, naming the file", () => {
    const dir = migrationsDir({ "000_init.sql": "" });
    const error = thrown(() => new HardenedDb(tmp.path("app.db"), { migrations: dir }));
    expect(error.code).toBe("HARDENED_MIGRATION_INVALID");
    expect(error.message).toContain(join(dir, "000_init.sql"));
  });

  it("should refuse two files with the same version, naming both", () => {
    const dir = migrationsDir({ "1_init.sql": "", "001_users.sql": "" });
    const error = thrown(() => new HardenedDb(tmp.path("app.db"), { migrations: dir }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_DUPLICATE");
    expect(error.message).toContain(join(dir, "1_init.sql"));
    expect(error.message).toContain(join(dir, "001_users.sql"));
  });

  it("should refuse a missing directory, naming it", () => {
    const error = thrown(() => new HardenedDb(tmp.path("app.db"), { migrations: tmp.path("nope") }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATIONS_NOT_FOUND");
    expect(error.message).toContain(tmp.path("nope"));
  });

  it("should refuse a lower version added after higher ones were applied", () => {
    const dir = migrationsDir({ "001_init.sql": "CREATE TABLE t(x);", "003_more.sql": "" });
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: dir }).close();
    writeFileSync(join(dir, "002_late.sql"), "CREATE TABLE late(x);");
    const error = thrown(() => new HardenedDb(path, { migrations: dir }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_OUT_OF_ORDER");
    expect(error.message).toContain(join(dir, "002_late.sql"));
  });

  it("should refuse invalid option values and array items", () => {
    const cases: [unknown, string][] = [
      [{ migrations: 42 }, "HARDENED_INVALID_OPTION"],
      [{ migrations: "" }, "HARDENED_INVALID_OPTION"],
      [{ migrations: [{ version: 1, name: "x" }] }, "HARDENED_INVALID_OPTION"],
      [{ migrations: [], allowPendingMigrations: true }, "HARDENED_INVALID_OPTION"],
      [{ migration: "migrations" }, "HARDENED_INVALID_OPTION"],
    ];
    for (const [options, code] of cases) {
      const error = thrown(() => new HardenedDb(":memory:", options as any));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe(code);
    }
    const fraction = thrown(() => new HardenedDb(":memory:", { migrations: [{ version: 1.5, name: "x", sql: "" }] }));
    expect(fraction).toBeInstanceOf(HardenedDbError);
    expect(fraction.code).toBe("HARDENED_MIGRATION_INVALID");
  });
});

describe("db.migrate()", () => {
  it("should return { from, to, applied } with each migration's time", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    const report = db.migrate(EXAMPLE);
    expect(report.from).toBe(0);
    expect(report.to).toBe(3);
    expect(report.applied.map((a) => [a.version, a.name])).toEqual([[1, "init"], [2, "add_visits"], [3, "users_email_nocase"]]);
    for (const a of report.applied) expect(a.ms).toBeGreaterThanOrEqual(0);
    db.close();
  });

  it("should throw a TypeError without a source or a migrations option", () => {
    const db = new HardenedDb(":memory:");
    for (const call of [() => db.migrate(), () => db.migrationStatus()]) {
      const error = thrown(call);
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
    expect(thrown(() => db.migrate(7 as any)).code).toBe("HARDENED_INVALID_ARGUMENT");
    db.close();
  });

  it("should refuse to run inside a transaction", () => {
    const db = new HardenedDb(":memory:");
    const error = thrown(() => db.transaction(() => db.migrate([{ version: 1, name: "a", sql: "CREATE TABLE t(x);" }]))());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe("HARDENED_IN_TRANSACTION");
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.close();
  });
});

describe("table rebuild with -- hardened: foreign_keys=off", () => {
  const seed = "INSERT INTO users (id, email, name) VALUES (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob');\n"
    + "INSERT INTO notes (user_id, body) VALUES (1, 'a1'), (1, 'a2'), (2, 'b1');\n";

  /** Opens a database at the example's version 2 with users and notes in it. */
  function atVersionTwo(): { path: string; dir: string } {
    const dir = exampleCopy();
    const rebuild = readFileSync(join(dir, "003_users_email_nocase.sql"), "utf8");
    unlinkSync(join(dir, "003_users_email_nocase.sql"));
    const path = tmp.path("app.db");
    const db = new HardenedDb(path, { migrations: dir });
    db.exec(seed);
    db.close();
    writeFileSync(join(dir, "003_users_email_nocase.sql"), rebuild);
    return { path, dir };
  }

  it("should keep the child rows that ON DELETE CASCADE would delete, and switch foreign keys back on", () => {
    const { path, dir } = atVersionTwo();
    const db = new HardenedDb(path, { migrations: dir });
    expect(db.pragma("user_version", { simple: true })).toBe(3);
    expect(db.prepare("SELECT body FROM notes ORDER BY id").pluck().all()).toEqual(["a1", "a2", "b1"]);
    expect(db.prepare("SELECT count(*) FROM users WHERE email = 'ADA@EXAMPLE.COM'").pluck().get()).toBe(1);
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.pragma("foreign_key_check")).toEqual([]);
    db.close();
  });

  it("should lose the child rows without the first-line directive (what it prevents)", () => {
    const { path, dir } = atVersionTwo();
    const file = join(dir, "003_users_email_nocase.sql");
    writeFileSync(file, readFileSync(file, "utf8").replace("-- hardened: foreign_keys=off", "-- (directive removed)"));
    const db = new HardenedDb(path, { migrations: dir });
    expect(db.prepare("SELECT count(*) FROM notes").pluck().get()).toBe(0);
    db.close();
  });

  it("should roll back a rebuild that leaves a dangling reference", () => {
    const { path, dir } = atVersionTwo();
    const file = join(dir, "003_users_email_nocase.sql");
    writeFileSync(file, readFileSync(file, "utf8").replace("FROM users;", "FROM users WHERE id = 1;"));
    const error = thrown(() => new HardenedDb(path, { migrations: dir }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATION_FAILED");
    expect(error.message).toContain(file);
    expect(error.message).toContain("notes row 3 references a missing row in users");
    const db = new HardenedDb(path);
    expect(db.pragma("user_version", { simple: true })).toBe(2);
    expect(db.prepare("SELECT id FROM users ORDER BY id").pluck().all()).toEqual([1, 2]);
    expect(db.prepare("SELECT count(*) FROM notes").pluck().get()).toBe(3);
    expect(ledger(db).map((r) => r.version)).toEqual([1, 2]);
    db.close();
  });

  it("should restore foreign keys on the same connection after a failed rebuild", () => {
    const db = new HardenedDb(":memory:");
    const error = thrown(() =>
      db.migrate([{ version: 1, name: "rebuild", sql: "-- hardened: foreign_keys=off\nCREATE TABLE t(x);\nSELEC 1;" }]),
    );
    expect(error.code).toBe("HARDENED_MIGRATION_FAILED");
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    db.close();
  });
});

describe("readonly connections", () => {
  it("should throw HARDENED_MIGRATIONS_PENDING instead of migrating", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).close();
    const error = thrown(() => new HardenedDb(path, { readonly: true, migrations: EXAMPLE }));
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_MIGRATIONS_PENDING");
    expect(error.message).toContain("3 migration(s) are pending");
    const check = new HardenedDb(path);
    expect(check.pragma("user_version", { simple: true })).toBe(0);
    check.close();
  });

  it("should open with pending migrations when allowPendingMigrations, and still not migrate", () => {
    const path = tmp.path("app.db");
    const first = migrationsDir({ "001_init.sql": readFileSync(join(EXAMPLE, "001_init.sql"), "utf8") }, "first");
    new HardenedDb(path, { migrations: first }).close();
    const db = new HardenedDb(path, { readonly: true, migrations: EXAMPLE, allowPendingMigrations: true });
    expect(db.migrate()).toEqual({ from: 1, to: 1, applied: [] });
    expect(db.migrationStatus().pending.map((p) => p.version)).toEqual([2, 3]);
    expect(db.pragma("user_version", { simple: true })).toBe(1);
    db.close();
  });

  it("should open a fully migrated database", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path, { migrations: EXAMPLE }).close();
    const db = new HardenedDb(path, { readonly: true, migrations: EXAMPLE });
    expect(db.migrationStatus()).toEqual({ current: 3, latest: 3, pending: [] });
    db.close();
  });
});

describe("several processes at once", () => {
  it("should apply each migration exactly once when 8 processes open a new database together", async () => {
    const dir = migrationsDir({
      "001_init.sql": "CREATE TABLE runs(version INTEGER NOT NULL, at TEXT NOT NULL);\nINSERT INTO runs VALUES (1, strftime('%f', 'now'));",
      "002_two.sql": "INSERT INTO runs VALUES (2, strftime('%f', 'now'));",
      // Slow enough that the others queue on the write lock while it runs.
      "003_three.sql": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT count(*) FROM c;\nINSERT INTO runs VALUES (3, strftime('%f', 'now'));",
      "004_four.sql": "CREATE TABLE extra(x);\nINSERT INTO runs VALUES (4, strftime('%f', 'now'));",
      "005_five.sql": "-- hardened: foreign_keys=off\nINSERT INTO runs VALUES (5, strftime('%f', 'now'));",
    });
    const path = tmp.path("shared/app.db");
    const worker = join(PACKAGE_ROOT, "__test__/workers/migrate.js");
    const startAt = Date.now() + 1500;
    const processes = Array.from({ length: 8 }, (_, i) =>
      Bun.spawn([i % 2 === 0 ? BUN : NODE, worker, path, dir, String(startAt)], { stdout: "pipe", stderr: "pipe" }),
    );
    const results = await Promise.all(
      processes.map(async (p) => ({
        exit: await p.exited,
        out: await new Response(p.stdout).text(),
        err: await new Response(p.stderr).text(),
      })),
    );
    for (const r of results) {
      expect({ exit: r.exit, err: r.err, out: r.out.trim() }).toEqual({
        exit: 0, err: "", out: JSON.stringify({ ok: true, again: 0, current: 5 }),
      });
    }
    const db = new HardenedDb(path);
    expect(db.prepare("SELECT version, count(*) AS n FROM runs GROUP BY version ORDER BY version").raw().all()).toEqual([
      [1, 1], [2, 1], [3, 1], [4, 1], [5, 1],
    ]);
    expect(ledger(db).map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    expect(db.pragma("user_version", { simple: true })).toBe(5);
    db.close();
  }, 60_000);
});
