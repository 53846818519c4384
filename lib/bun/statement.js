'use strict'
/**
 * `Statement` of the bun:sqlite face: bun:sqlite's statement API over the
 * shared statement core (lib/statement.js, which runs the hot native calls and
 * decodes rows). The native side binds with bun:sqlite's rules and hands BLOBs
 * out as `Uint8Array` for this face's statements; this class shapes results
 * (`null` for no row, `as(Class)`) and errors (`SQLiteError`).
 */
const { Statement: CoreStatement, WITH_PARAMS } = require('../statement')
const { INVALIDATE } = require('../iterator')
const { run: RUN, get: GET, all: ALL, values: VALUES, iterate: ITERATE } = WITH_PARAMS
const { HardenedDbError } = require('../errors')
const { shapeError } = require('./errors')
const { classPrototype, rawBytes } = require('./row-shapes')
const { NativeStatementView } = require('./native-view')

/** @internal Binds values now, for calls without any (`db.prepare(sql, ...params)`). */
const BIND_NOW = Symbol('hardened-sqlite.bindNow')

const EMPTY_ITERATOR = [][Symbol.iterator]()

class Statement {
  #core
  #native
  #database
  #reader
  #view = null
  /** The prototype of the `as()` class, which rows get; `null` for plain objects. */
  #prototype = null
  /** The iterator of the open `iterate()`, if any: running the statement again invalidates it. */
  #iterator = null
  #ended = null

  /** @internal Use `db.query(sql)` or `db.prepare(sql)`. */
  constructor(native, database, connection) {
    // The core throws its calls' errors in this face's shape, so the hot
    // methods here need no try/catch of their own (see lib/statement.js).
    this.#core = new CoreStatement(native, database, (error) => shapeError(error, connection), true)
    this.#native = native
    this.#database = connection
    this.#reader = native.reader
  }

