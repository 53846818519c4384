// Shared test helpers: a fresh temporary directory per test, file modes, a
// read on a readonly connection, and running a script in a separate Bun or Node process.
import { mkdtempSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { expect } from "bun:test";
import { HardenedDb } from "../index.js";

/** What `read(db)` returns on a readonly connection to `path`, closed after. */
export function readOnly<T>(path: string, read: (db: any) => T): T {
  const db = new HardenedDb(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/**
 * Expects the file at `path` to hold `total` acknowledged increments of the
 * writer workers: the `counter` row at `total`, as many `log` rows, and an
 * intact file.
 */
export function expectCountedWrites(path: string, total: number) {
  const db = new HardenedDb(path);
  try {
    expect(db.prepare("SELECT value FROM counter").pluck().get()).toBe(total);
    expect(db.prepare("SELECT count(*) FROM log").pluck().get()).toBe(total);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  } finally {
    db.close();
  }
}

/** Absolute path of the package root (what `require("hardened-sqlite")` resolves to). */
export const PACKAGE_ROOT = resolve(import.meta.dir, "..");

/** A new empty directory under the system temp dir; removed by `cleanup()`. */
export function tempDir(tag = "hs"): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The permission bits of `path` (e.g. 0o600). */
export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Whether `path` exists. */
export const exists = existsSync;

/** Path of the bun binary running these tests. */
export const BUN = process.execPath;

/**
 * The machine's own Node (first `node` on PATH outside node_modules): under
 * `npm test`, node_modules/.bin comes first on PATH and holds the newer Node
 * of the devDependency `node`, while the suites must also prove the machine's.
 */
export const NODE: string = (() => {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  return "node";
})();

/** Runs `code` (CommonJS) in a fresh process of `runtime`; returns its exit status and output. */
export function runScript(code: string, runtime: "bun" | "node" = "bun", env: Record<string, string> = {}) {
  const bin = runtime === "bun" ? BUN : NODE;
  const result = spawnSync(bin, ["-e", code], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `scenario` (the body of `(Database) => { ...; return outcome }`) under Node with
 * better-sqlite3 and with hardened-sqlite; returns both outcomes, as JSON (bigints as "123n").
 */
export function oracle(scenario: string): { bs3: any; ours: any } {
  const code = `
    const run = (Database) => { ${scenario} };
    const json = (v) => JSON.parse(JSON.stringify(v, (k, x) => typeof x === 'bigint' ? x + 'n' : x));
    const out = {};
    for (const [name, path] of [['bs3', 'better-sqlite3'], ['ours', './index.js']]) {
      try { out[name] = json(run(require(path))) } catch (e) { out[name] = { threw: e.constructor.name + ': ' + e.message } }
    }
    console.log(JSON.stringify(out));
  `;
  const { status, stdout, stderr } = runScript(code, "node");
  if (status !== 0) throw new Error(`node exited ${status}: ${stderr}`);
  return JSON.parse(stdout);
}

/**
 * Runs `code` in a fresh process of `runtime` with the garbage collector exposed
 * (`globalThis.gc` on Node, `Bun.gc` on Bun), expects it to exit 0 with nothing on
 * stderr (no crash, no uncaught error), and returns its stdout.
 */
export function runCrashFree(runtime: "bun" | "node", code: string): string {
  const { status, stdout, stderr } = runScript(code, runtime, { NODE_OPTIONS: "--expose-gc" });
  expect({ status, stderr: status === 0 ? "" : stderr }).toEqual({ status: 0, stderr: "" });
  return stdout;
}

/** Runs `fn`, which must throw, and returns what it threw. */
export function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw, nothing was thrown");
}

/** Calls `fn` and returns the warnings it emitted through process.emitWarning. */
export function warningsOf(fn: () => void): { message: string; code?: string; type?: string }[] {
  const seen: { message: string; code?: string; type?: string }[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((message: string, options?: any) => {
    seen.push({ message: String(message), code: options?.code, type: options?.type });
  }) as typeof process.emitWarning;
  try {
    fn();
  } finally {
    process.emitWarning = original;
  }
  return seen;
}
