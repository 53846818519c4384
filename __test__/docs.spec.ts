// The docs hold together: in README.md and every docs/*.md, each relative link
// (file or #anchor, GitHub-style anchors) resolves to an existing file or
// heading; README.md stays at most 12,288 bytes and opens with the two-command
// sh block (the first ```sh block contains `npm install && npm run build && npm test`).
import { describe, it, expect } from "bun:test";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const README_LIMIT = 12_288;
const TEST_COMMAND = "npm install && npm run build && npm test";

/** README.md and docs/*.md of `root`, relative to it. */
function docFiles(root: string): string[] {
  const docs = existsSync(join(root, "docs")) ? readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort() : [];
  return ["README.md", ...docs.map((f) => `docs/${f}`)];
}

/** GitHub-style anchors of the headings of a markdown file (outside code blocks). */
function anchors(path: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let code = false;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.startsWith("```")) { code = !code; continue; }
    const m = !code && /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const a = m[2].toLowerCase().replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, "").replace(/ /g, "-");
    const n = seen.get(a) ?? 0;
    seen.set(a, n + 1);
    out.add(n === 0 ? a : `${a}-${n}`);
  }
  return out;
}

/** Every broken relative link in the docs of `root`, as "file:line: target: reason". */
function brokenLinks(root: string): { checked: number; broken: string[] } {
  const broken: string[] = [];
  let checked = 0;
  const anchorCache = new Map<string, Set<string>>();
  for (const file of docFiles(root)) {
    let code = false;
    readFileSync(join(root, file), "utf8").split("\n").forEach((raw, i) => {
      if (raw.startsWith("```")) { code = !code; return; } // no links inside code blocks
      if (code) return;
      const line = raw.replace(/`[^`\n]*`/g, ""); // nor inside inline code
      for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto: ...
        checked++;
        const hash = target.indexOf("#");
        const path = hash < 0 ? target : target.slice(0, hash);
        const frag = hash < 0 ? "" : target.slice(hash + 1);
        const dest = path ? normalize(join(root, dirname(file), path)) : join(root, file);
        const where = `${file}:${i + 1}: ${target}`;
        if (!existsSync(dest)) { broken.push(`${where}: no such file`); continue; }
        if (!frag) continue;
        if (!dest.endsWith(".md") || !statSync(dest).isFile()) { broken.push(`${where}: no such anchor`); continue; }
        if (!anchorCache.has(dest)) anchorCache.set(dest, anchors(dest));
        if (!anchorCache.get(dest)!.has(frag)) broken.push(`${where}: no such anchor`);
      }
    });
  }
  return { checked, broken };
}

/** What is wrong with README.md's size and opening commands block. */
function readmeProblems(root: string): string[] {
  const problems: string[] = [];
  const path = join(root, "README.md");
  const size = statSync(path).size;
  if (size > README_LIMIT) problems.push(`README.md: ${size} bytes, limit ${README_LIMIT}`);
  const firstSh = /^```sh[ \t]*\n([\s\S]*?)^```/m.exec(readFileSync(path, "utf8"));
  if (!firstSh) problems.push("README.md: no ```sh block");
  else if (!firstSh[1].includes(TEST_COMMAND)) problems.push(`README.md:${readFileSync(path, "utf8").slice(0, firstSh.index).split("\n").length}: first \`\`\`sh block lacks \`${TEST_COMMAND}\``);
  return problems;
}

describe("docs", () => {
  it("every relative link in README.md and docs/*.md resolves to a file or heading", () => {
    const { checked, broken } = brokenLinks(ROOT);
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it("README.md is at most 12,288 bytes and starts with the two commands", () => {
    expect(readmeProblems(ROOT)).toEqual([]);
  });

  it("the checker reports broken links, a long README and a missing test command (on a copy)", () => {
    const tmp = mkdtempSync(join(process.env.TMPDIR || "/tmp", "hs-docs-"));
    try {
      mkdirSync(join(tmp, "docs"));
      for (const file of docFiles(ROOT)) writeFileSync(join(tmp, file), readFileSync(join(ROOT, file)));
      // links to repository files outside README.md and docs/ are broken in the copy: the baseline
      const baseline = new Set(brokenLinks(tmp).broken);
      expect(readmeProblems(tmp)).toEqual([]);

      const readme = readFileSync(join(tmp, "README.md"), "utf8");
      const lines = readme.split("\n").length;
      writeFileSync(
        join(tmp, "README.md"),
        readme.replace(TEST_COMMAND, "npm install") +
          "\n## Dup\n\n## Dup\n\n" +
          "[ok](#dup-1) [gone](docs/nope.md) [bad](docs/api.md#no-such-heading) [self](#dup-2)\n" +
          "`[code](docs/nope.md)`\n```\n[block](docs/nope.md)\n```\n" +
          "x".repeat(README_LIMIT),
      );
      const at = lines + 5; // line of the links appended above
      expect(brokenLinks(tmp).broken.filter((b) => !baseline.has(b))).toEqual([
        `README.md:${at}: docs/nope.md: no such file`,
        `README.md:${at}: docs/api.md#no-such-heading: no such anchor`,
        `README.md:${at}: #dup-2: no such anchor`,
      ]);
      const problems = readmeProblems(tmp);
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^README\.md: \d+ bytes, limit 12288$/);
      expect(problems[1]).toContain("first ```sh block lacks");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
