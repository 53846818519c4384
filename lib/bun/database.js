'use strict'
/**
 * `Database` of the bun:sqlite face (`require("hardened-sqlite/bun")`):
 * bun:sqlite's API over the hardened open sequence (busy timeout first, WAL
 * verified, 0600 files, pragmas read back, IMMEDIATE default transactions,
 * migrations, health checks...). See docs/bun.md for what differs and why.
 */
const { typeError } = require('../errors')
const { describe, checkSql } = require('../arguments')
const { runResult } = require('../rows')
const { makeTransaction, controlStatements } = require('../transaction')
const { FORCE_CLOSE } = require('../shutdown')
const { upgradeStatement, upgradeScript } = require('../begin')
const { openConnection, closeConnection } = require('../lifecycle')
const { installHardenedMethods, installConnectionGetters } = require('../hardened-methods')
const io = require('../io')
const { defineFunction, defineAggregate } = require('../functions')
const { statementClassFor, BIND_NOW } = require('./statement')
const { prepareHandle } = require('../native-statement')
const { shapeError } = require('./errors')
const { bunOptions, missingFileReason, functionOptions } = require('./options')
const { UpdateHooks, installUpdateHooks } = require('./update-hooks')

/** The `handle` of the next database opened in this process. */
let nextHandle = 0

/** Most statements `db.query()` keeps (bun:sqlite's `Database.MAX_QUERY_CACHE_SIZE`). */
const MAX_QUERY_CACHE_SIZE = 20

class Database {
  /** The connection state of `openConnection` (lib/lifecycle.js). */
  #state
  #native
  #defaultTransaction
  #upgradeBegin
  /** The `safeIntegers` option: `lastInsertRowid` of `db.run()` is a bigint. */
  #safeIntegers
  #control = null
  /** With the `verbose` option: logs each statement before it runs (lib/verbose.js). */
  #verbose = null
  /** `db.query()`'s statements by SQL, oldest first. */
  #queries = new Map()
  /** See `handle`. */
  #handle = nextHandle++
  /** `onInsert`, `onUpdate`, `onDelete` (lib/bun/update-hooks.js), once one is set. */
  #updateHooks = null

