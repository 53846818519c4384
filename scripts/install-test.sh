#!/usr/bin/env bash
# Install test: what a user gets from the registry, on a machine with no Rust.
#
# 1. Packs the root package (`npm pack`: what `files` whitelists, with its
#    `optionalDependencies` on every platform package) and the linux-x64-gnu
#    package with the binary built by `npm run build`; prints the packed size of each.
# 2. In a fresh temporary project outside the repo, with no Rust on PATH,
#    installs the two tarballs with `bun add`, then (in another project) with
#    `npm install`, and runs a smoke program (ESM and CommonJS) under Bun,
#    under the machine's Node and under Node >= 22 (npm package `node`).
# 3. In a fresh app whose "better-sqlite3" dependency is the root tarball (the published form is
#    "npm:hardened-sqlite@^0.1.0") plus `"overrides": { "better-sqlite3": "$better-sqlite3" }`,
#    installs knex, TypeORM, Drizzle and Prisma (with @prisma/adapter-better-sqlite3) from the
#    registry, generates the Prisma Client offline, and runs scripts/alias-app.cjs under Bun, Node
#    and Node >= 22: "install-test: alias <identity|knex|typeorm|drizzle|prisma> <bun|node|node22> ok".
#
# Prints one line per check, "install-test: <installer> <runtime> <esm|cjs> ok"
# (or "FAILED" with the output), and exits non-zero if any failed.
# Bounded: every command runs under `timeout`; the whole takes about a minute (two with a cold npm cache).
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
# HS_INSTALL_TEST_BINARY: another build of the binary to ship (e.g. a release build for glibc 2.17).
BINARY="${HS_INSTALL_TEST_BINARY:-$REPO/hardened-sqlite.linux-x64-gnu.node}"
BUN_BIN="$(readlink -f "$REPO/node_modules/.bin/bun")"
NODE_MACHINE="$(PATH="$(echo "$PATH" | tr ':' '\n' | grep -v node_modules | paste -sd:)" command -v node)"
NODE_22="$REPO/node_modules/node/bin/node"
STEP_LIMIT=180

die() { echo "install-test: $*" >&2; exit 1; }
[ -f "$BINARY" ] || die "no $BINARY: run \`npm run build\` first"
[ -x "$BUN_BIN" ] || die "no bun in node_modules: run \`npm install\` first"
[ -x "$NODE_22" ] || die "no Node >= 22 at $NODE_22: run \`npm install\` first"
[ -n "$NODE_MACHINE" ] || die "no node on PATH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hs-install-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
case "$WORK/" in "$REPO/"*) die "the temporary project must be outside the repo" ;; esac

# --- 1. pack ---------------------------------------------------------------
mkdir -p "$WORK/dist" "$WORK/platform"
size_line() { # <pack --json output file>
  node -e 'const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const kb = (n) => (n / 1024).toFixed(1) + " KiB";
    console.log(`install-test: packed ${p.filename} ${kb(p.size)} (unpacked ${kb(p.unpackedSize)}, ${p.entryCount} files)`)' "$1"
}

# The root package exactly as `files` whitelists it (with its optionalDependencies on every platform package).
(cd "$REPO" && timeout $STEP_LIMIT npm pack --json --pack-destination "$WORK/dist" > "$WORK/root.json") || die "npm pack of the root failed"
size_line "$WORK/root.json"

cp "$REPO/npm/linux-x64-gnu/package.json" "$REPO/npm/linux-x64-gnu/README.md" "$WORK/platform/"
cp "$BINARY" "$WORK/platform/hardened-sqlite.linux-x64-gnu.node"
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

