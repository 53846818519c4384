// Litestream replication, with the real binary, through a crash: the writer and
// Litestream are killed with SIGKILL together, Litestream is started again, then
// stopped with SIGTERM and the replica restored: every acknowledged row is back.
import { describe, it, expect, beforeAll, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../index.js";
import { tempDir, modeOf } from "./helpers";
import * as ls from "./litestream";

/** Rows acknowledged before the kill; the writer runs until killed. */
const BEFORE_KILL = 300;

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => ls.requireTools());
beforeEach(() => (tmp = tempDir("hs-litestream-crash")));
afterEach(() => tmp.cleanup());

describe("Litestream after kill -9 of the writer and Litestream", () => {
  it("should ship and restore every acknowledged row once Litestream is started again", async () => {
    const db = tmp.path("app.db");
    new HardenedDb(db, { replication: "litestream" }).close();
    const config = tmp.path("litestream.yml");
    ls.writeConfig(config, db, { type: "file", path: tmp.path("replica") });
    const first = ls.startLitestream(config);
    const writer = ls.startWriter(db, "w", 0);
    let acked: string[];
    try {
      await ls.waitForAttach(db, first);
      await ls.waitFor(`${BEFORE_KILL} acknowledged rows`, () => writer.acked.size >= BEFORE_KILL || writer.child.exitCode !== null);
      writer.child.kill("SIGKILL");
      first.child.kill("SIGKILL");
      expect(await writer.exited).toBeNull();
      await first.exited;
      acked = [...writer.acked];
      expect(acked.length).toBeGreaterThanOrEqual(BEFORE_KILL);
    } finally {
      writer.child.kill("SIGKILL");
      first.child.kill("SIGKILL");
    }

    // Nothing checkpointed the -wal (wal_autocheckpoint is 0): the acknowledged rows wait there.
    const second = ls.startLitestream(config);
    try {
      await ls.waitForAttach(db, second);
      expect(await ls.stopLitestream(second)).toBe(0);
    } finally {
      second.child.kill("SIGKILL");
    }

    const restored = tmp.path("restored.db");
    const out = ls.cli(["restore", restored, "--config", config, "--from", db, "--litestream", ls.LITESTREAM, "--json"]);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout).restored).toBe(true);
    expect(modeOf(restored)).toBe(0o600);
    const found = ls.rowsOf(restored);
    expect(ls.missing(acked, found)).toEqual([]);
    expect(found).toEqual(ls.rowsOf(db));
  });
});
