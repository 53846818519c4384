// How result rows travel from native code to JS (src/values.rs, lib/rows.js):
// results larger than one chunk of the scratch buffer, BLOBs and strings of
// every size, integers at the edges, batched iteration (errors at the right
// row, other statements inside the loop), re-entrancy, and the same results on
// Node (Node-API strings) as on Bun (strings decoded from bytes).
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, SqliteError } from "../index.js";
import { runScript, thrown } from "./helpers";

let db: HardenedDb;
beforeEach(() => {
  db = new HardenedDb(":memory:");
});
afterEach(() => db.close());

/** `count` rows `(id, n, label)` in table `t`. */
function fill(count: number) {
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, label TEXT)");
  const insert = db.prepare("INSERT INTO t (id, n, label) VALUES (?, ?, ?)");
  db.transaction(() => {
    for (let i = 1; i <= count; i++) insert.run(i, i * 3, `row ${i}`);
  })();
}

describe("results larger than one chunk", () => {
  it("should return every row of all(), values() and iterate() in order", () => {
    fill(5000); // 15,000 cells: several chunks
    const expected = Array.from({ length: 5000 }, (_, k) => ({ id: k + 1, n: (k + 1) * 3, label: `row ${k + 1}` }));
    const stmt = db.prepare("SELECT id, n, label FROM t ORDER BY id");
    expect(stmt.all()).toEqual(expected);
    expect(stmt.values()).toEqual(expected.map((r) => [r.id, r.n, r.label]));
    expect([...stmt.iterate()]).toEqual(expected);
    expect(stmt.pluck().all()).toEqual(expected.map((r) => r.id));
    expect(stmt.raw().all()[4999]).toEqual([5000, 15000, "row 5000"]);
  });

  it("should keep bigints through every chunk with safeIntegers", () => {
    fill(3000);
    const rows = db.prepare("SELECT n FROM t ORDER BY id").safeIntegers().pluck().all();
    expect(rows.length).toBe(3000);
    expect(rows[0]).toBe(3n);
    expect(rows[2999]).toBe(9000n);
  });
});

describe("BLOBs", () => {
  it("should return each BLOB as its own Buffer", () => {
    const [a, b] = db.prepare("SELECT x'00ff10' AS a, x'' AS b").raw().get() as [Buffer, Buffer];
    expect(Buffer.isBuffer(a)).toBe(true);
    expect([...a]).toEqual([0, 255, 16]);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(3);
    expect(Buffer.isBuffer(b)).toBe(true);
    expect(b.length).toBe(0);
  });

  it("should return many and large BLOBs intact", () => {
    db.exec("CREATE TABLE f (id INTEGER PRIMARY KEY, data BLOB)");
    const insert = db.prepare("INSERT INTO f (data) VALUES (?)");
    const blobs = [
      ...Array.from({ length: 400 }, (_, i) => Buffer.alloc(1000 + i, i & 255)), // 600 KB: several chunks
      Buffer.alloc(200_000, 7), // larger than one shared BLOB
    ];
    for (const blob of blobs) insert.run(blob);
    const rows = db.prepare("SELECT data FROM f ORDER BY id").pluck().all() as Buffer[];
    expect(rows.length).toBe(blobs.length);
    rows.forEach((row, i) => expect(row.equals(blobs[i])).toBe(true));
    const iterated = [...db.prepare("SELECT data FROM f ORDER BY id").pluck().iterate()] as Buffer[];
    iterated.forEach((row, i) => expect(row.equals(blobs[i])).toBe(true));
  });
});

describe("strings", () => {
  it("should decode ASCII, UTF-8, empty and large strings", () => {
    const big = "é".repeat(100_000);
    const row = db.prepare("SELECT 'plain' AS a, 'ünï 🎉 中文' AS b, '' AS c, ? AS d").get(big);
    expect(row).toEqual({ a: "plain", b: "ünï 🎉 中文", c: "", d: big });
  });

  it("should replace invalid UTF-8 rather than fail", () => {
    const text = db.prepare("SELECT CAST(x'41ff42' AS TEXT) AS t").pluck().get() as string;
    expect(text.startsWith("A")).toBe(true);
    expect(text.endsWith("B")).toBe(true);
    expect(text).toContain("\ufffd");
  });
});

