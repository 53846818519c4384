// The seed-style Bun program, on hardened-sqlite/bun: one writer process and three
// readonly reader processes (real Bun processes) on one file at once, written as a
// bun:sqlite app with only its import line changed, with the `db.run("PRAGMA ...")`
// lines Bun apps carry. Every acknowledged write must reach every reader, nothing may
// surface SQLITE_BUSY, the file must be 0600, and a weaker pragma must be refused.
import { describe, it, expect, afterAll } from "bun:test";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { tempDir, BUN, PACKAGE_ROOT } from "../helpers";

const tmp = tempDir("bunface-processes");
afterAll(() => tmp.cleanup());

/** Batches the writer commits, and the rows in each: bounded work for every process. */
const BATCHES = 200;
const ROWS_PER_BATCH = 20;

/** Runs `code` in a Bun process; resolves to its exit status and output (killed after 60 s). */
function runBun(code: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
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

/** The app's opening lines: the import (the only line changed from bun:sqlite) and its pragmas. */
const opening = (path: string, options: string, pragmas: string[]) => `
  const { Database } = require(${JSON.stringify(`${PACKAGE_ROOT}/bun.js`)}); // was: require("bun:sqlite")
  const db = new Database(${JSON.stringify(path)}, ${options});
  ${pragmas.map((p) => `db.run(${JSON.stringify(`PRAGMA ${p}`)});`).join("\n  ")}
`;

/** The pragma lines of a typical Bun app, run by the writer and by every reader alike. */
const APP_PRAGMAS = ["journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 5000", "foreign_keys = ON"];

describe("a writer and three readonly readers, each a Bun process", () => {
  it("should show every acknowledged write to every reader, surface no SQLITE_BUSY, and keep the file 0600", async () => {
    const path = tmp.path("app.db");
    const setup = await runBun(`${opening(path, "{ create: true }", APP_PRAGMAS)}
      db.run("CREATE TABLE batches (id INTEGER PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0)");
      db.run("CREATE TABLE events (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL REFERENCES batches(id), body TEXT NOT NULL)");
      db.close();`);
    expect({ status: setup.status, stderr: setup.stderr }).toEqual({ status: 0, stderr: "" });

    const writer = runBun(`${opening(path, "{ strict: true }", APP_PRAGMAS)}
      const newBatch = db.query("INSERT INTO batches (id) VALUES ($id)");
      const insert = db.query("INSERT INTO events (batch, body) VALUES ($batch, $body)");
      const acknowledged = [];
      const write = db.transaction((n) => {
        newBatch.run({ id: n });
        const ids = [];
        for (let i = 0; i < ${ROWS_PER_BATCH}; i++) ids.push(Number(insert.run({ batch: n, body: "event " + i }).lastInsertRowid));
        return ids;
      });
      for (let n = 1; n <= ${BATCHES}; n++) acknowledged.push(...write(n)); // acknowledged once the commit returned
      db.run("INSERT INTO batches (id, done) VALUES (0, 1)");
      console.log(JSON.stringify({ acknowledged }));
      db.close();`);

    const reader = () => runBun(`${opening(path, "{ readonly: true, strict: true }", APP_PRAGMAS)}
      const count = db.query("SELECT count(*) AS n, count(DISTINCT batch) AS b FROM events");
      const finished = db.query("SELECT done FROM batches WHERE id = 0");
      let reads = 0, torn = 0;
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline && reads < 100000) {
        const { n, b } = count.get();
        if (n !== b * ${ROWS_PER_BATCH}) torn++; // a batch is one transaction: never seen in part
        reads++;
        if (finished.get()) break;
      }
      const ids = db.query("SELECT id FROM events ORDER BY id").values().map(([id]) => id);
      console.log(JSON.stringify({ reads, torn, finished: !!finished.get(), ids }));
      db.close();`);

    const results = await Promise.all([writer, reader(), reader(), reader()]);
    // Any error (SQLITE_BUSY included) would end a process with a stack on stderr and status 1.
    for (const result of results) expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    const { acknowledged } = JSON.parse(results[0].stdout);
    expect(acknowledged).toHaveLength(BATCHES * ROWS_PER_BATCH);
    for (const result of results.slice(1)) {
      const seen = JSON.parse(result.stdout);
      expect(seen.finished).toBe(true);
      expect(seen.torn).toBe(0);
      expect(seen.reads).toBeGreaterThan(0);
      expect(seen.ids).toEqual(acknowledged);
    }
    // The -wal and -shm are removed by the last close; the database file stays, private.
    expect(statSync(path).mode & 0o777).toBe(0o600);
  }, 120_000);

  it("should refuse a weaker pragma run by the app with HARDENED_WEAKER_PRAGMA, and keep the hardened value", async () => {
    const path = tmp.path("weaker.db");
    const app = await runBun(`${opening(path, "{}", APP_PRAGMAS)}
      const outcomes = {};
      for (const pragma of ["synchronous = OFF", "journal_mode = DELETE", "mmap_size = 268435456"]) {
        try {
          db.run("PRAGMA " + pragma);
          outcomes[pragma] = "applied";
        } catch (error) {
          outcomes[pragma] = [error.name, error.code];
        }
      }
      outcomes.after = db.query("SELECT * FROM pragma_synchronous, pragma_journal_mode").get();
      console.log(JSON.stringify(outcomes));
      db.close();`);
    expect({ status: app.status, stderr: app.stderr }).toEqual({ status: 0, stderr: "" });
    expect(JSON.parse(app.stdout)).toEqual({
      "synchronous = OFF": ["HardenedDbError", "HARDENED_WEAKER_PRAGMA"],
      "journal_mode = DELETE": ["HardenedDbError", "HARDENED_WEAKER_PRAGMA"],
      "mmap_size = 268435456": ["HardenedDbError", "HARDENED_WEAKER_PRAGMA"],
      after: { synchronous: 1, journal_mode: "wal" },
    });
  }, 60_000);
});
