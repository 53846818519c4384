// Builds __test__/fixtures/extension.c into a loadable SQLite extension for
// the loadExtension() tests, with the sqlite3ext.h of the bundled SQLite
// (libsqlite3-sys, in the cargo registry once `cargo build` has run).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PACKAGE_ROOT } from "./helpers";

/** The version of libsqlite3-sys that Cargo.lock pins. */
function lockedVersion(): string | undefined {
  const lock = readFileSync(join(PACKAGE_ROOT, "Cargo.lock"), "utf8");
  return /name = "libsqlite3-sys"\nversion = "([^"]+)"/.exec(lock)?.[1];
}

/** The directory holding the sqlite3ext.h of the bundled SQLite, if any. */
export function sqliteHeaders(): string | undefined {
  const registry = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "registry", "src");
  if (!existsSync(registry)) return undefined;
  const wanted = `libsqlite3-sys-${lockedVersion()}`;
  for (const index of readdirSync(registry)) {
    const dir = join(registry, index, wanted, "sqlite3");
    if (existsSync(join(dir, "sqlite3ext.h"))) return dir;
  }
  return undefined;
}

/** Whether a C compiler is on PATH. */
export const HAS_CC = spawnSync("cc", ["--version"]).status === 0;

/** Compiles the fixture to `out` (a `.so` path); throws with the compiler's output on failure. */
export function buildExtension(out: string): string {
  const headers = sqliteHeaders();
  if (!headers) throw new Error("sqlite3ext.h of libsqlite3-sys not found in the cargo registry: run `cargo build` first");
  const cc = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-I", headers, "-o", out, join(PACKAGE_ROOT, "__test__/fixtures/extension.c")], {
    encoding: "utf8",
  });
  if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
  return out;
}
