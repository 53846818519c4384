// Packaging: the per-platform npm/ packages match package.json's napi targets
// and the generated loader, the ESM and CommonJS entry points agree, `files`
// ships what the package needs, and scripts/install-test.sh installs the
// packed tarballs with bun and npm and runs them under Bun, Node and Node >= 22, and
// runs knex, TypeORM, Drizzle and Prisma (@prisma/adapter-better-sqlite3) under the same three
// runtimes in an app that installs the root tarball as "better-sqlite3".
import { describe, it, expect, beforeAll } from "bun:test";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PACKAGE_ROOT, NODE } from "./helpers";

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"));
const loader = readFileSync(join(PACKAGE_ROOT, "binding.js"), "utf8");

/** What napi-rs calls each target (the suffix of its package and binary). */
const PLATFORM: Record<string, { dir: string; os: string; cpu: string; libc?: string }> = {
  "x86_64-unknown-linux-gnu": { dir: "linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc" },
  "aarch64-unknown-linux-gnu": { dir: "linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc" },
  "x86_64-unknown-linux-musl": { dir: "linux-x64-musl", os: "linux", cpu: "x64", libc: "musl" },
  "aarch64-unknown-linux-musl": { dir: "linux-arm64-musl", os: "linux", cpu: "arm64", libc: "musl" },
  "x86_64-apple-darwin": { dir: "darwin-x64", os: "darwin", cpu: "x64" },
  "aarch64-apple-darwin": { dir: "darwin-arm64", os: "darwin", cpu: "arm64" },
  "x86_64-pc-windows-msvc": { dir: "win32-x64-msvc", os: "win32", cpu: "x64" },
};

describe("npm/<platform> packages", () => {
  it("should exist for every napi target and for nothing else", () => {
    const dirs = readdirSync(join(PACKAGE_ROOT, "npm")).sort();
    expect(dirs).toEqual(pkg.napi.targets.map((t: string) => PLATFORM[t].dir).sort());
  });

  for (const target of Object.keys(PLATFORM)) {
    it(`should describe ${target} with os, cpu, libc, main and files, at the root's version`, () => {
      const { dir, os, cpu, libc } = PLATFORM[target];
      const platform = JSON.parse(readFileSync(join(PACKAGE_ROOT, "npm", dir, "package.json"), "utf8"));
      const binary = `${pkg.napi.binaryName}.${dir}.node`;
      expect(platform.name).toBe(`${pkg.name}-${dir}`);
      expect(platform.version).toBe(pkg.version);
      expect(platform.os).toEqual([os]);
      expect(platform.cpu).toEqual([cpu]);
      if (libc) expect(platform.libc).toEqual([libc]);
      else expect(platform.libc).toBeUndefined();
      expect(platform.main).toBe(binary);
      expect(platform.files).toEqual([binary]);
      expect(platform.license).toBe(pkg.license);
      // The generated loader looks for exactly this package and file.
      expect(loader).toContain(`require('${platform.name}')`);
      expect(loader).toContain(`'./${binary}'`);
    });
  }
});

describe("package.json", () => {
  it("should list every platform package as an optionalDependency at the root's version", () => {
    const names = readdirSync(join(PACKAGE_ROOT, "npm")).map((dir) => `${pkg.name}-${dir}`).sort();
    expect(Object.keys(pkg.optionalDependencies).sort()).toEqual(names);
    for (const name of names) expect(pkg.optionalDependencies[name]).toBe(pkg.version);
  });

  it("should ship the facade, the loader and the typings, and no binary", () => {
    for (const file of pkg.files) expect(existsSync(join(PACKAGE_ROOT, file))).toBe(true);
    expect(pkg.files).toEqual(expect.arrayContaining(["index.js", "index.mjs", "index.d.ts", "index.d.mts", "binding.js", "binding.d.ts", "lib/"]));
    expect(pkg.files.some((f: string) => f.endsWith(".node"))).toBe(false);
  });

  it("should map import and require to entry points and typings that exist", () => {
    const entry = pkg.exports["."];
    for (const target of [entry.import.default, entry.import.types, entry.require.default, entry.require.types]) {
      expect(existsSync(join(PACKAGE_ROOT, target))).toBe(true);
    }
    expect(entry.require.default).toBe(`./${pkg.main}`);
    expect(entry.require.types).toBe(`./${pkg.types}`);
  });
});

describe("entry points", () => {
  const names = (code: string, runtime: string) => {
    const out = spawnSync(runtime, ["--input-type=module", "-e", code], { cwd: PACKAGE_ROOT, encoding: "utf8" });
    if (out.status !== 0) throw new Error(out.stderr);
    return JSON.parse(out.stdout);
  };

  for (const [label, runtime] of [["Node", NODE], ["Bun", process.execPath]] as const) {
    it(`should export the same objects from import and require under ${label}, HardenedDb as default`, () => {
      const result = names(`
        import * as esm from "hardened-sqlite";
        import { createRequire } from "node:module";
        const cjs = createRequire(import.meta.url)("hardened-sqlite");
        const named = Object.keys(esm).filter((k) => k !== "default").sort();
        console.log(JSON.stringify({
          named,
          cjsNamed: Object.keys(cjs).filter((k) => k !== "default").sort(),
          same: named.every((k) => esm[k] === cjs[k]),
          defaults: esm.default === cjs.HardenedDb && cjs.default === cjs.HardenedDb,
        }));`, runtime);
      expect(result.named).toEqual(result.cjsNamed);
      expect(result.named).toContain("HardenedDb");
      expect(result.same).toBe(true);
      expect(result.defaults).toBe(true);
    });
  }
});

