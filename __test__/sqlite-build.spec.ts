// The bundled SQLite is built with better-sqlite3's compile options (issue #10;
// .cargo/config.toml): math functions, FTS4, GEOPOLY, LIKE that never matches a
// BLOB, no memory statistics, no shared cache, and the hardened pragma values as
// build defaults. Each feature is compared with better-sqlite3 12 running the same SQL.
import { describe, it, expect } from "bun:test";
import { oracle, runCrashFree } from "./helpers";

const Database = require("../index.js");

/** `PRAGMA compile_options` of a fresh connection. */
function compileOptions(): string[] {
  const db = new Database(":memory:");
  try {
    return db.pragma("compile_options").map((row: { compile_options: string }) => row.compile_options);
  } finally {
    db.close();
  }
}

describe("the SQLite build", () => {
  it("should give the same results as better-sqlite3 for math, FTS4, GEOPOLY and LIKE on BLOBs", () => {
    const { bs3, ours } = oracle(`
      const db = new Database(':memory:');
      db.exec("CREATE VIRTUAL TABLE notes USING fts4(body); INSERT INTO notes VALUES ('hardened sqlite'), ('plain text')");
      return {
        math: db.prepare('SELECT pow(2, 10) AS p, round(acos(-1), 6) AS pi, log10(1000) AS l, floor(2.7) AS f').get(),
        fts4: db.prepare("SELECT body FROM notes WHERE notes MATCH 'hardened'").all(),
        geopoly: db.prepare('SELECT round(geopoly_area(geopoly_regular(0, 0, 1, 4)), 6) AS area').get(),
        likeBlob: db.prepare("SELECT x'61' LIKE 'a' AS blob, 'a' LIKE 'a' AS text").get(),
      };
    `);
    expect(ours).toEqual(bs3);
    expect(ours.math).toEqual({ p: 1024, pi: 3.141593, l: 3, f: 2 });
    expect(ours.fts4).toEqual([{ body: "hardened sqlite" }]);
    expect(ours.likeBlob).toEqual({ blob: 0, text: 1 });
  });

  it("should be built with better-sqlite3's safety and speed options", () => {
    const options = compileOptions();
    for (const option of [
      "DQS=0", "DEFAULT_MEMSTATUS=0", "OMIT_SHARED_CACHE", "LIKE_DOESNT_MATCH_BLOBS", "THREADSAFE=2",
      "ENABLE_MATH_FUNCTIONS", "ENABLE_FTS4", "ENABLE_FTS5", "ENABLE_GEOPOLY", "ENABLE_RTREE",
      "DEFAULT_FILE_PERMISSIONS=0600",
    ]) {
      expect(options).toContain(option);
    }
    expect(options.some((o) => o.startsWith("USE_URI"))).toBe(false);
  });

  it("should start connections with the hardened pragma values as the build defaults", () => {
    // The open sequence reads every value back and sets only those that differ
    // (src/pragmas.rs `ensure`), so these defaults spare it a statement each.
    const options = compileOptions();
    for (const option of [
      "DEFAULT_SYNCHRONOUS=1", "DEFAULT_WAL_SYNCHRONOUS=1", "DEFAULT_FOREIGN_KEYS",
      "DEFAULT_CACHE_SIZE=-16000", "DEFAULT_JOURNAL_SIZE_LIMIT=67108864",
    ]) {
      expect(options).toContain(option);
    }
  });

  it("should allocate SQLite's memory with mimalloc, on Node, on Bun and in a worker thread", () => {
    // A worker loads the addon again; SQLite is configured once per process, before its first use.
    const code = `
      const { Worker } = require('worker_threads');
      const { sqliteAllocator } = require('./binding.js');
      const { HardenedDb } = require('./index.js');
      const db = new HardenedDb(':memory:');
      db.exec("CREATE TABLE t (x); INSERT INTO t SELECT value FROM json_each('[1,2,3]')");
      const main = { allocator: sqliteAllocator(), sum: db.prepare('SELECT sum(x) AS s FROM t').get().s };
      const worker = new Worker(\`
        const { parentPort } = require('worker_threads');
        const { sqliteAllocator } = require(process.cwd() + '/binding.js');
        const { HardenedDb } = require(process.cwd() + '/index.js');
        const db = new HardenedDb(':memory:');
        parentPort.postMessage({ allocator: sqliteAllocator(), one: db.prepare('SELECT 1 AS one').get().one });
      \`, { eval: true });
      worker.on('message', (inWorker) => { console.log(JSON.stringify({ main, inWorker })); worker.terminate(); });
    `;
    for (const runtime of ["node", "bun"] as const) {
      expect(JSON.parse(runCrashFree(runtime, code))).toEqual({
        main: { allocator: "mimalloc", sum: 6 },
        inWorker: { allocator: "mimalloc", one: 1 },
      });
    }
  });
});
