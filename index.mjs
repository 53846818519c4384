/**
 * hardened-sqlite for `import`: the same objects as `require("hardened-sqlite")`
 * (index.js). The default export is the database constructor itself (better-sqlite3's
 * `Database`), and every property index.js exports is a named export too
 * (__test__/packaging.spec.ts checks it).
 */
import HardenedDb from './index.js'

export { Statement, SqliteError, HardenedDbError, sqliteVersion, AsyncHardenedDb, openAsync } from './index.js'
export { HardenedDb }
export default HardenedDb
