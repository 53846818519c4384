'use strict'
/**
 * hardened-sqlite: a SQLite connection for Node and Bun that is safe by construction.
 * This hand-written facade sits on the generated native loader (binding.js).
 */
const { sqliteVersion } = require('./binding.js')
const { HardenedDb } = require('./lib/database')
const { Statement } = require('./lib/statement')
const { SqliteError, HardenedDbError } = require('./lib/errors')

module.exports = { HardenedDb, Statement, SqliteError, HardenedDbError, sqliteVersion }
module.exports.default = HardenedDb
// TypeScript's CommonJS output (`import HardenedDb from ...`) reads `.default` when this is set.
Object.defineProperty(module.exports, '__esModule', { value: true })
