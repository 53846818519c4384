/**
 * Typings of `import ... from "hardened-sqlite"` (index.mjs): the same as
 * index.d.ts, with `HardenedDb` as the default export.
 */
import { HardenedDb } from "./index.js";

export * from "./index.js";
export default HardenedDb;
