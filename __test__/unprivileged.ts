// Runs a script as a user without root's permission bypass, so checks of
// directory and file permissions meet the kernel's real answer.
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, NODE, PACKAGE_ROOT } from "./helpers";

/** The uid the scripts run as: nobody (65534) when the tests run as root, else this user. */
export const UNPRIVILEGED_UID = process.getuid?.() === 0 ? 65534 : (process.getuid?.() ?? 0);

/**
 * Why unprivileged runs are impossible here, or null when they work: as root
 * they need setpriv(1) to drop to nobody.
 */
export const UNPRIVILEGED_UNAVAILABLE: string | null =
  process.getuid?.() !== 0 ? null : existsSync("/usr/bin/setpriv") || existsSync("/bin/setpriv") ? null
    : "running as root without setpriv(1), so no process without root's permission bypass can be started";

let staged: string | undefined;

/**
 * A copy of the package's runtime files in a world-readable temp directory:
 * the checkout itself may sit where nobody cannot read (under /root in CI).
 */
function stagedPackage(): string {
  if (staged !== undefined) return staged;
  const dir = mkdtempSync(join(tmpdir(), "hs-pkg-"));
  chmodSync(dir, 0o755);
  const files = ["index.js", "binding.js", "lib", ...readdirSync(PACKAGE_ROOT).filter((f) => f.endsWith(".node"))];
  for (const file of files) cpSync(join(PACKAGE_ROOT, file), join(dir, file), { recursive: true });
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  staged = dir;
  return dir;
}

/**
 * Runs `code` (CommonJS; `./index.js` is the package) as the unprivileged uid
 * and parses the JSON it prints. As root it runs under the machine's Node
 * through setpriv, from a world-readable copy of the package.
 */
export function runUnprivileged(code: string): { status: number | null; out: any; stderr: string } {
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", NODE, "-e", code], {
        cwd: stagedPackage(),
        encoding: "utf8",
        timeout: 60_000,
      })
    : spawnSync(BUN, ["-e", code], { cwd: PACKAGE_ROOT, encoding: "utf8", timeout: 60_000 });
  const last = result.stdout.trim().split("\n").pop() ?? "";
  let out: any = null;
  try {
    out = JSON.parse(last);
  } catch {
    out = { unparsed: result.stdout, stderr: result.stderr };
  }
  return { status: result.status, out, stderr: result.stderr };
}

/**
 * Script text that opens `path` with `options` and prints what happened as
 * JSON: `{ ok: true, ... }` or `{ ok: false, code, message, hardened }`.
 */
export function openScript(path: string, options: object = {}, after = "() => null"): string {
  return `
    const { HardenedDb, HardenedDbError } = require('./index.js');
    try {
      const db = new HardenedDb(${JSON.stringify(path)}, ${JSON.stringify(options)});
      const result = (${after})(db);
      db.close();
      console.log(JSON.stringify({ ok: true, uid: process.getuid(), result }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, uid: process.getuid(), code: e.hardenedCode ?? e.code, message: e.message, hardened: e instanceof HardenedDbError }));
    }`;
}
