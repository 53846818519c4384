// db.loadExtension(path, entryPoint): native extensions through the C API only,
// as better-sqlite3's; the SQL function load_extension() stays refused.
import { describe, it, expect, beforeAll, afterAll } from "bun:test";
import { HardenedDb, SqliteError } from "../index.js";
import { tempDir, thrown, runScript, PACKAGE_ROOT } from "./helpers";
import { HAS_CC, buildExtension } from "./extension-fixture";

let tmp: ReturnType<typeof tempDir>;
let extension = "";
beforeAll(() => {
  tmp = tempDir("hs-ext");
  if (HAS_CC) extension = buildExtension(tmp.path("extension.so"));
});
afterAll(() => tmp.cleanup());

describe.skipIf(!HAS_CC)("db.loadExtension(path, entryPoint)", () => {
  it("should load the extension, return the database, and register its functions on this connection only", () => {
    const db = new HardenedDb(tmp.path("app.db"));
    const other = new HardenedDb(tmp.path("app.db"));
    expect(db.loadExtension(extension)).toBe(db);
    expect(db.prepare("SELECT hs_ext_count(NULL, 123, 99, 2)").pluck().get()).toBe(4);
    expect(thrown(() => other.prepare("SELECT hs_ext_count(1)"))).toMatchObject({ code: "SQLITE_ERROR" });
    other.close();
    db.close();
  });

  it("should call the entry point given, and report the one that fails with its message", () => {
    const db = new HardenedDb(":memory:");
    db.loadExtension(extension, "hs_alt_init");
    expect(db.prepare("SELECT hs_alt()").pluck().get()).toBe("alt");
    expect(thrown(() => db.prepare("SELECT hs_ext_count(1)")).code).toBe("SQLITE_ERROR");
    const error = thrown(() => db.loadExtension(extension, "hs_failing_init"));
    expect(error).toBeInstanceOf(SqliteError);
    expect(error.code).toBe("SQLITE_ERROR");
    expect(error.message).toContain("hs_failing_init refused");
    const missing = thrown(() => db.loadExtension(extension, "no_such_init"));
    expect(missing).toBeInstanceOf(SqliteError);
    expect(missing.message).toContain("no_such_init");
    db.close();
  });

  it("should throw a SqliteError naming the path for a missing extension", () => {
    const db = new HardenedDb(":memory:");
    const error = thrown(() => db.loadExtension(extension + "x"));
    expect(error).toBeInstanceOf(SqliteError);
    expect(error.code).toBe("SQLITE_ERROR");
    expect(error.message).toContain(extension + "x");
    expect(error.message).toContain("check the path");
    db.close();
  });

  it("should keep the SQL function load_extension() refused before, after and after a failed load", () => {
    const db = new HardenedDb(":memory:");
    const sql = () => thrown(() => db.prepare("SELECT load_extension(?)").get(extension));
    expect(sql()).toBeInstanceOf(SqliteError);
    db.loadExtension(extension);
    expect(sql()).toBeInstanceOf(SqliteError);
    thrown(() => db.loadExtension(extension + "x"));
    expect(sql()).toBeInstanceOf(SqliteError);
    db.close();
  });

  it("should refuse arguments that are not strings, a busy connection and a closed one with TypeErrors", () => {
    const db = new HardenedDb(":memory:");
    for (const bad of [undefined, null, 123, new String(extension), [extension]]) {
      expect(thrown(() => db.loadExtension(bad as any))).toMatchObject({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" });
    }
    expect(thrown(() => db.loadExtension(extension, 42 as any))).toMatchObject({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" });
    let iterated = false;
    for (const value of db.prepare("SELECT 555").pluck().iterate()) {
      expect(value).toBe(555);
      expect(thrown(() => db.loadExtension(extension))).toMatchObject({ name: "TypeError", code: "HARDENED_DATABASE_BUSY" });
      iterated = true;
    }
    expect(iterated).toBe(true);
    db.loadExtension(extension);
    db.close();
    expect(thrown(() => db.loadExtension(extension))).toMatchObject({ name: "TypeError", code: "HARDENED_NOT_OPEN" });
  });

  it("should behave as better-sqlite3 does under Node", () => {
    const script = (module: string) => `
      const Database = require(${JSON.stringify(module)});
      const Db = Database.HardenedDb ?? Database;
      const db = new Db(':memory:');
      const outcome = (fn) => { try { const r = fn(); return r === db ? 'this' : r; } catch (e) { return e.constructor.name + ' ' + e.code; } };
      console.log(JSON.stringify([
        outcome(() => db.loadExtension()),
        outcome(() => db.loadExtension(${JSON.stringify(extension + "x")})),
        outcome(() => db.prepare('SELECT load_extension(?)').get(${JSON.stringify(extension)})),
        outcome(() => db.loadExtension(${JSON.stringify(extension)})),
        outcome(() => db.prepare('SELECT hs_ext_count(1, 2)').pluck().get()),
        outcome(() => db.loadExtension(${JSON.stringify(extension)}, 'hs_failing_init')),
      ]));
    `;
    const ours = runScript(script(PACKAGE_ROOT), "node");
    const theirs = runScript(script(PACKAGE_ROOT + "/node_modules/better-sqlite3"), "node");
    expect(ours.stderr).toBe("");
    expect(theirs.stderr).toBe("");
    const [oursOut, theirsOut] = [JSON.parse(ours.stdout), JSON.parse(theirs.stdout)];
    expect(oursOut).toEqual(["TypeError HARDENED_INVALID_ARGUMENT", "SqliteError SQLITE_ERROR", "SqliteError SQLITE_ERROR", "this", 2, "SqliteError SQLITE_ERROR"]);
    // Same classes and results; better-sqlite3's TypeErrors carry no code.
    expect(theirsOut).toEqual(["TypeError undefined", ...oursOut.slice(1)]);
  });
});
