// The start script of docs/replication.md ("The recipe"), taken from the doc and run
// as written with the real Litestream (only its paths point into a temporary folder):
// a first boot creates the database, SIGTERM stops Litestream and the app cleanly, and
// a new host (the data folder emptied) gets every acknowledged row back, mode 0600.
import { describe, it, expect, beforeAll, beforeEach, afterEach } from "bun:test";
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { tempDir, modeOf, NODE, PACKAGE_ROOT } from "./helpers";
import * as ls from "./litestream";

const DOC = join(PACKAGE_ROOT, "docs/replication.md");
const SERVER = join(PACKAGE_ROOT, "__test__/workers/replicated-server.cjs");

/** The ```sh block after the `recipe: entrypoint.sh` marker of docs/replication.md. */
function recipe(): string {
  const text = readFileSync(DOC, "utf8");
  const marker = text.indexOf("<!-- recipe: entrypoint.sh");
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(marker));
  if (marker < 0 || !block) throw new Error("docs/replication.md has no recipe block");
  return block[1];
}

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => ls.requireTools());
beforeEach(() => (tmp = tempDir("hs-recipe")));
afterEach(() => tmp.cleanup());

/** Runs the entrypoint until SIGTERM; returns the rows the app acknowledged and the first "ready" count. */
async function boot(script: string, db: string, rows: number) {
  const bin = tmp.path("bin");
  const env = { ...process.env, PATH: `${bin}:${dirname(NODE)}:${process.env.PATH}`, APP_DB: db, APP_MIGRATIONS: join(PACKAGE_ROOT, "migrations") };
  delete env.AWS_CA_BUNDLE;
  const child = spawn("sh", [script], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const replicator = { child, log: () => log, exited };
  const acked = () => log.split("\n").filter((line) => line.startsWith("app:"));
  try {
    await ls.waitFor(() => `the app to start; the log:\n${log}`, () => /^ready \d+$/m.test(log));
    await ls.waitForAttach(db, replicator);
    await ls.waitFor(() => `${rows} rows; the log:\n${log}`, () => acked().length >= rows);
    const code = await ls.stopLitestream(replicator);
    return { code, log, acked: acked(), ready: Number(/^ready (\d+)$/m.exec(log)![1]) };
  } finally {
    child.kill("SIGKILL");
  }
}

describe("docs/replication.md's recipe", () => {
  it("should create, replicate, stop cleanly and restore on a new host", async () => {
    const data = tmp.path("data");
    const db = join(data, "app.db");
    mkdirSync(data);
    mkdirSync(tmp.path("bin"));
    symlinkSync(join(PACKAGE_ROOT, "bin/hardened-sqlite.js"), tmp.path("bin/hardened-sqlite"));
    symlinkSync(ls.LITESTREAM, tmp.path("bin/litestream"));
    const config = tmp.path("litestream.yml");
    ls.writeConfig(config, db, { type: "file", path: tmp.path("replica") });
    const script = tmp.path("entrypoint.sh");
    const text = recipe()
      .replaceAll("/data/app.db", db)
      .replaceAll("/etc/litestream.yml", config)
      .replaceAll("/app/migrations", join(PACKAGE_ROOT, "migrations"))
      .replaceAll("node /app/server.js", `node ${SERVER}`);
    writeFileSync(script, text);

    const first = await boot(script, db, 100);
    expect(first.ready).toBe(0);
    expect(first.code).toBe(0);
    expect(ls.problems(first.log)).toEqual([]);
    expect(first.log).toContain("the replica has no backup yet; nothing restored");
    expect(modeOf(db)).toBe(0o600);
    expect(statSync(join(data, ".app.db-litestream")).mode & 0o777).toBe(0o700);

    rmSync(data, { recursive: true, force: true }); // a new host: no database, no shadow folder
    mkdirSync(data);
    const second = await boot(script, db, 10);
    expect(second.code).toBe(0);
    expect(second.log).toMatch(/restored \d+ bytes, mode 0600, integrity_check ok, schema version 3, 0 migration\(s\) pending/);
    expect(second.ready).toBeGreaterThanOrEqual(first.acked.length);
    expect(modeOf(db)).toBe(0o600);
    expect(ls.missing([...first.acked, ...second.acked], ls.rowsOf(db))).toEqual([]);
  });
});
