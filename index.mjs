/**
 * hardened-sqlite for `import`: the same objects as `require("hardened-sqlite")`
 * (index.js), with `HardenedDb` as the default export. Every name index.js
 * exports is listed here too (__test__/packaging.spec.ts checks it).
 */
import { HardenedDb } from './index.js'

export { HardenedDb, Statement, SqliteError, HardenedDbError, sqliteVersion } from './index.js'
export default HardenedDb
