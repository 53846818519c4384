// File modes of the database, -wal and -shm: 0600 after a write, and a wider
// mode warned about, fixed or refused as the `permissions` option says.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { writeFileSync, chmodSync, readFileSync, symlinkSync } from "node:fs";
import { HardenedDb, HardenedDbError } from "../index.js";
import { tempDir, modeOf, exists, runScript, thrown, warningsOf } from "./helpers";
import { runUnprivileged, openScript, UNPRIVILEGED_UNAVAILABLE } from "./unprivileged";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-perm")));
afterEach(() => tmp.cleanup());


/** A database whose db, -wal and -shm have mode 0644: a first connection keeps them alive. */
function wideDatabase(path: string): HardenedDb {
  const keeper = new HardenedDb(path, { fileMode: 0o644 });
  keeper.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  expect([modeOf(path), modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o644, 0o644, 0o644]);
  return keeper;
}

describe("file modes", () => {
  it("should give db, -wal and -shm mode 0600 after a write, without a warning", () => {
    const path = tmp.path("app.db");
    const warnings = warningsOf(() => {
      const db = new HardenedDb(path);
      db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
      expect([modeOf(path), modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o600, 0o600, 0o600]);
      db.close();
    });
    expect(warnings).toEqual([]);
  });

  it("should accept modes within fileMode", () => {
    const path = tmp.path("app.db");
    writeFileSync(path, "");
    chmodSync(path, 0o640);
    const warnings = warningsOf(() => new HardenedDb(path, { fileMode: 0o640 }).close());
    expect(warnings).toEqual([]);
  });
});

describe('permissions: "warn" (the default)', () => {
  it("should emit a HARDENED_FILE_MODE warning per wide file and change nothing", () => {
    const path = tmp.path("app.db");
    const keeper = wideDatabase(path);
    let db: HardenedDb | undefined;
    const warnings = warningsOf(() => (db = new HardenedDb(path)));
    expect(warnings.map((w) => w.code)).toEqual(["HARDENED_FILE_MODE", "HARDENED_FILE_MODE", "HARDENED_FILE_MODE"]);
    expect(warnings[0].type).toBe("HardenedDbWarning");
    expect(warnings[0].message).toContain(`${path} has mode 0644, wider than fileMode 0600`);
    expect(warnings[0].message).toContain(`chmod 600 ${path}`);
    expect(warnings[1].message).toContain(`${path}-wal has mode 0644`);
    expect(warnings[2].message).toContain(`${path}-shm has mode 0644`);
    expect([modeOf(path), modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o644, 0o644, 0o644]);
    db!.close();
    keeper.close();
  });

  it("should print the warning on stderr of a real process", () => {
    const path = tmp.path("app.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const { status, stderr } = runScript(`new (require('./index.js').HardenedDb)(${JSON.stringify(path)}).close()`, "node");
    expect(status).toBe(0);
    expect(stderr).toContain("[HARDENED_FILE_MODE] HardenedDbWarning");
    expect(stderr).toContain(`${path} has mode 0644`);
  });
});

describe('permissions: "fix"', () => {
  it("should chmod db, -wal and -shm to fileMode and warn about nothing", () => {
    const path = tmp.path("app.db");
    const keeper = wideDatabase(path);
    let db: HardenedDb | undefined;
    const warnings = warningsOf(() => (db = new HardenedDb(path, { permissions: "fix" })));
    expect(warnings).toEqual([]);
    expect([modeOf(path), modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o600, 0o600, 0o600]);
    expect(db!.prepare("SELECT x FROM t").pluck().get()).toBe(1);
    db!.close();
    keeper.close();
  });

  it("should leave a file that is not a database at 0644 and byte-for-byte unchanged, directly or through a symlink", () => {
    const bytes = Buffer.from("SQLite format 3\0" + "name,email\nada,ada@example.com\n".repeat(200));
    const path = tmp.path("notes.db");
    writeFileSync(path, bytes);
    chmodSync(path, 0o644);
    symlinkSync(path, tmp.path("link.db"));
    for (const opened of [path, tmp.path("link.db")]) {
      const error = thrown(() => new HardenedDb(opened, { permissions: "fix" }));
      expect(error).toBeInstanceOf(HardenedDbError);
      expect(error.code).toBe("HARDENED_NOT_A_DATABASE");
      expect(modeOf(path)).toBe(0o644);
      expect(readFileSync(path).equals(bytes)).toBe(true);
    }
  });

  it("should still fix a real database, and its -wal, reached through a symlink", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path, { fileMode: 0o644 }).exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)").close();
    expect(modeOf(path)).toBe(0o644);
    symlinkSync(path, tmp.path("link.db"));
    const db = new HardenedDb(tmp.path("link.db"), { permissions: "fix" });
    db.exec("INSERT INTO t VALUES (2)");
    expect([modeOf(path), modeOf(path + "-wal"), modeOf(path + "-shm")]).toEqual([0o600, 0o600, 0o600]);
    db.close();
  });

  it("should do the same under Node", () => {
    const notes = tmp.path("notes.db");
    writeFileSync(notes, "not a database\n".repeat(100));
    chmodSync(notes, 0o644);
    const path = tmp.path("app.db");
    new HardenedDb(path, { fileMode: 0o644 }).exec("CREATE TABLE t(x)").close();
    const { status, stdout, stderr } = runScript(
      `const { HardenedDb } = require('./index.js');
      let code = null;
      try { new HardenedDb(${JSON.stringify(notes)}, { permissions: 'fix' }); } catch (e) { code = e.code; }
      new HardenedDb(${JSON.stringify(path)}, { permissions: 'fix' }).close();
      console.log(JSON.stringify({ code }));`,
      "node",
    );
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ code: "HARDENED_NOT_A_DATABASE" });
    expect(modeOf(notes)).toBe(0o644);
    expect(modeOf(path)).toBe(0o600);
  });

  it("should keep bits narrower than fileMode as they are", () => {
    const path = tmp.path("app.db");
    writeFileSync(path, "");
    chmodSync(path, 0o604);
    new HardenedDb(path, { permissions: "fix", fileMode: 0o640 }).close();
    expect(modeOf(path)).toBe(0o600);
  });

  it.skipIf(UNPRIVILEGED_UNAVAILABLE !== null)("should throw HARDENED_FILE_MODE when the file belongs to someone else", () => {
    chmodSync(tmp.dir, 0o777);
    const path = tmp.path("app.db");
    new HardenedDb(path, { fileMode: 0o666 }).close();
    const { out } = runUnprivileged(openScript(path, { permissions: "fix" }));
    expect(out).toMatchObject({ ok: false, code: "HARDENED_FILE_MODE", hardened: true });
    expect(out.message).toContain(`cannot chmod it to 0600`);
    expect(out.message).toContain("as the file's owner");
    expect(modeOf(path)).toBe(0o666);
  });
});