  /** The first row (an instance of the `as()` class, if any), or `null` when there is none. */
  get(...params) {
    if (!this.#reader) return this.#runDiscarding(params, null)
    const row = this.#core[GET](params)
    if (row === undefined) return null
    return this.#prototype === null ? row : Object.setPrototypeOf(row, this.#prototype)
  }

  /** Every row. */
  all(...params) {
    if (!this.#reader) return this.#runDiscarding(params, [])
    const rows = this.#core[ALL](params)
    return this.#prototype === null ? rows : this.#adopt(rows)
  }

  /** Every row as an array of its values. */
  values(...params) {
    if (!this.#reader) return this.#runDiscarding(params, [])
    return this.#core[VALUES](params)
  }

  /**
   * Every row as an array of each value's bytes, as bun:sqlite gives them: an
   * INTEGER or REAL as its 8 bytes (little-endian int64 or float64), TEXT as
   * UTF-8, a BLOB as is, NULL as `null`.
   */
  raw(...params) {
    // Ended first: the safeIntegers switch below is refused under an open iteration.
    if (this.#iterator !== null) this.#invalidate()
    const bigints = this.#native.safeIntegers
    let rows
    // Read as bigints, so that every INTEGER comes out exact (and tells itself from a REAL).
    this.safeIntegers(true)
    try {
      rows = this.values(...params)
    } finally {
      if (!this.isFinalized) this.safeIntegers(bigints)
    }
    return rows.map((row) => row.map(rawBytes))
  }

  /** Runs the statement to its end; returns `{ changes, lastInsertRowid }`. */
  run(...params) {
    return this.#core[RUN](params)
  }

  /**
   * The rows one at a time (`for (const row of stmt.iterate())`); leaving the
   * loop early (`break`) resets the statement.
   */
  iterate(...params) {
    if (!this.#reader) {
      this.run(...params)
      return EMPTY_ITERATOR
    }
    this.#ended ??= (iterator) => {
      if (this.#iterator === iterator) this.#iterator = null
    }
    const face = { prototype: this.#prototype, ended: this.#ended, invalidated }
    this.#iterator = this.#core[ITERATE](params, face)
    return this.#iterator
  }

  /**
   * Ends the open iteration (as bun:sqlite does when the statement runs again
   * or is finalized); its iterator throws `error()`'s error after, by default
   * HARDENED_ITERATOR_INVALIDATED.
   */
  #invalidate(error = null) {
    const iterator = this.#iterator
    this.#iterator = null
    iterator[INVALIDATE](error)
  }

  /** `for (const row of stmt)`: iterates with the values bound last. */
  [Symbol.iterator]() {
    return this.iterate()
  }

  /**
   * Rows come back as instances of `Class` (its prototype, its getters and
   * methods; the constructor is not called); `as(undefined)` goes back to plain objects.
   */
  as(Class) {
    this.#prototype = Class === undefined ? null : classPrototype(Class)
    return this
  }

  /**
   * `safeIntegers(true)`: INTEGER columns (and `lastInsertRowid`) come back as
   * bigint; without an argument, whether they do.
   */
  safeIntegers(toggle = undefined) {
    if (toggle === undefined) return this.#native.safeIntegers
    try {
      this.#core.safeIntegers(Boolean(toggle))
    } catch (error) {
      throw shapeError(error, this.#database)
    }
    return this
  }

  /** Frees the statement now; later calls throw. */
  finalize() {
    if (this.#iterator !== null) this.#invalidate(finalized)
    try {
      this.#native.finalize()
    } catch (error) {
      throw shapeError(error, this.#database)
    }
  }

  /** Whether `finalize()` was called (or the database closed). */
  get isFinalized() {
    try {
      return this.#native.isFinalized
    } catch {
      return true
    }
  }

  /** The SQL with the values bound last written in (`sqlite3_expanded_sql`). */
  toString() {
    try {
      return this.#native.expandedSql()
    } catch (error) {
      throw shapeError(error, this.#database)
    }
  }

  /** `Object.prototype.toString.call(stmt)` gives `[object "<expanded SQL>"]` (`""` once finalized), as in bun:sqlite. */
  get [Symbol.toStringTag]() {
    return `"${this.isFinalized ? '' : this.toString()}"`
  }

  /** What `JSON.stringify` shows: `{ sql, isFinalized, paramsCount, columnNames }`. */
  toJSON() {
    return { sql: this.toString(), isFinalized: this.isFinalized, paramsCount: this.paramsCount, columnNames: this.columnNames }
  }

  /** The result column names. */
  get columnNames() {
    return this.#call(() => this.#native.columnNames())
  }

  /**
   * Each column's storage class in the first row the statement returns with
   * the values bound last (`INTEGER`, `FLOAT`, `TEXT`, `BLOB`, `NULL`); it runs
   * the statement to get them, so only read-only statements have them.
   */
  get columnTypes() {
    return this.#call(() => this.#native.columnTypes())
  }

  /** Each column's declared type (`CREATE TABLE`), or `null` for an expression. */
  get declaredTypes() {
    return this.#call(() => this.#native.columns().map((column) => column.type))
  }

  /** How many parameters the statement takes. */
  get paramsCount() {
    return this.#call(() => this.#native.paramsCount)
  }

  /** The native statement's metadata, shaped as bun:sqlite's `stmt.native` (lib/bun/native-view.js). */
  get native() {
    if (this.#view === null) this.#view = new NativeStatementView(this)
    return this.#view
  }

  /** @internal */
  [BIND_NOW](params) {
    this.#native.bindValues(params)
  }

  /** Whether the statement returns rows. */
  get reader() {
    return this.#reader
  }

  /** Whether the statement never writes. */
  get readonly() {
    return this.#call(() => this.#native.readonly)
  }

  /** `using stmt = db.prepare(...)` finalizes it at the end of the scope. */
  [Symbol.dispose]() {
    if (!this.isFinalized) this.finalize()
  }

  #call(fn) {
    try {
      return fn()
    } catch (error) {
      throw shapeError(error, this.#database)
    }
  }

  /** Runs a statement that returns no rows where rows were asked for (as bun:sqlite does). */
  #runDiscarding(params, empty) {
    this.#core[RUN](params)
    return empty
  }

  #adopt(rows) {
    const prototype = this.#prototype
    for (let i = 0; i < rows.length; i++) Object.setPrototypeOf(rows[i], prototype)
    return rows
  }
}

/**
 * What `next()` throws once the loop's statement was finalized: the error of
 * any call of a finalized statement (src/statement.rs), as bun:sqlite's
 * iterator throws "Statement has finalized".
 */
function finalized() {
  return new HardenedDbError(
    'Statement has finalized: finalize() was called on it; prepare the SQL again',
    'HARDENED_STATEMENT_FINALIZED',
  )
}

/** The error `next()` throws once the statement ran again (as bun:sqlite's iterators do). */
function invalidated() {
  return new HardenedDbError(
    'This iterator was invalidated: its statement was run again. Use db.prepare() to get a statement with a cursor of its own.',
    'HARDENED_ITERATOR_INVALIDATED',
  )
}

/**
 * `PRAGMA busy_timeout` (read, or set as in `PRAGMA busy_timeout = 5000`):
 * SQLite answers 0 once the fair busy handler is installed, so its rows give
 * the handler's timeout instead, as bun:sqlite's (with SQLite's own handler) do.
 */
class BusyTimeoutStatement extends Statement {
  #connection

  /** @internal Use `db.query(sql)` or `db.prepare(sql)`. */
  constructor(native, database, connection) {
    super(native, database, connection)
    this.#connection = connection
  }

  /** The row `{ timeout }` with the busy handler's timeout. */
  get(...params) {
    return this.#patch(super.get(...params))
  }

  /** `[{ timeout }]`. */
  all(...params) {
    return super.all(...params).map((row) => this.#patch(row))
  }

  /** `[[timeout]]`. */
  values(...params) {
    return super.values(...params).map(() => [this.#connection.busyTimeout])
  }

  /** The rows of `all()`, one at a time (the class's `all()`: a `verbose` logger wraps the instance's). */
  iterate(...params) {
    return super.all(...params).map((row) => this.#patch(row))[Symbol.iterator]()
  }

  #patch(row) {
    if (row !== null && typeof row === 'object' && 'timeout' in row) row.timeout = this.#connection.busyTimeout
    return row
  }
}

/** `PRAGMA busy_timeout`, optionally `schema.`, with or without a value. */
const BUSY_TIMEOUT_PRAGMA = /^\s*PRAGMA\s+(?:\w+\s*\.\s*)?busy_timeout\s*(?:=\s*[^;]*?|\(\s*[^;]*?\s*\))?\s*;?\s*$/is

/** The statement class for `sql`: the busy_timeout pragma's own, else `Statement`. */
function statementClassFor(sql) {
  return BUSY_TIMEOUT_PRAGMA.test(sql) ? BusyTimeoutStatement : Statement
}

module.exports = { Statement, statementClassFor, BIND_NOW }
