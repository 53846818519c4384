/**
 * hardened-sqlite/bun for `import`: the same objects as bun.js; `Database`
 * is also the default export, as in bun:sqlite.
 */
import face from './bun.js'

export const { Database, Statement, SQLiteError, HardenedDbError, constants, sqliteVersion } = face
export const HardenedDb = Database
export default Database
