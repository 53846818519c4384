// db.transaction() called on the db inside a transaction callback of the same
// handle would queue behind the transaction holding the writer (and, awaited,
// wait until transactionTimeout): it fails at once with HARDENED_ASYNC_DEADLOCK.
// tx.transaction(), other handles, unrelated callers and code that runs after
// the transaction are not affected. Under Bun and under Node (AsyncLocalStorage).
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../../index.js";
import { tempDir, runScript } from "../helpers";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir("hs-async-nested")));
afterEach(() => tmp.cleanup());

/** The body of an async function of `HardenedDb` and `dir`; returns what it saw. */
const SCENARIO = `
  const migrations = [{ version: 1, name: 'init', sql: 'CREATE TABLE t (v)' }];
  // Without the check each refused call would wait the whole 20 s, failing the test's timeout.
  const db = await HardenedDb.openAsync(dir + '/app.db', { migrations, transactionTimeout: 20000 });
  const other = await HardenedDb.openAsync(dir + '/other.db', { migrations });
  const code = (promise) => promise.then(() => 'ran', (error) => error.code + ' ' + error.constructor.name);
  const seen = {};
  let later, notAwaited;
  await db.transaction(async (tx) => {
    await tx.run("INSERT INTO t VALUES ('outer')");
    const nested = await db.transaction(async (inner) => inner.run("INSERT INTO t VALUES ('nested')")).catch((e) => e);
    seen.nested = nested.code;
    seen.fix = /tx\\.transaction\\(fn\\)/.test(nested.message);
    // Not awaited: refused all the same (it could only run after this transaction).
    notAwaited = code(db.transaction((inner) => inner.run("INSERT INTO t VALUES ('nested')")));
    // Reads through db run on readers: the last committed state.
    seen.read = (await db.get('SELECT count(*) AS n FROM t')).n;
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.afterTimer = await code(db.transaction((inner) => inner.run("INSERT INTO t VALUES ('nested')")));
    // Another handle's transaction is not this one's writer.
    seen.otherHandle = await code(other.transaction((tx2) => tx2.run("INSERT INTO t VALUES ('other')")));
    await tx.transaction((inner) => inner.run("INSERT INTO t VALUES ('savepoint')"));
    // Started inside, runs after the transaction ended: allowed then.
    later = new Promise((resolve) => setTimeout(resolve, 30)).then(() => db.transaction((next) => next.run("INSERT INTO t VALUES ('later')")));
  });
  await later;
  seen.notAwaited = await notAwaited;
  // Unrelated callers still queue behind a running transaction, as before.
  const first = db.transaction(async (tx) => { await tx.run("INSERT INTO t VALUES ('first')"); await new Promise((r) => setTimeout(r, 20)); });
  const second = db.transaction((tx) => tx.run("INSERT INTO t VALUES ('second')"));
  await Promise.all([first, second]);
  seen.rows = (await db.all('SELECT v FROM t ORDER BY rowid')).map((r) => r.v);
  seen.otherRows = (await other.all('SELECT v FROM t')).map((r) => r.v);
  await db.close();
  await other.close();
  return seen;
`;

const DEADLOCK = "HARDENED_ASYNC_DEADLOCK HardenedDbError";
const EXPECTED = {
  nested: "HARDENED_ASYNC_DEADLOCK",
  fix: true,
  notAwaited: DEADLOCK,
  read: 0,
  afterTimer: DEADLOCK,
  otherHandle: "ran",
  rows: ["outer", "savepoint", "later", "first", "second"],
  otherRows: ["other"],
};

describe("db.transaction() called on the db inside its own transaction callback", () => {
  it("should fail at once with HARDENED_ASYNC_DEADLOCK under Bun", async () => {
    const run = new Function("HardenedDb", "dir", `return (async () => {${SCENARIO}})()`);
    expect(await run(HardenedDb, tmp.dir)).toEqual(EXPECTED);
  }, 60_000);

  it("should fail at once with HARDENED_ASYNC_DEADLOCK under Node", () => {
    const code = `const { HardenedDb } = require('./index.js');
      (async () => { const seen = await (async (dir) => {${SCENARIO}})(${JSON.stringify(tmp.dir)}); console.log(JSON.stringify(seen)); })()
        .catch((e) => { console.error(e); process.exitCode = 1; });`;
    const { status, stdout, stderr } = runScript(code, "node");
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual(EXPECTED);
  }, 60_000);
});
