'use strict'
/**
 * hardened-sqlite/bun: bun:sqlite's API on the hardened connection.
 * `import { Database } from "hardened-sqlite/bun"` in place of
 * `import { Database } from "bun:sqlite"` (docs/bun.md). Loads under Node too.
 */
const { sqliteVersion } = require('./binding.js')
const { Database } = require('./lib/bun/database')
const { Statement } = require('./lib/bun/statement')
const { SQLiteError, HardenedDbError } = require('./lib/bun/errors')
const { constants } = require('./lib/bun/constants')

// One assignment per name, so that Node's `import { Database } from "hardened-sqlite/bun"` finds them.
module.exports.Database = Database
module.exports.HardenedDb = Database
module.exports.Statement = Statement
module.exports.SQLiteError = SQLiteError
module.exports.HardenedDbError = HardenedDbError
module.exports.constants = constants
module.exports.sqliteVersion = sqliteVersion
module.exports.default = Database
Object.defineProperty(module.exports, '__esModule', { value: true })