  static {
    // health, checkpoint, backup, migrate, ...: shared with the main face.
    installHardenedMethods(Database.prototype, (db) => db.#state)
    // filename (the path opened, ":memory:" for an in-memory one), open, inTransaction.
    installConnectionGetters(Database.prototype, (db) => db.#native, { filename: 'name', open: 'open', inTransaction: 'inTransaction' })
    // onInsert, onUpdate, onDelete.
    installUpdateHooks(Database.prototype, (db) => (db.#updateHooks ??= new UpdateHooks(db, db.#native, db.#safeIntegers)))
  }

  /**
   * Opens (and by default creates) the database at `path` (`":memory:"`,
   * the default, for a private in-memory one; the bytes of a serialized
   * database, as `Database.deserialize` does) with bun:sqlite's options
   * (`readonly`, `create`, `readwrite`, `strict`, `safeIntegers`) or
   * `SQLITE_OPEN_*` flags, and any hardened option (docs/options.md).
   */
  constructor(path = ':memory:', options = undefined) {
    if (path === null || path === undefined) path = ':memory:'
    let image = options?.[DESERIALIZE]
    let given = image === undefined ? options : options.options
    if (image === undefined && ArrayBuffer.isView(path)) {
      // `new Database(bytes, options)`: as `Database.deserialize(bytes, options)`.
      image = imageOf(path)
      path = ':memory:'
      given = options
    }
    if (image === undefined && typeof path !== 'string') {
      throw typeError('HARDENED_INVALID_PATH', `Expected 'filename' to be a string, got ${describe(path)}`)
    }
    const { options: hardened, checked, face } = bunOptions(given)
    this.#defaultTransaction = checked.defaultTransaction
    this.#upgradeBegin = checked.upgradeDeferredBegin
    this.#safeIntegers = hardened.safeIntegers === true
    try {
      openConnection(this, path, image, hardened, checked, face, (state) => {
        this.#state = state
        this.#native = state.native
      })
    } catch (error) {
      if (error?.hardenedCode === 'HARDENED_FILE_NOT_FOUND') {
        // bun:sqlite's message, then which option kept the file from being created.
        const [reason, fix] = missingFileReason(given)
        error.message = `unable to open database file: ${path} does not exist and ${reason}; check the path, or ${fix}`
      }
      throw shapeError(error)
    }
    this.#verbose = this.#state.verbose
  }

  /** `new Database(path, flags)`. */
  static open(path, flags = undefined) {
    return new this(path, flags)
  }

  /**
   * Opens an in-memory copy of `bytes` (what `serialize()` returns: any
   * TypedArray, DataView, ArrayBuffer or SharedArrayBuffer); the
   * second argument is `true` for read-only, or the options of the constructor.
   */
  static deserialize(bytes, options = undefined) {
    if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && bytes instanceof SharedArrayBuffer)) {
      bytes = new Uint8Array(bytes)
    }
    if (!ArrayBuffer.isView(bytes)) {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the serialized database to be a Uint8Array or Buffer, got ${describe(bytes)}`)
    }
    const given = typeof options === 'boolean' ? { readonly: options } : options
    return new this(':memory:', { [DESERIALIZE]: imageOf(bytes), options: given })
  }

  /** bun:sqlite's way to load another SQLite library: not offered (see docs/bun.md). */
  static setCustomSQLite() {
    throw typeError(
      'HARDENED_UNSUPPORTED',
      'setCustomSQLite() is not supported: hardened-sqlite links its own SQLite build, whose settings its hardening relies on',
    )
  }

  /**
   * A number that identifies this database in the process (not a file
   * descriptor): it stays after `close()`, and no other database gets it.
   */
  get handle() {
    return this.#handle
  }

  /**
   * Prepares `sql` once per connection and returns the same statement for the
   * same SQL (a finalized one is replaced); keeps up to 20.
   */
  query(sql) {
    const cached = this.#queries.get(sql)
    if (cached !== undefined && !cached.isFinalized) return cached
    const statement = this.prepare(sql)
    this.#queries.delete(sql)
    if (this.#queries.size >= MAX_QUERY_CACHE_SIZE) this.#queries.delete(this.#queries.keys().next().value)
    this.#queries.set(sql, statement)
    return statement
  }

  /** Prepares one SQL statement; `params`, if given, are bound now (and kept for calls without any). */
  prepare(sql, ...params) {
    checkSql(sql)
    const statement = this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql)
    if (params.length > 0 && !(params.length === 1 && params[0] === undefined)) {
      // Bound now, not run: calls without parameters run with these (bun:sqlite's rule).
      try {
        statement[BIND_NOW](params)
      } catch (error) {
        throw shapeError(error, this.#native)
      }
    }
    return statement
  }

  #prepare(sql) {
    let statement
    try {
      const StatementClass = statementClassFor(sql)
      const native = prepareHandle(this.#native, sql)
      statement = new StatementClass(native, this, this.#native)
      if (this.#verbose !== null) statement = this.#verbose.statement(statement, native, true)
    } catch (error) {
      throw shapeError(error, this.#native)
    }
    return statement
  }

  /**
   * Runs `sql`: several statements without parameters, or one with them;
   * returns `{ changes, lastInsertRowid }`.
   */
  run(sql, ...params) {
    checkSql(sql)
    if (params.length > 0 && !(params.length === 1 && params[0] === undefined)) return this.#runWithParams(sql, params)
    return this.#runScript(sql)
  }

  /** Runs every statement of `sql`, without parameters. */
  #runScript(sql) {
    const script = this.#upgradeBegin ? upgradeScript(sql) : sql
    try {
      // With `verbose`, one statement at a time, each logged before it runs (lib/verbose.js).
      if (this.#verbose === null) this.#native.execCounting(script, this.#safeIntegers)
      else this.#verbose.exec(script, this)
    } catch (error) {
      shapeError(error, this.#native)
      if (error?.byteOffset >= 0) error.byteOffset = this.#scriptOffset(sql, error.byteOffset)
      throw error
    }
    return runResult()
  }

  /**
   * Where in the whole script the token of a prepare error is: SQLite gives
   * `offset` within the failing statement, bun:sqlite within the script. The
   * statements before it ran, so preparing them again finds where it starts.
   */
  #scriptOffset(sql, offset) {
    let start = 0
    for (let guard = 0; guard < 10000 && start < sql.length; guard++) {
      let length
      try {
        length = this.#native.firstStatementLength(sql.slice(start))
      } catch (failure) {
        // The failing statement, prepared alone: its own offset counts from `start`.
        const own = shapeError(failure, this.#native).byteOffset
        return own >= 0 ? Buffer.byteLength(sql.slice(0, start)) + own : offset
      }
      if (length === 0) break
      start += length
    }
    return offset
  }

  /** Runs `sql` with `params` bound to its first statement, then the rest of it (as bun:sqlite does). */
  #runWithParams(sql, params) {
    let statement
    let rest = ''
    try {
      statement = this.prepare(sql)
    } catch (error) {
      if (error?.code !== 'HARDENED_MULTIPLE_STATEMENTS') throw error
      let length
      try {
        length = this.#native.firstStatementLength(sql)
      } catch (failure) {
        throw shapeError(failure, this.#native)
      }
      statement = this.prepare(sql.slice(0, length))
      rest = sql.slice(length)
    }
    let first
    try {
      first = statement.run(...params)
    } finally {
      statement.finalize()
    }
    if (rest === '') return first
    const after = this.#runScript(rest)
    return { changes: first.changes + after.changes, lastInsertRowid: after.lastInsertRowid }
  }

  /** `db.run()`, as bun:sqlite's `exec`. */
  exec(sql, ...params) {
    return this.run(sql, ...params)
  }

  /**
   * Wraps `fn` in a transaction function: IMMEDIATE by default (see the
   * `defaultTransaction` option), with `.deferred`, `.immediate` and
   * `.exclusive`; nested calls use savepoints.
   */
  transaction(fn, options = undefined) {
    if (!this.open) throw typeError('HARDENED_NOT_OPEN', 'The database connection is not open')
    return makeTransaction(this, fn, () => this.#controlStatements(), this.#defaultTransaction, options ?? {}, shapeError)
  }

  /** The database (or attached schema `name`) as bytes that `Database.deserialize()` opens. */
  serialize(name = undefined) {
    try {
      return io.serialize(this.#native, name === undefined ? undefined : { attached: name })
    } catch (error) {
      throw shapeError(error, this.#native)
    }
  }

  /**
   * `sqlite3_file_control`: `fileControl(op, value)` or `fileControl(schema, op,
   * value)`, for the opcodes that read or write one integer; returns SQLite's
   * result code. `value` is an integer (`null`: 0), or a TypedArray of at least 8 bytes
   * that SQLite reads and writes in place (its first 8 bytes).
   */
  fileControl(...args) {
    const [schema, op, value] = typeof args[0] === 'string' ? args : ['main', ...args]
    if (!Number.isInteger(op)) {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the file control opcode to be an integer (constants.SQLITE_FCNTL_*), got ${describe(op)}`)
    }
    const slot = new BigInt64Array(1)
    const view = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null
    if (view !== null) {
      if (view.length < 8) throw typeError('HARDENED_INVALID_ARGUMENT', `TypedArray must be at least 8 bytes: SQLite may write a 64-bit value through it (got ${view.length})`)
      new Uint8Array(slot.buffer).set(view.subarray(0, 8))
    } else if (value != null) {
      if (!(Number.isInteger(value) || typeof value === 'bigint')) {
        throw typeError('HARDENED_INVALID_ARGUMENT', `fileControl() takes an integer or a TypedArray of at least 8 bytes, got ${describe(value)}`)
      }
      slot[0] = BigInt.asIntN(64, BigInt(value))
    }
    try {
      const code = this.#native.fileControl(schema, op, slot)
      if (view !== null) view.set(new Uint8Array(slot.buffer))
      return code
    } catch (error) {
      throw shapeError(error, this.#native)
    }
  }

  /** Loads the native SQLite extension at `path`: it runs with this process's rights. */
  loadExtension(path, entryPoint = undefined) {
    try {
      io.loadExtension(this.#native, path, entryPoint)
    } catch (error) {
      throw shapeError(error, this.#native)
    }
  }

  /**
   * Registers the SQL function `name` calling `fn`: `function(name, fn)` or
   * `function(name, { varargs, deterministic, directOnly, safeIntegers }, fn)`
   * (`useBigIntArguments` is `safeIntegers`, as in bun:sqlite).
   */
  function(name, options, fn = undefined) {
    try {
      defineFunction(this.#native, name, functionOptions(options), fn)
    } catch (error) {
      throw shapeError(error, this.#native)
    }
    return this
  }

  /**
   * Registers the SQL aggregate `name`: `{ start, step, inverse, result }` and
   * the options of `function()`; with `inverse` it is a window function too.
   */
  aggregate(name, options) {
    try {
      defineAggregate(this.#native, name, functionOptions(options))
    } catch (error) {
      throw shapeError(error, this.#native)
    }
    return this
  }

  /**
   * Turns SQLite's defensive mode and the refusal of weakening pragmas off
   * (`unsafeMode(true)`) or back on (`unsafeMode(false)`), as the main face's
   * `unsafeMode()`: for repair tools only. It never lifts `readonly`.
   */
  unsafeMode(unsafe = true) {
    if (typeof unsafe !== 'boolean') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `unsafeMode() expects a boolean, got ${describe(unsafe)}`)
    }
    try {
      this.#native.setUnsafeMode(unsafe)
    } catch (error) {
      throw shapeError(error, this.#native)
    }
    return this
  }

  /** How many statements `db.query()` keeps, under bun:sqlite's key for it (Bun's tests read it). */
  get [Symbol.for('Bun.Database.cache.count')]() {
    return this.#queries.size
  }

  /** Finalizes the statements `db.query()` kept. */
  clearQueryCache() {
    for (const statement of this.#queries.values()) {
      if (!statement.isFinalized) statement.finalize()
    }
    this.#queries.clear()
  }

  /**
   * Closes the connection (idempotent). `close(true)` refuses
   * (`HARDENED_DATABASE_BUSY`) while an iteration is open; `close()` ends it.
   */
  close(throwOnError = false) {
    this.#queries.clear()
    this.#control = null
    try {
      closeConnection(this, this.#state, throwOnError !== true)
    } catch (error) {
      throw shapeError(error, this.#native)
    }
  }

  /** @internal Closes even with an iterator open: the process is exiting or was signalled. */
  [FORCE_CLOSE]() {
    this.close(false)
  }

  /** `using db = new Database(...)` closes it at the end of the scope. */
  [Symbol.dispose]() {
    this.close(false)
  }

  #controlStatements() {
    if (this.#control === null) this.#control = controlStatements((sql) => this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql))
    return this.#control
  }
}

/**
 * The bytes of a serialized database (any TypedArray, Buffer or DataView) as
 * a Buffer over the same memory; the open copies them.
 */
function imageOf(bytes) {
  if (bytes.byteLength === 0) {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'ArrayBuffer must not be empty: pass the bytes db.serialize() returned, or no argument for an empty in-memory database')
  }
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Marks the options of `Database.deserialize` (not an option a caller can pass). */
const DESERIALIZE = Symbol('hardened-sqlite.deserialize')

Database.MAX_QUERY_CACHE_SIZE = MAX_QUERY_CACHE_SIZE

module.exports = { Database }
