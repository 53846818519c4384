/**
 * Typings of `import ... from "hardened-sqlite/bun"` (bun.mjs): the same as
 * bun.d.ts, with `Database` as the default export.
 */
import { Database } from "./bun.js";

export * from "./bun.js";
export default Database;
