/**
 * hardened-sqlite/bun for `import`: the same objects as bun.js; `Database`
 * is also the default export, as in bun:sqlite. bun.js is loaded through
 * `require` (Bun would hand a default import of it the `default` export,
 * since bun.js marks itself `__esModule`).
 */
import { createRequire } from 'node:module'

const face = createRequire(import.meta.url)('./bun.js')

export const { Database, Statement, SQLiteError, HardenedDbError, constants, sqliteVersion } = face
export const HardenedDb = Database
export default Database