describe("numbers", () => {
  it("should return integers up to ±(2^53 - 1) as numbers and refuse larger ones", () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(db.prepare("SELECT ? AS a, ? AS b, -0.0 AS c, 0.5 AS d").get(max, -max)).toEqual({ a: max, b: -max, c: -0, d: 0.5 });
    const e = thrown(() => db.prepare("SELECT 9007199254740992 AS v").get());
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe("HARDENED_INTEGER_OVERFLOW");
  });

  it("should report lastInsertRowid as a bigint with safeIntegers", () => {
    db.exec("CREATE TABLE k (id INTEGER PRIMARY KEY)");
    const insert = db.prepare("INSERT INTO k (id) VALUES (?)");
    expect(insert.run(5)).toEqual({ changes: 1, lastInsertRowid: 5 });
    expect(insert.safeIntegers().run(2n ** 60n)).toEqual({ changes: 1, lastInsertRowid: 2n ** 60n });
  });
});

describe("iterate() in batches", () => {
  it("should throw a step error at the row that failed, after the rows before it", () => {
    fill(100);
    const stmt = db.prepare("SELECT CASE WHEN id = 20 THEN abs(-9223372036854775808) ELSE id END AS v FROM t ORDER BY id");
    const seen: number[] = [];
    const e = thrown(() => {
      for (const row of stmt.pluck().iterate()) seen.push(row as number);
    });
    expect(e).toBeInstanceOf(SqliteError);
    expect(seen).toEqual(Array.from({ length: 19 }, (_, k) => k + 1));
    expect(stmt.busy).toBe(false);
  });

  it("should throw an integer overflow at the row that holds it", () => {
    fill(30);
    const stmt = db.prepare("SELECT CASE WHEN id = 12 THEN 9007199254740993 ELSE id END AS v FROM t ORDER BY id");
    const seen: number[] = [];
    const e = thrown(() => {
      for (const row of stmt.pluck().iterate()) seen.push(row as number);
    });
    expect(e).toBeInstanceOf(RangeError);
    expect(seen.length).toBe(11);
    expect(stmt.pluck().all.bind(stmt)).toThrow(RangeError); // usable again
  });

  it("should let the loop body run other statements", () => {
    fill(200);
    const lookup = db.prepare("SELECT label, x'0102' AS b FROM t WHERE id = ?");
    let checked = 0;
    for (const row of db.prepare("SELECT id, label FROM t ORDER BY id").iterate() as Iterable<{ id: number; label: string }>) {
      const other = lookup.get(201 - row.id) as { label: string; b: Buffer };
      expect(other.label).toBe(`row ${201 - row.id}`);
      expect(row.label).toBe(`row ${row.id}`);
      checked++;
    }
    expect(checked).toBe(200);
  });

  it("should refuse to change the row format or integer mode while iterating", () => {
    fill(10);
    const stmt = db.prepare("SELECT id FROM t");
    const it = stmt.iterate();
    it.next();
    for (const change of [() => stmt.raw(), () => stmt.pluck(), () => stmt.expand(), () => stmt.safeIntegers()]) {
      const e = thrown(change);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_STATEMENT_BUSY");
    }
    it.return?.(undefined);
    expect(stmt.pluck().get()).toBe(1);
  });
});

describe("re-entrancy", () => {
  it("should let a named-parameter getter run another statement but not the same one", () => {
    fill(3);
    const other = db.prepare("SELECT label FROM t WHERE id = ?").pluck();
    const stmt = db.prepare("SELECT n FROM t WHERE id = $id").pluck();
    const viaOther = {
      get id() {
        return other.get(2) === "row 2" ? 3 : 1;
      },
    };
    expect(stmt.get(viaOther)).toBe(9);
    const viaSame = {
      get id() {
        return stmt.get({ id: 1 });
      },
    };
    const e = thrown(() => stmt.get(viaSame));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe("HARDENED_STATEMENT_BUSY");
    expect(stmt.get({ id: 2 })).toBe(6);
  });

  it("should refuse the hot functions without the id of a live statement", () => {
    const { NativeStatement } = require("../binding.js");
    const hot = NativeStatement.hotFunctions(typeof Bun !== "undefined");
    for (const id of [{}, "1", 2 ** 31, -1]) expect(thrown(() => hot.get(id, () => []))).toBeInstanceOf(TypeError);
  });
});