write_smoke() { # <project dir>: scripts/smoke.cjs, run on the installed package from ESM and CommonJS
  cp "$REPO/scripts/smoke.cjs" "$1/smoke-lib.cjs"
  cat > "$1/smoke.mjs" <<'EOF'
import HardenedDbDefault, * as hs from "hardened-sqlite";
import { check } from "./check.cjs";
check(hs, HardenedDbDefault, "esm");
EOF
  cat > "$1/smoke.cjs" <<'EOF'
const hs = require("hardened-sqlite");
const { check } = require("./check.cjs");
check(hs, hs.default, "cjs");
EOF
  cat > "$1/check.cjs" <<'EOF'
// Checks where the package and its binary were installed, then runs the smoke program.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { smoke } = require("./smoke-lib.cjs");
exports.check = (hs, defaultExport, kind) => {
  assert.equal(defaultExport, hs.HardenedDb);
  const root = path.dirname(require.resolve("hardened-sqlite/package.json"));
  assert.ok(root.startsWith(path.join(__dirname, "node_modules")), `hardened-sqlite resolved outside the project: ${root}`);
  assert.ok(!fs.readdirSync(root).some((f) => f.endsWith(".node")), "the root package must not ship a binary");
  assert.equal(Object.keys(require("hardened-sqlite/package.json").optionalDependencies).length, 7);
  const binary = path.dirname(require.resolve("hardened-sqlite-linux-x64-gnu/package.json"));
  assert.ok(fs.existsSync(path.join(binary, "hardened-sqlite.linux-x64-gnu.node")));
  smoke(hs);
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
        echo "install-test: $installer $runtime $kind ok ($(grep '^smoke ok' <<< "$out" | cut -d' ' -f3-5))"
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

# --- 3. the better-sqlite3 alias: knex, TypeORM, Drizzle and Prisma on hardened-sqlite ---
# A fresh app whose "better-sqlite3" dependency is the root tarball (published form:
# "npm:hardened-sqlite@^0.1.0") with the overrides entry that makes the libraries' ranges on
# better-sqlite3 (peer, or a dependency for @prisma/adapter-better-sqlite3) take it; the libraries
# come from the registry. Runs scripts/alias-app.cjs under each runtime:
# "install-test: alias <library> <runtime> ok".
ALIAS_START=$SECONDS
ALIAS_APP="$WORK/alias-app"
ALIAS_LIBS="identity knex typeorm drizzle prisma"
ALIAS_RUNTIMES="bun node node22"
mkdir -p "$ALIAS_APP"
cp "$REPO/scripts/alias-app.cjs" "$REPO/scripts/alias-app.prisma" "$ALIAS_APP/"
DRIZZLE_VERSION="$(node -p 'require(process.argv[1]).devDependencies["drizzle-orm"]' "$REPO/package.json")"
node -e '
  const [file, root, platform, drizzle] = process.argv.slice(1);
  require("fs").writeFileSync(file, JSON.stringify({
    name: "hs-alias-test",
    private: true,
    dependencies: {
      "better-sqlite3": `file:${root}`,
      "hardened-sqlite-linux-x64-gnu": `file:${platform}`,
      "knex": "3.3.0",
      "typeorm": "1.1.1",
      "reflect-metadata": "0.2.2",
      "drizzle-orm": drizzle,
      "prisma": "7.10.1",
      "@prisma/client": "7.10.0",
      "@prisma/adapter-better-sqlite3": "7.10.0",
    },
    overrides: { "better-sqlite3": "$better-sqlite3" },
  }, null, 2) + "\n");
' "$ALIAS_APP/package.json" "$ROOT_TGZ" "$PLATFORM_TGZ" "$DRIZZLE_VERSION"

# Prisma with no network but the registry's. `prisma generate` (prisma-client generator) runs no
# engine, but the CLI first makes sure Prisma's schema engine binary is there and downloads it from
# Prisma's own server if not (so would @prisma/engines' install script, where npm runs it).
# PRISMA_SCHEMA_ENGINE_BINARY, Prisma's setting for a custom engine, names this stub instead, which
# fails loudly if anything ever runs it. CHECKPOINT_DISABLE turns off the CLI's update check.
# The generated client is TypeScript: `bun build` bundles it to CommonJS (Prisma's runtime stays in
# node_modules) for the three runtimes.
ENGINE_STUB="$ALIAS_APP/schema-engine-offline"
printf '#!/bin/sh\necho "install-test: the Prisma schema engine is not available offline" >&2\nexit 1\n' > "$ENGINE_STUB"
chmod +x "$ENGINE_STUB"
export PRISMA_SCHEMA_ENGINE_BINARY="$ENGINE_STUB" CHECKPOINT_DISABLE=1
prisma_client() { # <app dir>
  (cd "$1" && timeout $STEP_LIMIT ./node_modules/.bin/prisma generate --schema alias-app.prisma) &&
    (cd "$1" && timeout $STEP_LIMIT bun build generated/prisma/client.ts --target=node --format=cjs \
      --packages=external --outfile=prisma-client.cjs)
}
# docs/orms.md's Prisma example (its one "```ts alias-app" block, which __test__/types.spec.ts leaves
# out), compiled with the repo's TypeScript against the generated client and Prisma's typings, with a
# misspelled adapter option that must not compile (the adapter's options are hardened-sqlite's, typed).
prisma_types() { # <app dir>
  node -e '
    const fs = require("fs");
    const blocks = [...fs.readFileSync(process.argv[1], "utf8").matchAll(/^```ts alias-app\n([\s\S]*?)^```$/gm)];
    if (blocks.length !== 1) throw new Error(`docs/orms.md has ${blocks.length} "ts alias-app" blocks, not 1`);
    fs.writeFileSync(process.argv[2], blocks[0][1]);
  ' "$REPO/docs/orms.md" "$1/docs-example.ts" || return 1
  cat > "$1/options-typed.ts" <<'EOF'
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
// @ts-expect-error: 'fileMod' is not an option of HardenedDbOptions ('fileMode' is)
export const adapter = new PrismaBetterSqlite3({ url: "file:app.db", fileMod: 0o600 });
EOF
  (cd "$1" && timeout $STEP_LIMIT node "$REPO/node_modules/typescript/bin/tsc" --noEmit --strict --target es2022 \
    --module preserve --moduleResolution bundler --allowImportingTsExtensions --skipLibCheck \
    --typeRoots "$REPO/node_modules/@types" --types node docs-example.ts options-typed.ts)
}

checks=$((checks + $(wc -w <<< "$ALIAS_LIBS") * $(wc -w <<< "$ALIAS_RUNTIMES") + 2)) # + prisma generate, prisma types
if out="$(cd "$ALIAS_APP" && PATH="$CLEAN_PATH" timeout $STEP_LIMIT npm install --no-audit --no-fund 2>&1)"; then
  echo "install-test: alias npm install ok (better-sqlite3 -> $(basename "$ROOT_TGZ"), $((SECONDS - ALIAS_START)) s)"
  if out="$(PATH="$CLEAN_PATH" prisma_client "$ALIAS_APP" 2>&1)"; then
    echo "install-test: alias prisma generate ok (no engine binary)"
    if out="$(PATH="$CLEAN_PATH" prisma_types "$ALIAS_APP" 2>&1)"; then
      echo "install-test: alias prisma types ok (docs/orms.md's example compiles, a misspelled option does not)"
    else
      failures=$((failures + 1))
      echo "install-test: alias prisma types FAILED"
      sed 's/^/    /' <<< "$out"
    fi
  else
    failures=$((failures + 2))
    echo "install-test: alias prisma generate FAILED (so no types check)"
    sed 's/^/    /' <<< "$out"
  fi
  for runtime in $ALIAS_RUNTIMES; do
    case "$runtime" in bun) bin=bun ;; node) bin=node ;; node22) bin="$NODE_22" ;; esac
    out="$(cd "$ALIAS_APP" && PATH="$CLEAN_PATH" timeout $STEP_LIMIT "$bin" alias-app.cjs "$runtime" 2>&1)"
    sed -e 's/^alias /install-test: alias /' <<< "$out"
    for lib in $ALIAS_LIBS; do
      grep -q "^alias $lib $runtime ok" <<< "$out" && continue
      failures=$((failures + 1))
      # A step that failed said so above, with its error; a missing line (the app died first) is said here.
      grep -q "^alias $lib $runtime " <<< "$out" || echo "install-test: alias $lib $runtime FAILED (no result: the app stopped first)"
    done
  done
else
  failures=$((failures + $(wc -w <<< "$ALIAS_LIBS") * $(wc -w <<< "$ALIAS_RUNTIMES") + 2))
  echo "install-test: alias npm install FAILED"
  sed 's/^/    /' <<< "$out"
fi
echo "install-test: alias step took $((SECONDS - ALIAS_START)) s"

echo "install-test: $checks smoke runs, $failures failures"
[ "$failures" -eq 0 ]
