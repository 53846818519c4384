// The lock-upgrade SQLITE_BUSY through each library, with two real processes:
// "first" reads a counter inside a transaction, "second" then writes it, and
// "first" writes what it read plus one. A transaction that took the write lock
// at BEGIN makes "second" wait and loses nothing (100 + 1 = 101); a deferred
// one lets "second" write in between and then fails with SQLITE_BUSY_SNAPSHOT.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { HardenedDb } from "../../index.js";
import { tempDir } from "../helpers";
import { BUN, NODE, run, lastJson } from "./processes";

const FIXTURES = join(import.meta.dir, "fixtures");

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("hs-lock");
});
afterEach(() => tmp.cleanup());

/** Runs both sides of `script` at once; returns their results and the counter's final value. */
async function race(script: string, firstBin: string, secondBin: string, extra: string[]) {
  const path = tmp.path("race.db");
  const setup = new HardenedDb(path);
  setup.exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0)");
  setup.close();
  const signals = tmp.path("signals");
  mkdirSync(signals);
  const file = join(FIXTURES, script);
  const [first, second] = await Promise.all([
    run(firstBin, [file, "first", path, signals, ...extra]),
    run(secondBin, [file, "second", path, signals, ...extra]),
  ]);
  const check = new HardenedDb(path, { readonly: true });
  const value = check.prepare("SELECT value FROM counter WHERE id = 1").pluck().get();
  check.close();
  return { first: lastJson(first), second: lastJson(second), value };
}

function expectSerialized(result: Awaited<ReturnType<typeof race>>) {
  expect(result.first).toEqual({ ok: true });
  expect(result.second.ok).toBe(true);
  expect(result.second.waitedMs).toBeGreaterThanOrEqual(150); // it waited for the write lock
  expect(result.value).toBe(101);
}

function expectSnapshotConflict(result: Awaited<ReturnType<typeof race>>) {
  expect(result.first).toEqual({ ok: false, code: "SQLITE_BUSY_SNAPSHOT" });
  expect(result.second.ok).toBe(true);
  expect(result.value).toBe(100);
}

describe("Kysely (bare `begin`), first process under Bun, second under Node", () => {
  it("should take the write lock at begin by default (upgradeDeferredBegin), so the writer waits", async () => {
    expectSerialized(await race("lock-kysely.mjs", BUN, NODE, ["default"]));
  });

  it("should fail with SQLITE_BUSY_SNAPSHOT with upgradeDeferredBegin: false", async () => {
    expectSnapshotConflict(await race("lock-kysely.mjs", BUN, NODE, ["off"]));
  });
});

describe("Drizzle through drizzle-orm/bun-sqlite, both processes under Bun", () => {
  it("should take the write lock with transaction(fn, { behavior: 'immediate' }), so the writer waits", async () => {
    expectSerialized(await race("lock-drizzle.mjs", BUN, BUN, ["bun-sqlite", "immediate", "off"]));
  });

  it("should take the write lock when no behavior is given (Drizzle asks for .deferred, upgraded by default)", async () => {
    expectSerialized(await race("lock-drizzle.mjs", BUN, BUN, ["bun-sqlite", "default", "default"]));
  });

  it("should fail with SQLITE_BUSY_SNAPSHOT with no behavior and upgradeDeferredBegin: false", async () => {
    expectSnapshotConflict(await race("lock-drizzle.mjs", BUN, BUN, ["bun-sqlite", "default", "off"]));
  });
});

describe("Drizzle through drizzle-orm/better-sqlite3, both processes under Node", () => {
  it("should take the write lock with transaction(fn, { behavior: 'immediate' }), so the writer waits", async () => {
    expectSerialized(await race("lock-drizzle.mjs", NODE, NODE, ["better-sqlite3", "immediate", "off"]));
  });

  it("should take the write lock when no behavior is given (Drizzle asks for .deferred, upgraded by default)", async () => {
    expectSerialized(await race("lock-drizzle.mjs", NODE, NODE, ["better-sqlite3", "default", "default"]));
  });

  it("should fail with SQLITE_BUSY_SNAPSHOT with no behavior and upgradeDeferredBegin: false", async () => {
    expectSnapshotConflict(await race("lock-drizzle.mjs", NODE, NODE, ["better-sqlite3", "default", "off"]));
  });
});
