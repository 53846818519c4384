#!/usr/bin/env bash
# Install test: what a user gets from the registry, on a machine with no Rust.
#
# 1. Packs the root package as it is published (`npm pack`, plus the
#    `optionalDependencies` on every platform package that `napi prepublish`
#    adds at release) and the linux-x64-gnu package with the binary built by
#    `npm run build`; prints the packed size of each.
# 2. In a fresh temporary project outside the repo, with no Rust on PATH,
#    installs the two tarballs with `bun add`, then (in another project) with
#    `npm install`, and runs a smoke program (ESM and CommonJS) under Bun,
#    under the machine's Node and under Node >= 22 (npm package `node`).
#
# Prints one line per check, "install-test: <installer> <runtime> <esm|cjs> ok"
# (or "FAILED" with the output), and exits non-zero if any failed.
# Bounded: every command runs under `timeout`; the whole takes well under a minute.
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BINARY="$REPO/hardened-sqlite.linux-x64-gnu.node"
BUN_BIN="$(readlink -f "$REPO/node_modules/.bin/bun")"
NODE_MACHINE="$(PATH="$(echo "$PATH" | tr ':' '\n' | grep -v node_modules | paste -sd:)" command -v node)"
NODE_22="$REPO/node_modules/node/bin/node"
STEP_LIMIT=180

die() { echo "install-test: $*" >&2; exit 1; }
[ -f "$BINARY" ] || die "no $BINARY: run \`npm run build\` first"
[ -x "$BUN_BIN" ] || die "no bun in node_modules: run \`npm ci\` first"
[ -x "$NODE_22" ] || die "no Node >= 22 at $NODE_22: run \`npm ci\` first"
[ -n "$NODE_MACHINE" ] || die "no node on PATH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hs-install-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
case "$WORK/" in "$REPO/"*) die "the temporary project must be outside the repo" ;; esac

# --- 1. pack ---------------------------------------------------------------
mkdir -p "$WORK/dist" "$WORK/stage" "$WORK/platform"
size_line() { # <pack --json output file>
  node -e 'const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const kb = (n) => (n / 1024).toFixed(1) + " KiB";
    console.log(`install-test: packed ${p.filename} ${kb(p.size)} (unpacked ${kb(p.unpackedSize)}, ${p.entryCount} files)`)' "$1"
}

# The root package as `files` whitelists it...
(cd "$REPO" && timeout $STEP_LIMIT npm pack --silent --pack-destination "$WORK/stage" > /dev/null) || die "npm pack of the root failed"
tar -xzf "$WORK"/stage/hardened-sqlite-*.tgz -C "$WORK/stage"
# ...with the optionalDependencies that `napi prepublish` adds at release.
node -e '
  const fs = require("fs"), path = require("path");
  const [manifest, npmDir] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
  pkg.optionalDependencies = {};
  for (const dir of fs.readdirSync(npmDir).sort()) {
    const platform = JSON.parse(fs.readFileSync(path.join(npmDir, dir, "package.json"), "utf8"));
    pkg.optionalDependencies[platform.name] = pkg.version;
  }
  fs.writeFileSync(manifest, JSON.stringify(pkg, null, 2) + "\n");
' "$WORK/stage/package/package.json" "$REPO/npm" || die "could not add optionalDependencies"
(cd "$WORK/stage/package" && timeout $STEP_LIMIT npm pack --json --pack-destination "$WORK/dist" > "$WORK/root.json") || die "npm pack of the staged root failed"
size_line "$WORK/root.json"

cp "$REPO/npm/linux-x64-gnu/package.json" "$REPO/npm/linux-x64-gnu/README.md" "$BINARY" "$WORK/platform/"
(cd "$WORK/platform" && timeout $STEP_LIMIT npm pack --json --pack-destination "$WORK/dist" > "$WORK/platform.json") || die "npm pack of linux-x64-gnu failed"
size_line "$WORK/platform.json"
ROOT_TGZ="$(ls "$WORK"/dist/hardened-sqlite-[0-9]*.tgz)"
PLATFORM_TGZ="$(ls "$WORK"/dist/hardened-sqlite-linux-x64-gnu-*.tgz)"

# --- 2. install and run, with no Rust on PATH -------------------------------
mkdir -p "$WORK/bin"
ln -s "$BUN_BIN" "$WORK/bin/bun"
ln -s "$NODE_MACHINE" "$WORK/bin/node"
CLEAN_PATH="$WORK/bin:$(echo "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e 'rustup' -e 'node_modules' | paste -sd:)"
for tool in cargo rustc rustup; do
  if PATH="$CLEAN_PATH" command -v "$tool" > /dev/null; then die "$tool is still on PATH ($(PATH="$CLEAN_PATH" command -v "$tool"))"; fi
done
echo "install-test: no cargo, rustc or rustup on PATH"

