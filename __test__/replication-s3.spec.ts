// Litestream replication, with the real binary, to an S3-compatible server on
// 127.0.0.1 (moto_server, installed with Litestream by scripts/install-replication-tools.sh):
// two writers, a checkpoint asked for in the middle, SIGTERM to Litestream, restore
// with `hardened-sqlite restore --config`: every acknowledged row, integrity ok, 0600.
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { HardenedDb } from "../index.js";
import { tempDir, modeOf } from "./helpers";
import * as ls from "./litestream";

const PER_WRITER = 150;
const BUCKET = "hardened-sqlite-test";

let moto: ChildProcess | undefined;
let endpoint = "";

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  ls.requireTools();
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn(ls.MOTO_SERVER, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  let created = false;
  // moto accepts a plain PUT to create a bucket; retried until it listens (bounded).
  for (let attempt = 0; attempt < 100 && !created; attempt++) {
    try {
      created = (await fetch(`${endpoint}/${BUCKET}`, { method: "PUT", signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      await ls.sleep(100);
    }
  }
  if (!created) throw new Error(`moto_server did not serve ${endpoint} within 100 attempts`);
});
afterAll(() => moto?.kill("SIGKILL"));

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-litestream-s3")));
afterEach(() => tmp.cleanup());

describe("Litestream S3 replica (moto on 127.0.0.1)", () => {
  it("should restore every acknowledged row of two writers, verified and 0600", async () => {
    const db = tmp.path("app.db");
    new HardenedDb(db, { replication: "litestream" }).close();
    const config = tmp.path("litestream.yml");
    ls.writeConfig(config, db, {
      type: "s3", bucket: BUCKET, path: `app-${Date.now()}`, endpoint, region: "us-east-1",
      "force-path-style": true, "access-key-id": "test", "secret-access-key": "test",
    });
    const replicator = ls.startLitestream(config);
    let acked: string[] = [];
    try {
      await ls.waitForAttach(db, replicator);
      const writers = [ls.startWriter(db, "a", PER_WRITER, 2), ls.startWriter(db, "b", PER_WRITER, 2)];
      await ls.waitFor("the writers' first half", () => writers.every((w) => w.acked.size >= PER_WRITER / 2 || w.child.exitCode !== null));
      const during = new HardenedDb(db, { replication: "litestream" });
      expect(during.checkpoint("TRUNCATE").busy).toBe(true);
      during.close();
      expect(await Promise.all(writers.map((w) => w.exited))).toEqual([0, 0]);
      acked = writers.flatMap((w) => [...w.acked]);
      expect(acked.length).toBe(2 * PER_WRITER);
      expect(await ls.stopLitestream(replicator)).toBe(0);
      expect(ls.problems(replicator.log())).toEqual([]);
    } finally {
      replicator.child.kill("SIGKILL");
    }

    const restored = tmp.path("restored.db");
    const out = ls.cli(["restore", restored, "--config", config, "--from", db, "--litestream", ls.LITESTREAM, "--json"]);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(modeOf(restored)).toBe(0o600);
    const found = ls.rowsOf(restored);
    expect(ls.missing(acked, found)).toEqual([]);
    expect(found).toEqual(ls.rowsOf(db));
    const copy = new HardenedDb(restored, { fileMustExist: true, permissions: "throw" });
    expect(copy.integrityCheck()).toEqual([]);
    copy.close();
  });
});