describe('permissions: "throw"', () => {
  it("should refuse to open a wide file and leave it untouched", () => {
    const path = tmp.path("app.db");
    const keeper = new HardenedDb(path, { fileMode: 0o644 });
    keeper.exec("CREATE TABLE t(x)");
    keeper.close();
    expect(exists(path + "-wal")).toBe(false);
    let error: any;
    try {
      new HardenedDb(path, { permissions: "throw" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HardenedDbError);
    expect(error.code).toBe("HARDENED_FILE_MODE");
    expect(error.message).toContain(`${path} has mode 0644, wider than fileMode 0600`);
    expect(error.message).toContain('permissions: "throw"');
    expect(modeOf(path)).toBe(0o644);
    expect(exists(path + "-wal")).toBe(false);
  });

  it("should refuse a wide -shm even when the database file is fine", () => {
    const path = tmp.path("app.db");
    const keeper = new HardenedDb(path);
    keeper.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    chmodSync(path + "-shm", 0o666);
    expect(() => new HardenedDb(path, { permissions: "throw" })).toThrow(/app\.db-shm has mode 0666/);
    keeper.close();
  });

  it("should open a database whose modes are within fileMode", () => {
    const path = tmp.path("app.db");
    new HardenedDb(path).close();
    new HardenedDb(path, { permissions: "throw" }).close();
  });
});

describe("the permissions option", () => {
  it("should reject an unknown value with a RangeError naming the choices", () => {
    expect(() => new HardenedDb(tmp.path("app.db"), { permissions: "ignore" } as any)).toThrow(
      expect.objectContaining({ name: "RangeError", code: "HARDENED_INVALID_OPTION" }),
    );
    expect(() => new HardenedDb(tmp.path("app.db"), { permissions: "ignore" } as any)).toThrow(/warn, fix, throw/);
  });

  it("should not apply to an in-memory database", () => {
    new HardenedDb(":memory:", { permissions: "throw" }).close();
  });
});
