'use strict'
/**
 * `db.onInsert`, `db.onUpdate` and `db.onDelete` of the bun face, as in
 * bun:sqlite: one `sqlite3_update_hook` (src/functions/update_hook.rs) calls
 * a dispatcher for each row a statement of the connection changes, while it
 * runs; the dispatcher calls the hook for that kind of change with
 * `(db, tableName, rowid, schemaName)` and `this` the database. Meanwhile
 * every other use of the connection throws (`HARDENED_DATABASE_BUSY`). A hook
 * cannot stop the statement: what it throws is reported as an uncaught
 * exception (from a microtask, once the statement's call has returned).
 * The connection holds its dispatcher until `close()`.
 */
const { typeError } = require('../errors')
const { shapeError } = require('./errors')
const { describe } = require('../arguments')

/** SQLite's operation codes, by the hook each calls. */
const OPERATIONS = { onInsert: 18, onUpdate: 23, onDelete: 9 }

class UpdateHooks {
  #database
  #native
  #safeIntegers
  /** The hooks by operation code. */
  #hooks = new Map()

  /**
   * @internal The hooks of `database` (its native connection `native`);
   * `safeIntegers`: rowids are bigints.
   */
  constructor(database, native, safeIntegers) {
    this.#database = database
    this.#native = native
    this.#safeIntegers = safeIntegers
  }

  /** The hook named `name` (`"onInsert"`, ...), or `null`. */
  get(name) {
    return this.#hooks.get(OPERATIONS[name]) ?? null
  }

  /** Sets (a function) or removes (`null`, `undefined`) the hook named `name`. */
  set(name, hook) {
    if (hook === undefined) hook = null
    if (hook !== null && typeof hook !== 'function') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected a function or null: db.${name} takes (db, tableName, rowid, schemaName) => void, got ${describe(hook)}`)
    }
    const hooks = new Map(this.#hooks)
    if (hook === null) hooks.delete(OPERATIONS[name])
    else hooks.set(OPERATIONS[name], hook)
    // Also while a hook runs, which the native side refuses, as bun:sqlite does.
    try {
      this.#native.setUpdateHook(hooks.size > 0 ? this.#dispatch : null)
    } catch (error) {
      throw shapeError(error, this.#native)
    }
    this.#hooks = hooks
  }

  /** Called by SQLite for each changed row; never throws. */
  #dispatch = (op, schema, table, rowid) => {
    const hook = this.#hooks.get(op)
    if (hook === undefined) return
    const database = this.#database
    try {
      hook.call(database, database, table, this.#safeIntegers ? rowid : Number(rowid), schema)
    } catch (error) {
      queueMicrotask(() => {
        throw error
      })
    }
  }
}

/**
 * Defines `onInsert`, `onUpdate` and `onDelete` on `prototype` (the bun
 * face's `Database.prototype`); `hooksOf(db)` gives a database's `UpdateHooks`.
 */
function installUpdateHooks(prototype, hooksOf) {
  for (const name of Object.keys(OPERATIONS)) {
    Object.defineProperty(prototype, name, {
      get() {
        return hooksOf(this).get(name)
      },
      set(hook) {
        hooksOf(this).set(name, hook)
      },
      enumerable: false,
      configurable: true,
    })
  }
}

module.exports = { UpdateHooks, installUpdateHooks }
