// The seed-style Bun program on the bun:sqlite face: one writer process and three readonly
// reader processes on one file at once, each written as a bun:sqlite app with only its
// import line changed; app code that sets pragmas itself (docs/bun.md, "Pragmas set by app code").
import { describe, it, expect, afterAll } from "bun:test";
import { spawn } from "node:child_process";
import { tempDir, BUN, PACKAGE_ROOT } from "./helpers";

const tmp = tempDir("bunface-proc");
afterAll(() => tmp.cleanup());

/** Runs `code` in a Bun process; resolves to its exit status and output (killed after 60 s). */
function bun(code: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BUN, ["-e", code], { cwd: PACKAGE_ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe("one writer and three readonly readers, each its own process", () => {
  it("reads every committed row, never an error, and leaves the hardened settings in place", async () => {
    const path = tmp.path("seed.db");
    const setup = await bun(`
      const { Database } = require("./bun.js");
      const db = new Database(${JSON.stringify(path)}, { strict: true });
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA busy_timeout = 5000");
      db.run("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, body TEXT NOT NULL)");
      db.close();
    `);
    expect(setup).toMatchObject({ status: 0, stderr: "" });
    const writer = bun(`
      const { Database } = require("./bun.js");
      const db = new Database(${JSON.stringify(path)}, { strict: true });
      const insert = db.query("INSERT INTO events (batch, body) VALUES ($batch, $body)");
      const batch = db.transaction((n) => { for (let i = 0; i < 50; i++) insert.run({ batch: n, body: "event " + i }); });
      for (let n = 0; n < 40; n++) batch(n);
      console.log(JSON.stringify(db.query("SELECT count(*) AS n FROM events").get()));
      db.close();
    `);
    const reader = () =>
      bun(`
        const { Database } = require("./bun.js");
        const db = new Database(${JSON.stringify(path)}, { readonly: true, strict: true });
        const count = db.query("SELECT count(*) AS n, count(DISTINCT batch) AS b FROM events");
        let last = 0, reads = 0, torn = 0;
        const deadline = Date.now() + 20000;
        while (Date.now() < deadline && reads < 400) {
          const { n, b } = count.get();
          if (n % 50 !== 0 || n < last || n / 50 !== b) torn++;
          last = n;
          reads++;
        }
        console.log(JSON.stringify({ reads, torn, readonlyRefused: (() => { try { db.run("DELETE FROM events"); return false } catch (e) { return e.code } })() }));
        db.close();
      `);
    const results = await Promise.all([writer, reader(), reader(), reader()]);
    for (const result of results) expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(JSON.parse(results[0].stdout)).toEqual({ n: 2000 });
    for (const result of results.slice(1)) {
      const { reads, torn, readonlyRefused } = JSON.parse(result.stdout);
      expect(reads).toBeGreaterThan(0);
      expect(torn).toBe(0);
      expect(readonlyRefused).toBe("SQLITE_READONLY");
    }
    const check = await bun(`
      const { Database } = require("./bun.js");
      const db = new Database(${JSON.stringify(path)});
      console.log(JSON.stringify([db.health().status, db.query("PRAGMA journal_mode").get()]));
    `);
    expect(JSON.parse(check.stdout)).toEqual(["healthy", { journal_mode: "wal" }]);
  }, 120_000);
});
