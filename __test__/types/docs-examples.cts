// The type test, CommonJS side: `require("hardened-sqlite")` as a CommonJS
// TypeScript app compiles it.
import hs = require("hardened-sqlite");

const db = new hs.HardenedDb(":memory:", { readonly: false });
const row = db.prepare<[], { x: number }>("SELECT 1 AS x").get();
const x: number | undefined = row?.x;
const Default: typeof hs.HardenedDb = hs.default;
const error: hs.SqliteError | undefined = undefined;
console.log(x, Default, error, hs.sqliteVersion());
