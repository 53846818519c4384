'use strict'
/**
 * `HardenedDb` as better-sqlite3's `Database` function: what
 * `require("hardened-sqlite")` is. It may be called with or without `new`,
 * subclassed (`class MyDb extends Database`), and shares its prototype with the
 * class in lib/better-sqlite3/database.js, so `db instanceof Database`, `db.constructor` and
 * `Database.prototype.close` are what better-sqlite3's are.
 */
const { HardenedDb: HardenedDbClass } = require('./database')

/**
 * Opens (and if needed creates) the database at `path` (see lib/better-sqlite3/database.js);
 * `new` is optional.
 */
function HardenedDb(path, options) {
  return Reflect.construct(HardenedDbClass, [path, options], new.target ?? HardenedDb)
}
Object.defineProperty(HardenedDb, 'prototype', { value: HardenedDbClass.prototype, writable: false })
Object.defineProperty(HardenedDbClass.prototype, 'constructor', { value: HardenedDb, writable: true, configurable: true })

module.exports = { HardenedDb }
