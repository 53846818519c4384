'use strict'
/**
 * `HardenedDb` as better-sqlite3's `Database` function: what
 * `require("hardened-sqlite")` is. It may be called with or without `new`,
 * subclassed (`class MyDb extends Database`), and shares its prototype with the
 * class in lib/better-sqlite3/database.js, so `db instanceof Database`, `db.constructor` and
 * `Database.prototype.close` are what better-sqlite3's are.
 *
 * It is a Proxy of the class rather than a function that constructs it: V8
 * gives a plain function called with `new` an object of its own before the
 * function runs, and building the class's object for that function's
 * `new.target` as well made V8 rebuild the instances' hidden class at every
 * open. Each connection then had a shape of its own (1.8 µs more per open,
 * and every method that read a private field met a new shape, 2026-11-30,
 * docs/performance.md). Through the Proxy every connection shares one shape,
 * and a subclass's connections share theirs.
 */
const { HardenedDb: HardenedDbClass } = require('./database')

/** Opens (and if needed creates) the database at `path` (see lib/better-sqlite3/database.js); `new` is optional. */
const HardenedDb = new Proxy(HardenedDbClass, {
  /** `HardenedDb(path, options)` without `new`, as better-sqlite3 allows. */
  apply(target, thisArg, args) {
    return new HardenedDbClass(...args)
  },
  /** `new HardenedDb(...)`, or a subclass's `super(...)`: objects with `newTarget`'s prototype. */
  construct(target, args, newTarget) {
    return newTarget === HardenedDb ? new HardenedDbClass(...args) : Reflect.construct(HardenedDbClass, args, newTarget)
  },
})
Object.defineProperty(HardenedDbClass.prototype, 'constructor', { value: HardenedDb, writable: true, configurable: true })
// better-sqlite3's `Database(filename, options)` declares two parameters.
Object.defineProperty(HardenedDbClass, 'length', { value: 2 })

module.exports = { HardenedDb }
