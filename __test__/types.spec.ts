// The typings (index.d.ts, index.d.mts) under `tsc --noEmit --strict`:
// __test__/types/ (the whole API, Drizzle and Kysely usage, and mistakes that
// must not compile), __test__/types/bs3 (@types/better-sqlite3 idioms), every `ts` block of README.md and docs/*.md
// (but `ts alias-app` ones, which scripts/install-test.sh compiles), and a misspelled option that must fail alone.
import { describe, it, expect, beforeAll, afterAll } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PACKAGE_ROOT, NODE } from "./helpers";

const TSC = join(PACKAGE_ROOT, "node_modules", "typescript", "bin", "tsc");

function tsc(project: string) {
  const out = spawnSync(NODE, [TSC, "--noEmit", "--strict", "-p", project], { cwd: PACKAGE_ROOT, encoding: "utf8", timeout: 120_000 });
  return { status: out.status, output: `${out.stdout}${out.stderr}` };
}

/** The documentation: README.md and every docs/*.md, as paths relative to the package. */
const DOC_FILES = ["README.md", ...readdirSync(join(PACKAGE_ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

type Snippet = { file: string; section: string; line: number; code: string };

/** Every `ts` code block of the documentation, with its file, the heading above it and its line. */
function docSnippets(): Snippet[] {
  const snippets: Snippet[] = [];
  for (const file of DOC_FILES) {
    const lines = readFileSync(join(PACKAGE_ROOT, file), "utf8").split("\n");
    let section = "";
    for (let i = 0; i < lines.length; i++) {
      const fence = /^```(\w*)(.*)$/.exec(lines[i]);
      if (!fence) {
        const heading = /^#+ (.*)$/.exec(lines[i]);
        if (heading) section = heading[1].trim();
        continue;
      }
      const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
      if (end === -1) throw new Error(`${file}:${i + 1}: unclosed code block`);
      // "```ts alias-app" blocks import libraries this package does not install (Prisma):
      // scripts/install-test.sh compiles them in its alias app instead.
      if (fence[1] === "ts" && fence[2].trim() !== "alias-app") snippets.push({ file, section, line: i + 2, code: lines.slice(i + 1, end).join("\n") + "\n" });
      i = end;
    }
  }
  return snippets;
}

/**
 * A snippet as a module of its own. One that imports nothing continues an example
 * (`db.health()` on the `db` of the quick start): it gets `HardenedDb` and a `db`, and
 * runs in a block so that it may declare its own `db`.
 */
function snippetModule({ file, line, code }: Snippet): string {
  const where = `// ${file}:${line}\n`;
  if (/^import\b/m.test(code)) return `${where}export {};\n${code}`;
  return `${where}import { HardenedDb } from "hardened-sqlite";\ndeclare const db: HardenedDb;\n{\n${code}}\n`;
}

/** The body of `declare class NAME ... { ... }` or `interface NAME { ... }` in index.d.ts. */
function declaration(dts: string, head: string): string {
  const start = dts.indexOf(head);
  if (start === -1) throw new Error(`index.d.ts has no ${head}`);
  let depth = 0;
  for (let i = dts.indexOf("{", start); i < dts.length; i++) {
    if (dts[i] === "{") depth++;
    else if (dts[i] === "}" && --depth === 0) return dts.slice(start, i + 1);
  }
  throw new Error(`unbalanced ${head}`);
}

describe("index.d.ts covers what exists", () => {
  const dts = readFileSync(join(PACKAGE_ROOT, "index.d.ts"), "utf8");
  const declares = (body: string, name: string) => new RegExp(`^\\s+(readonly )?${name}[(<?:]`, "m").test(body);

  it("should declare every method and property of HardenedDb and Statement", () => {
    const { HardenedDb, Statement } = require("../index.js");
    for (const [cls, head] of [[HardenedDb, "export declare class HardenedDb "], [Statement, "export declare class Statement<"]] as const) {
      const body = declaration(dts, head);
      const members = Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== "constructor");
      expect(members.length).toBeGreaterThan(10);
      expect(members.filter((m) => !declares(body, m))).toEqual([]);
    }
  });

  it("should declare every option of lib/options.js in HardenedDbOptions", () => {
    const { OPTION_TYPES } = require("../lib/options.js");
    const body = declaration(dts, "export interface HardenedDbOptions ");
    expect(Object.keys(OPTION_TYPES).filter((o) => !declares(body, o))).toEqual([]);
  });
});

describe("index.d.ts", () => {
  it("should compile __test__/types (documented examples, the whole API, must-not-compile lines)", () => {
    const { status, output } = tsc("__test__/types");
    expect(output).toBe("");
    expect(status).toBe(0);
  }, 120_000);

  it("should compile code written against @types/better-sqlite3 through the alias (__test__/types/bs3)", () => {
    const { status, output } = tsc("__test__/types/bs3");
    expect(output).toBe("");
    expect(status).toBe(0);
  }, 120_000);

  it("should fail to compile a misspelled option, naming the right one", () => {
    const { status, output } = tsc("__test__/types/fail");
    expect(status).not.toBe(0);
    expect(output).toContain("error TS2561");
    expect(output).toContain("'readOnly' does not exist in type 'HardenedDbOptions'. Did you mean to write 'readonly'?");
  }, 120_000);

  describe("the ts blocks of README.md and docs/", () => {
    // Inside the package, so "hardened-sqlite" resolves to it as it would in an app.
    const dir = join(PACKAGE_ROOT, ".tmp", "doc-snippets");
    const snippets = docSnippets();
    beforeAll(() => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      // e.g. docs-orms.md-12.mts: the file name says where a compile error comes from.
      snippets.forEach((s) => writeFileSync(join(dir, `${s.file.replace("/", "-")}-${s.line}.mts`), snippetModule(s)));
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../__test__/types/tsconfig.json", include: ["*.mts"] }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("should find the examples of each section", () => {
      const found = snippets.map((s) => `${s.file} ${s.section}`);
      expect(found).toContain("README.md Quick start");
      expect(found.filter((s) => s === "docs/orms.md Drizzle").length).toBeGreaterThanOrEqual(2);
      expect(found).toContain("docs/orms.md Kysely");
      expect(found).toContain("docs/api.md TypeScript");
      expect(found).toContain("docs/migrations.md Migrations");
      expect(found).toContain("docs/health-and-maintenance.md Health check");
    });

    it("should compile every one of them", () => {
      const { status, output } = tsc(".tmp/doc-snippets");
      expect(output).toBe("");
      expect(status).toBe(0);
    }, 120_000);
  });
});