write_smoke() { # <project dir>
  cat > "$1/smoke.mjs" <<'EOF'
import HardenedDbDefault, { HardenedDb, SqliteError, sqliteVersion } from "hardened-sqlite";
import { check } from "./check.cjs";
check({ HardenedDb, SqliteError, sqliteVersion, defaultExport: HardenedDbDefault }, "esm");
EOF
  cat > "$1/smoke.cjs" <<'EOF'
const { HardenedDb, SqliteError, sqliteVersion } = require("hardened-sqlite");
const { check } = require("./check.cjs");
check({ HardenedDb, SqliteError, sqliteVersion, defaultExport: require("hardened-sqlite").default }, "cjs");
EOF
  cat > "$1/check.cjs" <<'EOF'
// Opens a database, writes, reads, fails on purpose, and checks where the
// package and its binary were installed.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const os = require("node:os");
exports.check = ({ HardenedDb, SqliteError, sqliteVersion, defaultExport }, kind) => {
  assert.equal(defaultExport, HardenedDb);
  const root = path.dirname(require.resolve("hardened-sqlite/package.json"));
  assert.ok(root.startsWith(path.join(__dirname, "node_modules")), `hardened-sqlite resolved outside the project: ${root}`);
  assert.ok(!fs.readdirSync(root).some((f) => f.endsWith(".node")), "the root package must not ship a binary");
  const binary = path.dirname(require.resolve("hardened-sqlite-linux-x64-gnu/package.json"));
  assert.ok(fs.existsSync(path.join(binary, "hardened-sqlite.linux-x64-gnu.node")));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hs-smoke-"));
  try {
    const db = new HardenedDb(path.join(dir, "app.db"));
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(fs.statSync(path.join(dir, "app.db")).mode & 0o777, 0o600);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL)");
    const insert = db.prepare("INSERT INTO users (email) VALUES (?)");
    db.transaction((emails) => { for (const e of emails) insert.run(e); })(["ada@example.com", "bob@example.com"]);
    assert.deepEqual(db.prepare("SELECT * FROM users WHERE email = :email").get({ email: "bob@example.com" }), { id: 2, email: "bob@example.com" });
    assert.throws(() => insert.run("ada@example.com"), (e) => e instanceof SqliteError && e.code === "SQLITE_CONSTRAINT_UNIQUE");
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const runtime = typeof Bun !== "undefined" ? `bun-${Bun.version}` : `node-${process.versions.node}`;
  console.log(`smoke ok ${runtime} ${kind} sqlite ${sqliteVersion()}`);
};
EOF
}

failures=0
checks=0
run_smokes() { # <installer> <project dir>
  local installer="$1" app="$2" runtime bin kind out
  for runtime in bun node node22; do
    case "$runtime" in bun) bin=bun ;; node) bin=node ;; node22) bin="$NODE_22" ;; esac
    for kind in esm cjs; do
      checks=$((checks + 1))
      local file="smoke.mjs"; [ "$kind" = cjs ] && file="smoke.cjs"
      if out="$(cd "$app" && PATH="$CLEAN_PATH" timeout $STEP_LIMIT "$bin" "$file" 2>&1)" && grep -q '^smoke ok' <<< "$out"; then
        echo "install-test: $installer $runtime $kind ok ($(grep '^smoke ok' <<< "$out" | cut -d' ' -f3))"
      else
        failures=$((failures + 1))
        echo "install-test: $installer $runtime $kind FAILED"
        sed 's/^/    /' <<< "$out"
      fi
    done
  done
}

new_project() { # <dir>
  mkdir -p "$1"
  printf '{\n  "name": "hs-install-test",\n  "private": true\n}\n' > "$1/package.json"
  write_smoke "$1"
}

new_project "$WORK/bun-app"
if out="$(cd "$WORK/bun-app" && PATH="$CLEAN_PATH" timeout $STEP_LIMIT bun add "$ROOT_TGZ" "$PLATFORM_TGZ" 2>&1)"; then
  echo "install-test: bun add of both tarballs ok"
  run_smokes "bun-add" "$WORK/bun-app"
else
  failures=$((failures + 1))
  echo "install-test: bun add FAILED"
  sed 's/^/    /' <<< "$out"
fi

new_project "$WORK/npm-app"
if out="$(cd "$WORK/npm-app" && PATH="$CLEAN_PATH" timeout $STEP_LIMIT npm install --no-audit --no-fund "$ROOT_TGZ" "$PLATFORM_TGZ" 2>&1)"; then
  echo "install-test: npm install of both tarballs ok"
  run_smokes "npm-install" "$WORK/npm-app"
else
  failures=$((failures + 1))
  echo "install-test: npm install FAILED"
  sed 's/^/    /' <<< "$out"
fi

echo "install-test: $checks smoke runs, $failures failures"
[ "$failures" -eq 0 ]