describe("the scratch buffer", () => {
  it("should survive JS detaching it (results break, the process does not)", () => {
    const script = `
      const { HardenedDb } = require('./index.js');
      const { NativeStatement } = require('./binding.js');
      const db = new HardenedDb(':memory:');
      const scratch = NativeStatement.scratch();
      try { structuredClone(scratch, { transfer: [scratch] }); } catch {} // Bun refuses: external buffer
      try { scratch.transfer(); } catch {}
      for (let i = 0; i < 3; i++) {
        try { db.prepare("SELECT 1 AS a, x'0102' AS b, 'text' AS c").get(); } catch {}
        try { db.prepare('SELECT 1').run(); } catch {}
      }
      console.log('alive');
    `;
    for (const runtime of ["bun", "node"] as const) {
      const { status, stdout } = runScript(script, runtime);
      expect(stdout.trim()).toBe("alive");
      expect(status).toBe(0);
    }
  });

  it("should give each worker thread its own", () => {
    const body = `
      const { Worker } = require('worker_threads');
      const code = \`
        const { parentPort, workerData } = require('worker_threads');
        const { HardenedDb } = require(workerData.root + '/index.js');
        const db = new HardenedDb(':memory:');
        let ok = true;
        for (let round = 0; round < 20; round++) {
          const rows = db.prepare("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 500) SELECT n, ? || n AS s, zeroblob(n % 7) AS b FROM s").all(workerData.tag);
          ok = ok && rows.length === 500 && rows.every((r) => r.s === workerData.tag + r.n && r.b.length === r.n % 7);
        }
        db.close();
        parentPort.postMessage(ok);
      \`;
      const runs = ['a', 'b', 'c'].map((tag) => new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { root: process.cwd(), tag } });
        w.on('message', resolve); w.on('error', reject);
      }));
      Promise.all(runs).then((oks) => console.log(oks.every(Boolean) ? 'ok' : 'wrong'), (e) => console.log('error ' + e.message));
    `;
    for (const runtime of ["bun", "node"] as const) {
      const { stdout, stderr } = runScript(body, runtime);
      expect(stderr).toBe("");
      expect(stdout.trim()).toBe("ok");
    }
  });
});

describe("Node and Bun", () => {
  it("should return the same rows on both runtimes", () => {
    const script = `
      const { HardenedDb } = require('./index.js');
      const db = new HardenedDb(':memory:');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, r REAL, s TEXT, b BLOB)');
      const insert = db.prepare('INSERT INTO t (n, r, s, b) VALUES (?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 3000; i++) {
          const s = i % 3 === 0 ? 'ascii ' + i : i % 3 === 1 ? 'ünï 🎉 ' + i : '';
          insert.run(i * 1000003, i / 7, s, i % 5 === 0 ? null : Buffer.alloc(i % 700, i & 255));
        }
        db.exec("INSERT INTO t (s) VALUES (CAST(x'41ff42' AS TEXT)), (?)".replace('?', "'" + 'x'.repeat(70000) + "'"));
      })();
      const show = (v) => Buffer.isBuffer(v) ? 'b:' + v.toString('hex') : typeof v === 'bigint' ? 'n:' + v : v;
      const dump = (rows) => JSON.stringify(rows.map((r) => Array.isArray(r) ? r.map(show) : Object.values(r).map(show)));
      const stmt = db.prepare('SELECT * FROM t ORDER BY id');
      const digest = require('crypto').createHash('sha256')
        .update(dump(stmt.all())).update(dump(stmt.values())).update(dump([...stmt.iterate()]))
        .update(dump(db.prepare('SELECT * FROM t ORDER BY id').safeIntegers().all()))
        .update(dump([db.prepare('SELECT * FROM t WHERE id = ?').raw().get(2)]))
        .digest('hex');
      console.log(digest);
    `;
    const onBun = runScript(script, "bun");
    const onNode = runScript(script, "node");
    expect(onBun.stderr).toBe("");
    expect(onNode.stderr).toBe("");
    expect(onBun.status).toBe(0);
    expect(onNode.stdout).toBe(onBun.stdout);
    expect(onBun.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  });
});
