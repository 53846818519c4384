// Litestream replication, with the real binary (scripts/install-replication-tools.sh),
// to a file replica: two writer processes, a TRUNCATE checkpoint asked for in the
// middle, SIGTERM to Litestream, then `hardened-sqlite restore`: every acknowledged
// row is back, integrity_check is ok and the restored file is 0600.
import { describe, it, expect, beforeAll, beforeEach, afterEach } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { HardenedDb } from "../index.js";
import { tempDir, modeOf, PACKAGE_ROOT } from "./helpers";
import * as ls from "./litestream";

const MIGRATIONS = `${PACKAGE_ROOT}/migrations`;
const PER_WRITER = 150;

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => ls.requireTools());
beforeEach(() => (tmp = tempDir("hs-litestream")));
afterEach(() => tmp.cleanup());

describe("Litestream file replica", () => {
  it("should restore every acknowledged row of two writers, verified and 0600", async () => {
    const db = tmp.path("app.db");
    new HardenedDb(db, { migrations: MIGRATIONS, replication: "litestream" }).close();
    const config = tmp.path("litestream.yml");
    ls.writeConfig(config, db, { type: "file", path: tmp.path("replica") });
    const replicator = ls.startLitestream(config);
    let acked: string[] = [];
    try {
      await ls.waitForAttach(db, replicator);
      const writers = [ls.startWriter(db, "a", PER_WRITER, 2), ls.startWriter(db, "b", PER_WRITER, 2)];
      await ls.waitFor("the writers' first half", () => writers.every((w) => w.acked.size >= PER_WRITER / 2 || w.child.exitCode !== null));
      // Litestream's read transaction keeps a TRUNCATE from finishing: it reports busy at once.
      const checkpoint = ls.cli(["checkpoint", db, "--mode", "truncate", "--replication", "litestream", "--json"]);
      expect(checkpoint.stderr).toBe("");
      expect(checkpoint.status).toBe(1);
      expect(JSON.parse(checkpoint.stdout).busy).toBe(true);
      expect(await Promise.all(writers.map((w) => w.exited))).toEqual([0, 0]);
      expect(writers.map((w) => w.stderr())).toEqual(["", ""]);
      acked = writers.flatMap((w) => [...w.acked]);
      expect(acked.length).toBe(2 * PER_WRITER);

      const doctor = ls.cli(["doctor", db, "--replication", "litestream", "--json"]);
      const report = JSON.parse(doctor.stdout);
      expect(report.checks.filter((c: any) => !c.ok)).toEqual([]);
      expect(report.status).toBe("healthy");
      expect(report.checks.find((c: any) => c.name === "replication.running").actual).toMatch(
        /^a WAL read lock held by another process, -wal \d+ bytes, Litestream's tables: _litestream_seq, _litestream_lock$/,
      );

      expect(await ls.stopLitestream(replicator)).toBe(0);
      expect(ls.problems(replicator.log())).toEqual([]);
    } finally {
      replicator.child.kill("SIGKILL");
    }

    const restored = tmp.path("restored.db");
    const out = ls.cli(["restore", restored, "--replica", `file://${tmp.path("replica")}`, "--migrations", MIGRATIONS, "--litestream", ls.LITESTREAM, "--json"]);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ restored: true, userVersion: 3, migrations: { current: 3, latest: 3, pending: 0 } });
    expect(result.bytes).toBe(statSync(restored).size);
    expect(modeOf(restored)).toBe(0o600);
    expect(ls.missing(acked, ls.rowsOf(restored))).toEqual([]);
    expect(ls.rowsOf(restored)).toEqual(ls.rowsOf(db));
    const copy = new HardenedDb(restored, { fileMustExist: true, permissions: "throw" });
    expect(copy.integrityCheck()).toEqual([]);
    expect(copy.prepare("SELECT count(*) FROM acked").pluck().get()).toBe(2 * PER_WRITER);
    copy.close();
  });

  it("should refuse to overwrite a database and keep the original, or skip with --if-db-not-exists", () => {
    const db = tmp.path("app.db");
    new HardenedDb(db).exec("CREATE TABLE kept(x); INSERT INTO kept VALUES (1)").close();
    const args = ["restore", db, "--replica", `file://${tmp.path("nowhere")}`, "--litestream", ls.LITESTREAM];
    const refused = ls.cli(args);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("HARDENED_RESTORE_EXISTS");
    const skipped = ls.cli([...args, "--if-db-not-exists", "--json"]);
    expect(skipped.status).toBe(0);
    expect(JSON.parse(skipped.stdout)).toEqual({ path: db, restored: false, reason: "the database exists" });
    const kept = new HardenedDb(db, { fileMustExist: true });
    expect(kept.prepare("SELECT x FROM kept").pluck().all()).toEqual([1]);
    kept.close();
  });

  it("should report a replica with no backup: an error, or exit 0 with --if-replica-exists", () => {
    const target = tmp.path("new.db");
    const args = ["restore", target, "--replica", `file://${tmp.path("empty-replica")}`, "--litestream", ls.LITESTREAM];
    const failed = ls.cli(args);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("HARDENED_RESTORE_FAILED");
    const skipped = ls.cli([...args, "--if-replica-exists", "--json"]);
    expect(skipped.status).toBe(0);
    expect(JSON.parse(skipped.stdout).reason).toBe("the replica has no backup yet");
    expect(existsSync(target)).toBe(false);
    expect(ls.cli(["restore", target]).status).toBe(64);
  });
});
