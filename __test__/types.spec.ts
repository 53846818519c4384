// The typings (index.d.ts, index.d.mts) under `tsc --noEmit --strict`:
// __test__/types/ (the whole API, Drizzle and Kysely usage, and mistakes that
// must not compile), every `ts` block of README's Drizzle, Kysely and
// TypeScript sections, and a misspelled option that must fail alone.
import { describe, it, expect, beforeAll, afterAll } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PACKAGE_ROOT, NODE } from "./helpers";

const TSC = join(PACKAGE_ROOT, "node_modules", "typescript", "bin", "tsc");

function tsc(project: string) {
  const out = spawnSync(NODE, [TSC, "--noEmit", "--strict", "-p", project], { cwd: PACKAGE_ROOT, encoding: "utf8", timeout: 120_000 });
  return { status: out.status, output: `${out.stdout}${out.stderr}` };
}

/** The `ts` code blocks of the README sections with these headings. */
function readmeSnippets(headings: string[]): { section: string; code: string }[] {
  const readme = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");
  const sections = readme.split(/^## /m);
  const snippets: { section: string; code: string }[] = [];
  for (const section of sections) {
    const heading = section.slice(0, section.indexOf("\n")).trim();
    if (!headings.includes(heading)) continue;
    for (const m of section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) snippets.push({ section: heading, code: m[1] });
  }
  return snippets;
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
  it("should compile __test__/types (README examples, the whole API, must-not-compile lines)", () => {
    const { status, output } = tsc("__test__/types");
    expect(output).toBe("");
    expect(status).toBe(0);
  }, 120_000);

  it("should fail to compile a misspelled option, naming the right one", () => {
    const { status, output } = tsc("__test__/types/fail");
    expect(status).not.toBe(0);
    expect(output).toContain("error TS2561");
    expect(output).toContain("'readOnly' does not exist in type 'HardenedDbOptions'. Did you mean to write 'readonly'?");
  }, 120_000);

  describe("README's ts blocks", () => {
    // Inside the package, so "hardened-sqlite" resolves to it as it would in an app.
    const dir = join(PACKAGE_ROOT, ".tmp", "readme-snippets");
    const snippets = readmeSnippets(["Drizzle", "Kysely", "TypeScript"]);
    beforeAll(() => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      snippets.forEach(({ section, code }, i) => writeFileSync(join(dir, `${section.toLowerCase()}-${i}.mts`), `export {};\n${code}`));
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../__test__/types/tsconfig.json", include: ["*.mts"] }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("should find the examples of each section", () => {
      const sections = snippets.map((s) => s.section);
      expect(sections.filter((s) => s === "Drizzle").length).toBeGreaterThanOrEqual(2);
      expect(sections).toContain("Kysely");
      expect(sections).toContain("TypeScript");
    });

    it("should compile every one of them", () => {
      const { status, output } = tsc(".tmp/readme-snippets");
      expect(output).toBe("");
      expect(status).toBe(0);
    }, 120_000);
  });
});
