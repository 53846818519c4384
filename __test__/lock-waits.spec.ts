// Lock waits that could hang: two processes each holding one database's write
// lock and waiting for the other's, and a process opening (read-write or
// readonly) a file another process holds EXCLUSIVE. Every wait must end with
// success or SQLITE_BUSY within busyTimeout, never block for good (see
// docs/concurrency.md, "Waiting for locks"). Real Node and Bun processes;
// each has a kill timer, so a hang fails the test instead of stalling it.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { HardenedDb } from "../index.js";
import { tempDir, BUN, NODE, PACKAGE_ROOT } from "./helpers";

const WORKERS = join(import.meta.dir, "workers");
/** Far above any wait in these tests: reaching it means a process hung. */
const KILL_AFTER_MS = 30_000;
const BUSY_TIMEOUT_MS = 400;

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-lockwait")));
afterEach(() => tmp.cleanup());

type Worker = { holding: Promise<void>; done: Promise<{ code: number | null; signal: string | null; last: any }>; send: (text: string) => void; end: () => void };

/** Starts a worker script; `holding` resolves on its "holding" line, `done` on exit (killed after KILL_AFTER_MS). */
function start(runtime: "bun" | "node", script: string, args: (string | number)[]): Worker {
  const child = spawn(runtime === "bun" ? BUN : NODE, [join(WORKERS, script), ...args.map(String)], { cwd: PACKAGE_ROOT });
  const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
  let stdout = "";
  let stderr = "";
  let onHolding = () => {};
  const holding = new Promise<void>((resolve) => (onHolding = resolve));
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    if (stdout.includes("holding\n")) onHolding();
  });
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: string | null; last: any }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      onHolding();
      const line = stdout.trim().split("\n").pop() ?? "";
      let last: any = { unparsed: line, stderr };
      try {
        last = JSON.parse(line);
      } catch {}
      resolve({ code, signal, last });
    }),
  );
  return { holding, done, send: (text) => child.stdin.write(text), end: () => child.stdin.end() };
}

/** Creates a WAL database with the `marks` table the workers write to. */
function createDatabase(name: string): string {
  const path = tmp.path(name);
  const db = new HardenedDb(path);
  db.exec("CREATE TABLE marks (name TEXT)");
  db.close();
  return path;
}

function marks(path: string): string[] {
  const db = new HardenedDb(path);
  const names = db.prepare("SELECT name FROM marks ORDER BY name").pluck().all() as string[];
  db.close();
  return names;
}

describe("lock waits never hang", () => {
  it("should end a two-database cycle (A holds db1 and wants db2, B the reverse) with SQLITE_BUSY, not a deadlock", async () => {
    const db1 = createDatabase("one.db");
    const db2 = createDatabase("two.db");
    const a = start("node", "cross-writer.cjs", [db1, db2, BUSY_TIMEOUT_MS, "a"]);
    const b = start("bun", "cross-writer.cjs", [db2, db1, BUSY_TIMEOUT_MS, "b"]);
    await Promise.all([a.holding, b.holding]);
    a.send("go\n");
    b.send("go\n");
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const outcomes = [ra.last.outcome, rb.last.outcome];
    for (const outcome of outcomes) expect(["ok", "SQLITE_BUSY"]).toContain(outcome);
    expect(outcomes).toContain("SQLITE_BUSY");
    // A writer that got SQLITE_BUSY rolled its first database back; one that got
    // through committed both rows. Nothing else is in either file.
    const committed = (name: "a" | "b", outcome: string) => (outcome === "ok" ? [name] : []);
    expect(marks(db1)).toEqual([...committed("a", ra.last.outcome), ...committed("b", rb.last.outcome)].sort());
    expect(marks(db2)).toEqual([...committed("a", ra.last.outcome), ...committed("b", rb.last.outcome)].sort());
    // Each waited about busyTimeout, not until the kill timer (loose sanity bound).
    for (const r of [ra, rb]) expect(r.last.waitedMs).toBeLessThan(KILL_AFTER_MS / 3);
  }, 60_000);

  for (const mode of ["readwrite", "readonly"] as const) {
    it(`should give a ${mode} open SQLITE_BUSY while another process holds the file EXCLUSIVE, and succeed once it lets go`, async () => {
      const path = createDatabase("held.db");
      const holder = start("node", "exclusive-holder.cjs", [path]);
      await holder.holding;
      const blocked = await start("bun", "late-opener.cjs", [path, BUSY_TIMEOUT_MS, mode]).done;
      expect({ code: blocked.code, outcome: blocked.last.outcome }).toEqual({ code: 0, outcome: "SQLITE_BUSY" });
      expect(blocked.last.waitedMs).toBeGreaterThanOrEqual(BUSY_TIMEOUT_MS - 50);
      expect(blocked.last.waitedMs).toBeLessThan(KILL_AFTER_MS / 3);
      holder.end();
      expect((await holder.done).code).toBe(0);
      const after = await start("node", "late-opener.cjs", [path, BUSY_TIMEOUT_MS, mode]).done;
      expect({ code: after.code, outcome: after.last.outcome }).toEqual({ code: 0, outcome: "ok" });
      expect(marks(path)).toEqual(["holder"]);
    }, 60_000);
  }
});
