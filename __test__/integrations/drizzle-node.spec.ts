// Drizzle ORM under Node through drizzle-orm/better-sqlite3 and its migrator:
// fixtures/drizzle-node.mjs runs schema, CRUD, prepared queries, relational
// queries, errors and (nested) transactions under the machine's Node and under
// Node >= 22, and fails if better-sqlite3's own native addon is ever loaded.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers";
import { NODE, NODE22, run, lastJson } from "./processes";

const SCRIPT = join(import.meta.dir, "fixtures", "drizzle-node.mjs");
const CHECKS = ["migrator", "crud", "prepared", "relations", "errors", "transactions"];

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("hs-drizzle-node");
});
afterEach(() => tmp.cleanup());

describe("drizzle-orm/better-sqlite3 under Node", () => {
  for (const [label, bin] of [["the machine's Node", NODE], ["Node >= 22 (npm package node)", NODE22]] as const) {
    it(`should pass every Drizzle check under ${label} without loading better-sqlite3's addon`, async () => {
      const out = await run(bin, [SCRIPT, tmp.path("app.db")]);
      expect(out.stderr).toBe("");
      expect(out.status).toBe(0);
      const result = lastJson(out);
      expect(result.checks).toEqual(CHECKS);
      expect(Number(result.node.slice(1).split(".")[0])).toBeGreaterThanOrEqual(bin === NODE22 ? 22 : 18);
    });
  }
});
