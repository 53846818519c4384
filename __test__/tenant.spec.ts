// db.forTenant(id): one tenant's rows only, whatever SQL the tenant handle is given.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { HardenedDb, HardenedDbError } from "../index.js";
import { tempDir, thrown, runScript, BUN, NODE, PACKAGE_ROOT } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
let db: HardenedDb;
beforeEach(() => {
  tmp = tempDir("hs-tenant");
  db = new HardenedDb(tmp.path("app.db"));
  db.exec(`
    CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, body TEXT, kind TEXT NOT NULL DEFAULT 'note');
    CREATE TABLE tags (note_id INTEGER, tenant_id TEXT NOT NULL, tag TEXT, PRIMARY KEY (tenant_id, note_id, tag)) WITHOUT ROWID;
    CREATE TABLE events (tenant_id TEXT, what TEXT);
    CREATE TABLE countries (code TEXT PRIMARY KEY);
    CREATE TABLE secrets (value TEXT);
    INSERT INTO notes (tenant_id, body) VALUES ('acme', 'acme 1'), ('globex', 'globex 1'), ('acme', 'acme 2'), ('o''brien', 'quoted');
    INSERT INTO tags VALUES (1, 'acme', 'red'), (2, 'globex', 'blue');
    INSERT INTO events VALUES ('acme', 'signup'), ('globex', 'signup');
    INSERT INTO countries VALUES ('fr'), ('de');
    INSERT INTO secrets VALUES ('root password');
  `);
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

/** Every row of `notes` as the parent sees it, `[tenant_id, body]` in id order. */
function allNotes() {
  return db.prepare("SELECT tenant_id, body FROM notes ORDER BY id").raw().all();
}

function denied(fn: () => unknown, code = "HARDENED_TENANT_DENIED") {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(HardenedDbError);
  expect(error.code).toBe(code);
  return error;
}

describe("reads", () => {
  it("should show only the tenant's rows, whatever the WHERE clause", () => {
    const acme = db.forTenant("acme");
    expect(acme.prepare("SELECT body FROM notes ORDER BY id").pluck().all()).toEqual(["acme 1", "acme 2"]);
    expect(acme.prepare("SELECT body FROM notes WHERE 1 OR 1=1").pluck().all()).toEqual(["acme 1", "acme 2"]);
    expect(acme.prepare("SELECT count(*) FROM notes WHERE tenant_id = 'globex' OR 1").pluck().get()).toBe(2);
    expect(acme.prepare("SELECT count(*) FROM (SELECT * FROM notes) AS x").pluck().get()).toBe(2);
    expect(acme.prepare("WITH n AS (SELECT * FROM notes) SELECT count(*) FROM n").pluck().get()).toBe(2);
    expect(acme.prepare("SELECT count(*) FROM notes a JOIN notes b").pluck().get()).toBe(4);
    expect(acme.prepare("SELECT count(*) FROM temp.notes").pluck().get()).toBe(2);
    expect(acme.prepare("SELECT tag FROM tags").pluck().all()).toEqual(["red"]);
    expect(acme.prepare("SELECT what FROM events").pluck().all()).toEqual(["signup"]);
    expect(acme.prepare("SELECT count(*) FROM notes, json_each('[1, 2]')").pluck().get()).toBe(4);
    acme.close();
  });

  it("should quote text ids and keep integer ids apart from text ones", () => {
    expect(db.forTenant("o'brien").prepare("SELECT body FROM notes").pluck().all()).toEqual(["quoted"]);
    expect(db.forTenant("x' OR '1'='1").prepare("SELECT count(*) FROM notes").pluck().get()).toBe(0);
    db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, org INTEGER NOT NULL, name TEXT); INSERT INTO accounts VALUES (1, 7, 'seven'), (2, 8, 'eight')");
    const seven = db.forTenant(7, { column: "org" });
    expect(seven.column).toBe("org");
    expect(seven.tenantId).toBe(7);
    expect(seven.prepare("SELECT name FROM accounts").pluck().all()).toEqual(["seven"]);
    expect(db.forTenant(8n, { column: "org" }).prepare("SELECT name FROM accounts").pluck().all()).toEqual(["eight"]);
    // The notes' tenant column is not "org": notes are refused, not shown.
    denied(() => seven.prepare("SELECT * FROM notes"));
  });

  it("should refuse the underlying tables, however they are spelled", () => {
    const acme = db.forTenant("acme");
    for (const sql of [
      "SELECT * FROM main.notes",
      'SELECT * FROM main."notes"',
      'SELECT * FROM "main".notes',
      "SELECT * FROM [MAIN] . notes",
      "SELECT * FROM 'main'.notes",
      "SELECT * FROM main/**/.notes",
      "SELECT * FROM notes WHERE id IN (SELECT id FROM main.notes)",
      "SELECT (SELECT group_concat(body) FROM main.notes)",
      "WITH notes AS (SELECT * FROM main.notes) SELECT * FROM notes",
      "SELECT * FROM notes JOIN main.notes AS other ON 1",
    ]) {
      expect(denied(() => acme.prepare(sql)).message).toContain("main schema");
    }
    denied(() => acme.exec("SELECT 1; SELECT * FROM main.notes"));
  });

  it("should refuse the schema, tables without the tenant column, and pragma functions", () => {
    const acme = db.forTenant("acme");
    expect(denied(() => acme.prepare("SELECT name FROM sqlite_schema")).message).toContain("sqlite_master");
    denied(() => acme.prepare("SELECT sql FROM sqlite_master"));
    denied(() => acme.prepare("SELECT sql FROM sqlite_temp_schema"));
    denied(() => acme.prepare("SELECT sql FROM temp.sqlite_master"));
    expect(denied(() => acme.prepare("SELECT * FROM secrets")).message).toContain('shared: ["secrets"]');
    denied(() => acme.prepare("SELECT * FROM pragma_table_info('notes')"));
    denied(() => acme.prepare("SELECT * FROM notes WHERE body IN (SELECT value FROM secrets)"));
  });

  it("should let every tenant read the shared tables, and none write them", () => {
    const acme = db.forTenant("acme", { shared: ["countries"] });
    expect(acme.prepare("SELECT code FROM countries ORDER BY code").pluck().all()).toEqual(["de", "fr"]);
    expect(acme.prepare("SELECT count(*) FROM notes, countries").pluck().get()).toBe(4);
    expect(acme.prepare("SELECT count(*) FROM notes WHERE EXISTS (SELECT 1 FROM countries)").pluck().get()).toBe(2);
    denied(() => acme.prepare("SELECT count(*) FROM secrets"));
    denied(() => acme.prepare("SELECT 1 FROM notes, secrets"));
    expect(denied(() => acme.prepare("INSERT INTO countries VALUES ('it')")).message).toContain("countries");
    denied(() => acme.prepare("DELETE FROM countries"));
    denied(() => acme.prepare("SELECT * FROM secrets"));
  });
});

describe("writes", () => {
  it("should fill in the tenant on insert and report changes and lastInsertRowid", () => {
    const acme = db.forTenant("acme");
    const result = acme.prepare("INSERT INTO notes (body) VALUES (?)").run("acme 3");
    expect(result).toEqual({ changes: 1, lastInsertRowid: 5 });
    expect(acme.prepare("INSERT INTO notes (body) VALUES ('a'), ('b')").run()).toEqual({ changes: 2, lastInsertRowid: 7 });
    expect(acme.prepare("INSERT INTO notes (tenant_id, body) VALUES ('acme', 'explicit')").run().changes).toBe(1);
    expect(db.prepare("SELECT tenant_id, kind FROM notes WHERE id = 5").raw().get()).toEqual(["acme", "note"]);
    expect(acme.prepare("INSERT INTO tags (note_id, tag) VALUES (5, 'new')").run().changes).toBe(1);
    expect(db.prepare("SELECT tenant_id FROM tags WHERE tag = 'new'").pluck().get()).toBe("acme");
  });

  it("should refuse inserting another tenant's id, directly or from a SELECT", () => {
    const acme = db.forTenant("acme");
    const before = allNotes();
    const error = denied(() => acme.prepare("INSERT INTO notes (tenant_id, body) VALUES ('globex', 'planted')").run(), "HARDENED_TENANT_VIOLATION");
    expect(error.message).toContain("'acme'");
    expect(error.cause.code).toBe("SQLITE_CONSTRAINT_TRIGGER");
    denied(() => acme.prepare("INSERT INTO notes SELECT id + 100, 'globex', body, kind FROM notes").run(), "HARDENED_TENANT_VIOLATION");
    denied(() => acme.prepare("INSERT INTO notes (tenant_id, body) SELECT tenant_id, body FROM main.notes"));
    expect(allNotes()).toEqual(before);
    // Copying its own rows is fine: they stay the tenant's.
    expect(acme.prepare("INSERT INTO notes (body) SELECT body || ' copy' FROM notes").run().changes).toBe(2);
    expect(db.prepare("SELECT count(*) FROM notes WHERE tenant_id = 'globex'").pluck().get()).toBe(1);
  });

  it("should update and delete only the tenant's rows, and never move a row to another tenant", () => {
    const acme = db.forTenant("acme");
    expect(acme.prepare("UPDATE notes SET body = 'x' WHERE 1 OR 1=1").run().changes).toBe(2);
    denied(() => acme.prepare("UPDATE notes SET tenant_id = 'globex'").run(), "HARDENED_TENANT_VIOLATION");
    expect(acme.prepare("UPDATE notes SET tenant_id = 'acme', body = 'y' WHERE id = 1").run().changes).toBe(1);
    expect(acme.prepare("UPDATE notes SET body = 'z' WHERE id = 2").run().changes).toBe(0);
    expect(acme.prepare("DELETE FROM notes").run().changes).toBe(2);
    expect(allNotes()).toEqual([["globex", "globex 1"], ["o'brien", "quoted"]]);
    expect(acme.prepare("DELETE FROM tags WHERE 1").run().changes).toBe(1);
    expect(db.prepare("SELECT tag FROM tags").pluck().all()).toEqual(["blue"]);
  });

  it("should refuse writes to the underlying tables and UPDATE/DELETE without a primary key", () => {
    const acme = db.forTenant("acme");
    denied(() => acme.prepare("UPDATE main.notes SET body = 'x'"));
    denied(() => acme.prepare("DELETE FROM main.notes"));
    expect(denied(() => acme.prepare("DELETE FROM events")).message).toContain("PRIMARY KEY");
    denied(() => acme.prepare("UPDATE events SET what = 'x'"));
    expect(acme.prepare("INSERT INTO events (what) VALUES ('login')").run().changes).toBe(1);
    expect(db.prepare("SELECT count(*) FROM events WHERE tenant_id = 'acme'").pluck().get()).toBe(2);
  });

  it("should refuse RETURNING and UPSERT on tenant tables", () => {
    const acme = db.forTenant("acme");
    expect(denied(() => acme.prepare("INSERT INTO notes (body) VALUES ('r') RETURNING *")).message).toContain("RETURNING");
    denied(() => acme.prepare("UPDATE notes SET body = 'r' RETURNING id"));
    denied(() => acme.prepare("DELETE FROM notes RETURNING body"));
    // SQLite itself refuses UPSERT on a view.
    const upsert = thrown(() => acme.prepare("INSERT INTO notes (id, body) VALUES (1, 'u') ON CONFLICT (id) DO UPDATE SET body = 'u'"));
    expect(upsert.code).toBe("SQLITE_ERROR");
    expect(allNotes()[0]).toEqual(["acme", "acme 1"]);
  });

  it("should roll back a tenant transaction as a whole", () => {
    const acme = db.forTenant("acme");
    const move = acme.transaction(() => {
      acme.prepare("INSERT INTO notes (body) VALUES ('in tx')").run();
      acme.prepare("INSERT INTO notes (tenant_id, body) VALUES ('globex', 'bad')").run();
    });
    denied(() => move(), "HARDENED_TENANT_VIOLATION");
    expect(acme.inTransaction).toBe(false);
    expect(db.prepare("SELECT count(*) FROM notes WHERE body = 'in tx'").pluck().get()).toBe(0);
    const ok = acme.transaction(() => acme.prepare("DELETE FROM notes WHERE id = 1").run().changes);
    expect(ok()).toBe(1);
  });
});

describe("refused statements", () => {
  it("should refuse schema changes, ATTACH, pragma writes and the layer's function", () => {
    const acme = db.forTenant("acme");
    // SQLite itself refuses these on a view, before the authorizer is asked.
    for (const sql of ["CREATE TRIGGER t AFTER INSERT ON notes BEGIN SELECT 1; END", "ALTER TABLE notes ADD COLUMN x", "CREATE INDEX i ON notes (body)"]) {
      expect(thrown(() => acme.prepare(sql)).code).toBe("SQLITE_ERROR");
    }
    for (const sql of [
      "CREATE TRIGGER t AFTER INSERT ON secrets BEGIN DELETE FROM secrets; END",
      "CREATE TEMP TRIGGER t INSTEAD OF INSERT ON notes BEGIN SELECT 1; END",
      "CREATE TEMP TRIGGER t AFTER INSERT ON countries BEGIN SELECT 1; END",
      "CREATE TEMP VIEW v AS SELECT * FROM notes",
      "CREATE TEMP TABLE x (y)",
      "CREATE TABLE x (y)",
      "DROP VIEW notes",
      "DROP VIEW temp.notes",
      "DROP TABLE notes",
      "DROP TABLE secrets",
      "ALTER TABLE secrets ADD COLUMN x",
      "ALTER TABLE secrets RENAME TO s2",
      "CREATE INDEX i ON secrets (value)",
      "REINDEX",
      "ANALYZE",
      "ATTACH 'other.db' AS other",
      "DETACH temp",
      "PRAGMA writable_schema = 1",
      "PRAGMA foreign_keys = 0",
      "PRAGMA query_only = 1",
      "PRAGMA table_info(notes)",
      "PRAGMA table_list",
      "SELECT hardened_tenant_note(100, 100)",
    ]) {
      denied(() => acme.prepare(sql));
    }
    expect(acme.pragma("user_version", { simple: true })).toBe(0);
    expect(acme.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(acme.prepare("SELECT count(*) FROM notes").pluck().get()).toBe(2);
  });

  it("should leave the parent connection untouched", () => {
    const acme = db.forTenant("acme");
    acme.prepare("DELETE FROM notes").run();
    expect(db.prepare("SELECT count(*) FROM notes").pluck().get()).toBe(2);
    expect(db.prepare("SELECT count(*) FROM main.notes").pluck().get()).toBe(2);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get()).toBeGreaterThan(0);
    db.exec("CREATE TABLE later (x)");
    acme.close();
    expect(acme.open).toBe(false);
    expect(db.open).toBe(true);
  });

  it("should refuse :memory: and bad arguments with coded errors", () => {
    const memory = new HardenedDb(":memory:");
    denied(() => memory.forTenant("acme"), "HARDENED_TENANT_UNSUPPORTED");
    memory.close();
    for (const id of ["", 1.5, null, {}, 2 ** 60, 2n ** 64n]) {
      const error = thrown(() => db.forTenant(id as any));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
    expect(thrown(() => db.forTenant("a", { colum: "x" } as any)).code).toBe("HARDENED_INVALID_OPTION");
    expect(thrown(() => db.forTenant("a", { shared: "countries" } as any)).code).toBe("HARDENED_INVALID_OPTION");
  });
});

describe("open iterators", () => {
  it("should refuse close() and writes on a tenant handle while one of its iterators is open, like the database", () => {
    const acme = db.forTenant("acme");
    const rows = acme.prepare("SELECT body FROM notes ORDER BY id").iterate();
    expect(rows.next().value).toEqual({ body: "acme 1" });
    for (const call of [() => acme.close(), () => acme.prepare("INSERT INTO notes (body) VALUES ('x')").run(), () => acme.exec("SELECT 1")]) {
      const e = thrown(call);
      expect([e.constructor, e.code]).toEqual([TypeError, "HARDENED_DATABASE_BUSY"]);
    }
    expect(acme.open).toBe(true);
    // The parent is another connection: its writes go ahead.
    expect(db.prepare("INSERT INTO events VALUES ('acme', 'seen')").run().changes).toBe(1);
    rows.return();
    acme.close();
    expect(acme.open).toBe(false);
  });
});

describe("schema changes", () => {
  it("should pick up a migration's new table and column at the next prepare", () => {
    const acme = db.forTenant("acme");
    db.exec("CREATE TABLE files (id INTEGER PRIMARY KEY, tenant_id TEXT, name TEXT); INSERT INTO files VALUES (1, 'acme', 'a.txt'), (2, 'globex', 'g.txt')");
    db.exec("ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0");
    expect(acme.prepare("SELECT name FROM files").pluck().all()).toEqual(["a.txt"]);
    acme.prepare("UPDATE notes SET pinned = 1 WHERE id = 1").run();
    expect(db.prepare("SELECT pinned FROM notes ORDER BY id").pluck().all()).toEqual([1, 0, 0, 0]);
    acme.prepare("INSERT INTO notes (body) VALUES ('new')").run();
    expect(db.prepare("SELECT pinned FROM notes WHERE body = 'new'").pluck().get()).toBe(0);
  });
});

describe("processes", () => {
  const WORKERS = join(import.meta.dir, "workers");
  function run(runtime: "bun" | "node", args: string[]) {
    const child = spawn(runtime === "bun" ? BUN : NODE, [join(WORKERS, "tenant-writer.cjs"), ...args], { cwd: PACKAGE_ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  }

  it("should keep two tenants in two processes, Bun and Node, to their own rows while both insert", async () => {
    const path = tmp.path("app.db");
    const rows = 200;
    const results = await Promise.all([run("bun", [path, "t1", String(rows)]), run("node", [path, "t2", String(rows)])]);
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const summaries = results.map((r) => JSON.parse(r.stdout));
    expect(summaries.map((s) => [s.tenantId, s.own, s.foreign])).toEqual([["t1", rows, 0], ["t2", rows, 0]]);
    expect(db.prepare("SELECT tenant_id, count(*) FROM notes WHERE tenant_id IN ('t1', 't2') GROUP BY 1").raw().all()).toEqual([["t1", rows], ["t2", rows]]);
  });

  it("should keep showing one tenant while another process writes other tenants' rows", async () => {
    const acme = db.forTenant("acme");
    const reads = acme.prepare("SELECT DISTINCT tenant_id FROM notes").pluck();
    const writer = run("node", [tmp.path("app.db"), "intruder", "300"]);
    let foreign = 0;
    let done = false;
    writer.then(() => (done = true));
    for (let i = 0; i < 10_000 && !done; i++) {
      for (const id of reads.all()) if (id !== "acme") foreign++;
      await Bun.sleep(0);
    }
    const result = await writer;
    expect(result.code).toBe(0);
    expect(foreign).toBe(0);
    expect(reads.all()).toEqual(["acme"]);
  });

  for (const runtime of ["node", "bun"] as const) {
    it(`should isolate tenants the same way under ${runtime}`, () => {
      const path = tmp.path("app.db");
      db.close();
      const code = `
        const { HardenedDb } = require(".");
        const db = new HardenedDb(${JSON.stringify(path)});
        const acme = db.forTenant("acme");
        const out = {
          rows: acme.prepare("SELECT body FROM notes WHERE 1 OR 1=1").pluck().all(),
          insert: acme.prepare("INSERT INTO notes (body) VALUES ('n')").run(),
          main: (() => { try { acme.prepare("SELECT * FROM main.notes"); } catch (e) { return e.code } })(),
          other: (() => { try { acme.prepare("INSERT INTO notes (tenant_id) VALUES ('globex')").run(); } catch (e) { return e.code } })(),
          schema: (() => { try { acme.prepare("SELECT * FROM sqlite_schema"); } catch (e) { return e.code } })(),
        };
        console.log(JSON.stringify(out));`;
      const result = runScript(code, runtime);
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({
        rows: ["acme 1", "acme 2"],
        insert: { changes: 1, lastInsertRowid: 5 },
        main: "HARDENED_TENANT_DENIED",
        other: "HARDENED_TENANT_VIOLATION",
        schema: "HARDENED_TENANT_DENIED",
      });
      db = new HardenedDb(path);
    });
  }
});
