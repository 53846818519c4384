// db.serialize({ attached }) and new HardenedDb(buffer), as better-sqlite3's; the
// in-memory copy goes through the hardened open sequence like ":memory:".
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { HardenedDb, HardenedDbError, SqliteError } from "../index.js";
import { tempDir, thrown, runScript, PACKAGE_ROOT } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-ser")));
afterEach(() => tmp.cleanup());

function seeded(path: string, rows = 1000) {
  const db = new HardenedDb(path);
  db.exec(`CREATE TABLE entries (a TEXT, b INTEGER);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO entries SELECT 'foo', i FROM n`);
  return db;
}

describe("db.serialize()", () => {
  it("should return a Buffer that new HardenedDb(buffer) opens as a writable in-memory copy", () => {
    const db = seeded(tmp.path("app.db"));
    const buffer = db.serialize();
    expect(buffer).toBeInstanceOf(Buffer);
    expect(buffer.length).toBe((db.pragma("page_count", { simple: true }) as number) * 4096);
    expect(buffer.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
    // A WAL database's image says rollback journal: it has no -wal.
    expect([buffer[18], buffer[19]]).toEqual([1, 1]);
    db.close();
    const copy = new HardenedDb(buffer);
    expect([copy.name, copy.memory, copy.readonly]).toEqual([":memory:", true, false]);
    expect(copy.serialize()).toEqual(buffer);
    copy.prepare("INSERT INTO entries VALUES (?, ?)").run("bar", -999);
    expect(copy.prepare("SELECT count(*) FROM entries").pluck().get()).toBe(1001);
    expect(copy.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(copy.pragma("trusted_schema", { simple: true })).toBe(0);
    copy.close();
  });

  it("should open a buffer read-only with { readonly: true }, and a database file read from disk", () => {
    const db = seeded(tmp.path("app.db"));
    const buffer = db.serialize();
    db.close();
    const ro = new HardenedDb(buffer, { readonly: true });
    const error = thrown(() => ro.prepare("INSERT INTO entries VALUES ('x', 1)").run());
    expect(error).toBeInstanceOf(SqliteError);
    expect(error.code).toBe("SQLITE_READONLY");
    expect(ro.prepare("SELECT a, b FROM entries ORDER BY rowid LIMIT 2").all()).toEqual([{ a: "foo", b: 1 }, { a: "foo", b: 2 }]);
    expect(ro.serialize()).toEqual(buffer);
    ro.close();
    const file = readFileSync(tmp.path("app.db"));
    expect([file[18], file[19]]).toEqual([2, 2]);
    const fromDisk = new HardenedDb(file);
    expect(fromDisk.prepare("SELECT count(*) FROM entries").pluck().get()).toBe(1000);
    fromDisk.close();
  });

  it("should serialize the attached schema named, and refuse an unknown or empty name and bad options", () => {
    const db = seeded(tmp.path("app.db"));
    const big = db.serialize();
    db.close();
    const mem = new HardenedDb();
    mem.prepare("ATTACH ? AS other").run(tmp.path("app.db"));
    expect(mem.serialize({ attached: "other" })).toEqual(big);
    expect(mem.serialize().length).toBeLessThan(big.length);
    const unknown = thrown(() => mem.serialize({ attached: "nope" }));
    expect(unknown).toBeInstanceOf(SqliteError);
    expect(unknown.code).toBe("SQLITE_ERROR");
    expect(unknown.message).toContain("unknown database nope");
    for (const bad of [42, "main", { attached: 1 }, { attached: "" }, { attach: "main" }]) {
      expect(thrown(() => mem.serialize(bad as any))).toMatchObject({ name: "TypeError", code: "HARDENED_INVALID_ARGUMENT" });
    }
    mem.close();
  });

  it("should work with an empty database", () => {
    const empty = new HardenedDb();
    const buffer = empty.serialize();
    expect(buffer.length).toBeLessThanOrEqual(4096);
    empty.close();
    const copy = new HardenedDb(buffer);
    expect(copy.prepare("SELECT * FROM sqlite_master").all()).toEqual([]);
    expect(copy.serialize().length).toBeLessThanOrEqual(4096);
    copy.close();
    const none = new HardenedDb(Buffer.alloc(0));
    none.exec("CREATE TABLE t(x)");
    expect(none.pragma("auto_vacuum", { simple: true })).toBe(0);
    none.close();
  });

  it("should refuse a buffer that is not a database with HARDENED_NOT_A_DATABASE", () => {
    for (const buffer of [Buffer.from("not a database file"), Buffer.alloc(8192, 7)]) {
      const error = thrown(() => new HardenedDb(buffer));
      expect(error).toBeInstanceOf(HardenedDbError);
      expect(error.code).toBe("HARDENED_NOT_A_DATABASE");
      expect(error.message).toContain("buffer");
    }
  });

  it("should refuse while an iterator is open, and once closed", () => {
    const db = seeded(tmp.path("app.db"), 3);
    for (const _ of db.prepare("SELECT * FROM entries").iterate()) {
      expect(thrown(() => db.serialize())).toMatchObject({ name: "TypeError", code: "HARDENED_DATABASE_BUSY" });
    }
    expect(db.serialize().length).toBeGreaterThan(0);
    db.close();
    expect(thrown(() => db.serialize())).toMatchObject({ name: "TypeError", code: "HARDENED_NOT_OPEN" });
  });

  it("should exchange buffers with better-sqlite3 under Node, both ways", () => {
    const db = seeded(tmp.path("ours.db"), 10);
    writeFileSync(tmp.path("ours.bin"), db.serialize());
    db.close();
    const { status, stdout, stderr } = runScript(`
      const Database = require(${JSON.stringify(PACKAGE_ROOT + "/node_modules/better-sqlite3")});
      const { HardenedDb } = require('./index.js');
      const fs = require('fs');
      const theirs = new Database(fs.readFileSync(${JSON.stringify(tmp.path("ours.bin"))}));
      const a = theirs.prepare('SELECT count(*) FROM entries').pluck().get();
      theirs.exec("CREATE TABLE more (x); INSERT INTO more VALUES (42)");
      const ours = new HardenedDb(theirs.serialize(), { readonly: true });
      const b = ours.prepare('SELECT x FROM more').pluck().get();
      console.log(JSON.stringify([a, b, ours.serialize().equals(theirs.serialize())]));
    `, "node");
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual([10, 42, true]);
  });
});