describe("scripts/install-test.sh (bun add / npm install of the packed tarballs, no Rust on PATH)", () => {
  let output = "";
  let status: number | null = null;
  beforeAll(() => {
    const run = spawnSync("bash", [join(PACKAGE_ROOT, "scripts", "install-test.sh")], { encoding: "utf8", timeout: 600_000 });
    output = `${run.stdout}\n${run.stderr}`;
    status = run.status;
  }, 600_000);

  it("should pack the root and the linux-x64-gnu package and report their sizes", () => {
    expect(output).toMatch(/install-test: packed hardened-sqlite-\d+\.\d+\.\d+\.tgz [\d.]+ KiB/);
    expect(output).toMatch(/install-test: packed hardened-sqlite-linux-x64-gnu-\d+\.\d+\.\d+\.tgz [\d.]+ KiB/);
    expect(output).toContain("install-test: no cargo, rustc or rustup on PATH");
  });

  for (const installer of ["bun-add", "npm-install"]) {
    for (const runtime of ["bun", "node", "node22"]) {
      for (const kind of ["esm", "cjs"]) {
        it(`should run the smoke program (${kind}) under ${runtime} after ${installer}`, () => {
          expect(output).toContain(`install-test: ${installer} ${runtime} ${kind} ok`);
        });
      }
    }
  }

  // A fresh app with "better-sqlite3" aliased to the root tarball (and the overrides entry):
  // knex, TypeORM, Drizzle and Prisma from the registry run on hardened-sqlite through their
  // better-sqlite3 drivers, under Bun, Node and Node >= 22 (scripts/alias-app.cjs).
  it("should install the root tarball under the name better-sqlite3 with knex, TypeORM, Drizzle and Prisma", () => {
    expect(output).toContain("install-test: alias npm install ok");
  });

  it("should generate the Prisma Client with no engine binary (the machine reaches only the registry)", () => {
    expect(output).toContain("install-test: alias prisma generate ok");
  });

  it("should compile docs/orms.md's Prisma example, and refuse a misspelled adapter option, with Prisma's typings", () => {
    expect(output).toContain("install-test: alias prisma types ok");
  });

  // The app checks that its label is the runtime running it (node22: Node >= 22) before saying ok.
  const aliasRuntimes = { bun: "Bun", node: "Node", node22: "Node" } as const;
  for (const [runtime, label] of Object.entries(aliasRuntimes)) {
    it(`should load hardened-sqlite, and never better-sqlite3's addon, through require('better-sqlite3') under ${runtime}`, () => {
      expect(output).toMatch(new RegExp(`install-test: alias identity ${runtime} ok \\(better-sqlite3 is hardened-sqlite@\\d+\\.\\d+\\.\\d+, under ${label}`));
    });

    for (const lib of ["knex", "typeorm", "drizzle"]) {
      it(`should run ${lib} through the better-sqlite3 alias under ${runtime}: table, insert, select, transaction`, () => {
        expect(output).toContain(`install-test: alias ${lib} ${runtime} ok`);
      });
    }

    it(`should run Prisma through @prisma/adapter-better-sqlite3 on the alias under ${runtime}: WAL, fileMode, BEGIN IMMEDIATE, P2002, rows`, () => {
      expect(output).toContain(`install-test: alias prisma ${runtime} ok (prisma@`);
    });
  }

  it("should exit 0 with no failures", () => {
    if (status !== 0) console.error(output);
    expect(output).toContain("install-test: 29 smoke runs, 0 failures");
    expect(status).toBe(0);
  });
});

describe(".github/workflows/release.yml", () => {
  const workflow = readFileSync(join(PACKAGE_ROOT, ".github", "workflows", "release.yml"), "utf8");
  const buildJob = workflow.slice(workflow.indexOf("\n  build:"), workflow.indexOf("\n  test-linux-x64-gnu:"));

  it("should build exactly the targets of package.json's napi config", () => {
    const built = [...buildJob.matchAll(/^\s+target: (\S+)$/gm)].map((m) => m[1]).sort();
    expect(built).toEqual([...pkg.napi.targets].sort());
    for (const target of built) expect(buildJob).toContain(`--target ${target}`);
  });

  it("should test every target it builds and publish only after every test job", () => {
    const tested = [...workflow.slice(workflow.indexOf("\n  test-other-platforms:")).matchAll(/^\s+target: (\S+)$/gm)].map((m) => m[1]);
    expect(["x86_64-unknown-linux-gnu", ...tested].sort()).toEqual([...pkg.napi.targets].sort());
    expect(workflow).toContain("needs: [test-linux-x64-gnu, test-other-platforms]");
    expect(workflow).toContain("bash scripts/glibc-floor.sh hardened-sqlite.linux-x64-gnu.node 2.17");
    expect(pkg.scripts.artifacts).toBe("napi artifacts");
    expect(pkg.scripts.prepublishOnly).toBe("napi prepublish -t npm");
  });
});
