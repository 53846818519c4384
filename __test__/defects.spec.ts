// Regressions of the defects found by adversarial testing: each case of
// __test__/cases/defects.cjs runs here under Bun and in a Node process.
import { describe, it, expect } from "bun:test";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import * as hardened from "../index.js";
import { NODE, PACKAGE_ROOT } from "./helpers";

const { cases } = require("./cases/defects.cjs") as { cases: Record<string, (pkg: typeof hardened) => void> };
const SCRIPT = join(PACKAGE_ROOT, "__test__", "cases", "defects.cjs");

describe("defects found by adversarial testing", () => {
  for (const [name, run] of Object.entries(cases)) {
    it(`${name} (Bun)`, () => {
      run(hardened);
    });

    it(`${name} (Node)`, () => {
      const result = spawnSync(NODE, [SCRIPT, name], { cwd: PACKAGE_ROOT, encoding: "utf8", timeout: 60_000 });
      expect({ signal: result.signal, status: result.status, stderr: result.stderr }).toEqual({ signal: null, status: 0, stderr: "" });
      expect(result.stdout).toContain(`ok: ${name}`);
    });
  }
});
