// hardened-sqlite/bun loads and behaves the same under Node 20 (the machine's
// `node`), Node 22 (the `node` npm package) and Bun, as CommonJS and as ESM,
// resolved through the package's `exports` ("hardened-sqlite/bun"). One small
// bun:sqlite program runs with its import line switched; under Bun with
// `bun:sqlite` it gives the expected output.
import { describe, it, expect, afterAll } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, BUN, NODE, PACKAGE_ROOT } from "../helpers";

const NODE22 = join(PACKAGE_ROOT, "node_modules", "node", "bin", "node");

const tmp = tempDir("bunface-runtimes");
afterAll(() => tmp.cleanup());

/** The program's body after its import line: what a small bun:sqlite app does, printed as JSON. */
const BODY = `
const db = new Database(process.argv[2], { strict: true });
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA busy_timeout = 5000");
db.run("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB)");
const add = db.transaction((titles) => titles.map((title) => db.query("INSERT INTO notes (title, body) VALUES ($title, $body)").run({ title, body: new Uint8Array([title.length]) })));
const inserted = add(["one", "three"]);
const row = db.query("SELECT * FROM notes WHERE title = $title").get({ title: "three" });
const missing = db.query("SELECT * FROM notes WHERE id = ?").get(99);
let error;
try { db.run("INSERT INTO notes (title) VALUES (NULL)"); } catch (e) { error = [e instanceof SQLiteError, e.code, e.errno]; }
// An in-memory database: bun:sqlite cannot deserialize the image of a WAL file ("unable to open database file").
const scratch = new Database();
scratch.run("CREATE TABLE notes (title TEXT)");
scratch.run("INSERT INTO notes VALUES ('a'), ('b')");
const copy = Database.deserialize(scratch.serialize());
const out = {
  inserted, missing, error,
  row: { id: row.id, title: row.title, body: [row.body.constructor.name, ...row.body] },
  copied: copy.query("SELECT count(*) AS n FROM notes").get(),
  defaultIsDatabase: typeof DefaultExport === "function" && DefaultExport === Database,
};
let weaker;
try { db.run("PRAGMA synchronous = OFF"); weaker = "applied"; } catch (e) { weaker = e.code; }
db.close();
console.log(JSON.stringify({ out, weaker }));
`;

/** The program as CommonJS or ESM, importing `from`. */
function program(kind: "cjs" | "mjs", from: string): string {
  const line = kind === "cjs"
    ? `const { Database, SQLiteError } = require(${JSON.stringify(from)}); const DefaultExport = require(${JSON.stringify(from)}).default;`
    : `import DefaultExport, { Database, SQLiteError } from ${JSON.stringify(from)};`;
  return `${line}\n${BODY}`;
}

/** Writes the program into an app dir where `hardened-sqlite` resolves to this package, and runs it. */
function run(runtime: string, kind: "cjs" | "mjs", from: string) {
  const app = join(tmp.dir, `${from.replace(/\W/g, "-")}-${kind}-${runtime.replace(/\W/g, "-")}`);
  mkdirSync(join(app, "node_modules"), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(app, "node_modules", "hardened-sqlite"));
  const file = join(app, `app.${kind}`);
  writeFileSync(file, program(kind, from));
  const result = spawnSync(runtime, [file, join(app, "app.db")], { cwd: app, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stderr: result.stderr, output: result.status === 0 ? JSON.parse(result.stdout) : result.stdout };
}

const EXPECTED = {
  inserted: [{ changes: 1, lastInsertRowid: 1 }, { changes: 1, lastInsertRowid: 2 }],
  missing: null,
  error: [true, "SQLITE_CONSTRAINT_NOTNULL", 1299],
  row: { id: 2, title: "three", body: ["Uint8Array", 5] },
  copied: { n: 2 },
  defaultIsDatabase: true,
};

describe("the same bun:sqlite program, import line switched", () => {
  it("should give the expected output on bun:sqlite itself (the reference)", () => {
    for (const kind of ["cjs", "mjs"] as const) {
      const peer = run(BUN, kind, "bun:sqlite");
      expect({ status: peer.status, stderr: peer.stderr }).toEqual({ status: 0, stderr: "" });
      // bun:sqlite applies synchronous = OFF; the hardened face refuses it (HARDENED_WEAKER_PRAGMA).
      expect(peer.output).toEqual({ out: EXPECTED, weaker: "applied" });
    }
  });

  for (const [name, runtime] of [["Bun", BUN], ["Node 20 (node)", NODE], ["Node 22 (npm package node)", NODE22]]) {
    for (const kind of ["cjs", "mjs"] as const) {
      it(`should give the same output with hardened-sqlite/bun under ${name}, ${kind === "cjs" ? "CommonJS" : "ESM"}`, () => {
        const ours = run(runtime, kind, "hardened-sqlite/bun");
        expect({ status: ours.status, stderr: ours.stderr }).toEqual({ status: 0, stderr: "" });
        expect(ours.output).toEqual({ out: EXPECTED, weaker: "HARDENED_WEAKER_PRAGMA" });
      });
    }
  }
});
