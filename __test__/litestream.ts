// The real Litestream binary and the S3 test server, as scripts/install-replication-tools.sh
// installs them into .tmp/venv (CI and `npm test` both run it), and the steps the
// replication suites share: start Litestream with umask 077, wait (bounded) for it to
// attach, run writers that print each acknowledged row, stop, restore and read back.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { HardenedDb } from "../index.js";
import { NODE, PACKAGE_ROOT } from "./helpers";

const VENV_BIN = join(PACKAGE_ROOT, ".tmp/venv/bin");
/** The pinned Litestream binary. */
export const LITESTREAM = join(VENV_BIN, "litestream");
/** The pinned moto S3 server. */
export const MOTO_SERVER = join(VENV_BIN, "moto_server");
/** The CLI under test. */
export const CLI = join(PACKAGE_ROOT, "bin/hardened-sqlite.js");
const WRITER = join(PACKAGE_ROOT, "__test__/workers/replicated-writer.cjs");

/** Fails loudly (never skips) when the tools are missing. */
export function requireTools(): void {
  for (const tool of [LITESTREAM, MOTO_SERVER]) {
    if (!existsSync(tool)) {
      throw new Error(`${tool} is missing: run \`bash scripts/install-replication-tools.sh\` (npm test and .ci/run do)`);
    }
  }
}

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `ready` every 50 ms until it is true; throws `what` after `ms`. */
export async function waitFor(what: string | (() => string), ready: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline && i < ms / 50 + 1; i++) {
    if (ready()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`);
}

/** A Litestream config for `db` with one replica (YAML as JSON, which YAML reads). */
export function writeConfig(path: string, db: string, replica: Record<string, string | boolean>): void {
  const config = { dbs: [{ path: db, "monitor-interval": "100ms", replicas: [{ "sync-interval": "100ms", ...replica }] }] };
  writeFileSync(path, JSON.stringify(config, null, 2));
}

/** A running `litestream replicate`, with its log so far. */
export type Replicator = { child: ChildProcess; log: () => string; exited: Promise<number | null> };

/** The environment Litestream runs in: no AWS_CA_BUNDLE (moto speaks plain HTTP). */
function litestreamEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  return env;
}

/** Starts `litestream replicate -config config` under umask 077, as docs/replication.md says. */
export function startLitestream(config: string): Replicator {
  const child = spawn("sh", ["-c", 'umask 077 && exec "$0" replicate -config "$1"', LITESTREAM, config], {
    env: litestreamEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, log: () => log, exited };
}

/**
 * Waits until Litestream has attached to `db`: it logged that it replicates (so its
 * signal handlers are set), the database has its `_litestream_seq` table, and
 * `health()` sees its WAL read lock (it opened the database; a restarted Litestream
 * reuses the table, so the table alone proves nothing).
 */
export async function waitForAttach(db: string, replicator: Replicator): Promise<void> {
  await waitFor(() => `Litestream to attach to ${db}; its log:\n${replicator.log()}`, () => {
    if (replicator.child.exitCode !== null) throw new Error(`litestream exited with ${replicator.child.exitCode}:\n${replicator.log()}`);
    if (!existsSync(db) || !replicator.log().includes('msg="replicating to"')) return false;
    const probe = new HardenedDb(db, { readonly: true, fileMustExist: true, replication: "litestream" });
    try {
      const running = probe.health().checks.find((c: any) => c.name === "replication.running")!.actual;
      return running.startsWith("a WAL read lock held by another process") && running.endsWith("_litestream_seq, _litestream_lock");
    } finally {
      probe.close();
    }
  });
}

/** Sends SIGTERM and waits (bounded) for the exit code. */
export async function stopLitestream(replicator: Replicator, ms = 20_000): Promise<number | null> {
  replicator.child.kill("SIGTERM");
  const timeout = sleep(ms).then(() => "timeout" as const);
  const code = await Promise.race([replicator.exited, timeout]);
  if (code === "timeout") {
    replicator.child.kill("SIGKILL");
    throw new Error(`litestream did not exit within ${ms} ms of SIGTERM; its log:\n${replicator.log()}`);
  }
  return code;
}

/** The WARN and ERROR lines of a Litestream log. */
export const problems = (log: string) => log.split("\n").filter((line) => /level=(WARN|ERROR)/.test(line));

/** A writer process; `acked` fills with `writer:seq` as commits return. */
export type Writer = { child: ChildProcess; acked: Set<string>; exited: Promise<number | null>; stderr: () => string };

/** Starts a writer of `count` transactions (0: until killed), `pauseMs` apart, under Node. */
export function startWriter(db: string, name: string, count: number, pauseMs = 0): Writer {
  const child = spawn(NODE, [WRITER, db, name, String(count), String(pauseMs)], { cwd: PACKAGE_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const acked = new Set<string>();
  let pending = "";
  let stderr = "";
  child.stdout!.on("data", (d) => {
    const lines = (pending + d).split("\n");
    pending = lines.pop()!;
    for (const line of lines) if (line) acked.add(line);
  });
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, acked, exited, stderr: () => stderr };
}

/** Runs the CLI under Node; returns its exit status and output. */
export function cli(args: string[], cwd = PACKAGE_ROOT) {
  const result = spawnSync(NODE, [CLI, ...args], { cwd, encoding: "utf8", timeout: 60_000, env: litestreamEnv() });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every `writer:seq` in the `acked` table of `db`. */
export function rowsOf(db: string): Set<string> {
  const copy = new HardenedDb(db, { readonly: true, fileMustExist: true });
  try {
    const rows = copy.prepare("SELECT writer || ':' || seq FROM acked").pluck().all() as string[];
    return new Set(rows);
  } finally {
    copy.close();
  }
}

/** The acknowledged rows missing from `found`. */
export const missing = (acked: Iterable<string>, found: Set<string>) => [...acked].filter((row) => !found.has(row));
