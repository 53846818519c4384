'use strict'
/**
 * hardened-sqlite: a SQLite connection for Node and Bun that is safe by construction.
 * This hand-written facade sits on the generated native loader (binding.js).
 *
 * As in better-sqlite3, the module is the database constructor itself
 * (`const Database = require("hardened-sqlite")`, with or without `new`), and
 * carries every other export as a property (`const { HardenedDb, SqliteError } = ...`).
 */
const { sqliteVersion } = require('./binding.js')
const { HardenedDb } = require('./lib/better-sqlite3/callable')
const { Statement } = require('./lib/statement')
const { SqliteError, HardenedDbError } = require('./lib/errors')
const { AsyncHardenedDb, openAsync } = require('./lib/async/database')

module.exports = HardenedDb
// One assignment per name, so that Node's `import { SqliteError } from "./index.js"` finds them too.
module.exports.HardenedDb = HardenedDb
module.exports.Statement = Statement
module.exports.SqliteError = SqliteError
module.exports.HardenedDbError = HardenedDbError
module.exports.AsyncHardenedDb = AsyncHardenedDb
// Also `HardenedDb.openAsync(path, options)`, the module being HardenedDb: the asynchronous handle (docs/async.md).
module.exports.openAsync = openAsync
module.exports.sqliteVersion = sqliteVersion
module.exports.default = HardenedDb
// TypeScript's CommonJS output (`import HardenedDb from ...`) reads `.default` when this is set.
Object.defineProperty(module.exports, '__esModule', { value: true })
