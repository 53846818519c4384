'use strict'
/**
 * `HardenedDb`: a SQLite connection opened through the hardened open sequence
 * with better-sqlite3's API.
 */
const { translate, typeError } = require('../errors')
const { describe, rangeError, checkOptions, checkSql } = require('../arguments')
const { normalizeOptions } = require('../options')
const { Statement, wrap } = require('../statement')
const { prepareHandle } = require('../native-statement')
const { makeTransaction, controlStatements } = require('../transaction')
const { FORCE_CLOSE } = require('../shutdown')
const { upgradeStatement, upgradeScript } = require('../begin')
const { openConnection, closeConnection } = require('../lifecycle')
const { installHardenedMethods, installConnectionGetters } = require('../hardened-methods')
const io = require('../io')
const { openTenant } = require('./tenant')
const { defineFunction, defineAggregate } = require('../functions')
const { defineTable } = require('../table')

/**
 * `busy_timeout`, `busy_timeout = N` or `busy_timeout(N)` (optionally `schema.`), as given to
 * `db.pragma()`; group 1 or 2 is the value as written. Every form is caught, so a value the fair
 * handler cannot take is refused instead of reaching SQLite, which would swap in its own handler.
 */
const BUSY_TIMEOUT_PRAGMA = /^\s*(?:\w+\s*\.\s*)?busy_timeout\s*(?:=\s*(.*?)|\(\s*(.*?)\s*\))?\s*;?\s*$/is

/** A value of `PRAGMA busy_timeout = ...`: digits, optionally signed or quoted. */
const BUSY_TIMEOUT_VALUE = /^(['"]?)([+-]?\d+)\1$/

class HardenedDb {
  /** The connection state of `openConnection` (lib/lifecycle.js). */
  #state
  #native
  #defaultTransaction
  #control = null
  #upgradeBegin
  /** With the `verbose` option: logs each statement before it runs (lib/verbose.js). */
  #verbose = null

  static {
    // health, checkpoint, backup, migrate, ...: shared with the bun face.
    installHardenedMethods(HardenedDb.prototype, (db) => db.#state)
    // name, open, inTransaction, readonly, memory: read from the native connection.
    installConnectionGetters(HardenedDb.prototype, (db) => db.#native, {
      name: 'name', open: 'open', inTransaction: 'inTransaction', readonly: 'readonly', memory: 'memory',
    })
  }

  /**
   * Opens (and if needed creates) the database at `path`: a file path, a
   * `file:` URL, `":memory:"`, or `""` (the default, also for `null`): a
   * private temporary database, as in better-sqlite3.
   */
  constructor(path = '', options = undefined) {
    if (path === null) path = ''
    // A Buffer (what serialize() returns) opens an in-memory copy of it, as in better-sqlite3.
    const image = io.bufferOf(path)
    if (image === undefined && typeof path !== 'string') {
      throw typeError('HARDENED_INVALID_PATH', `Expected the database path to be a string, got ${describe(path)}`)
    }
    const checked = normalizeOptions(options)
    this.#defaultTransaction = checked.defaultTransaction
    this.#upgradeBegin = checked.upgradeDeferredBegin
    // Adopted as soon as it opens: the health check at open reads it through health() and name.
    openConnection(this, path, image, options, checked, undefined, (state) => {
      this.#state = state
      this.#native = state.native
    })
    this.#verbose = this.#state.verbose
  }

  /** The database (or `{ attached }` schema) as a Buffer that `new HardenedDb(buffer)` opens. */
  serialize(options = undefined) {
    return io.serialize(this.#native, options)
  }

  /** Loads the native SQLite extension at `path`: it runs with this process's rights. */
  loadExtension(path, entryPoint = undefined) {
    io.loadExtension(this.#native, path, entryPoint)
    return this
  }

  /** Prepares one SQL statement (a deferred `BEGIN` begins IMMEDIATE: option `upgradeDeferredBegin`). */
  prepare(sql) {
    checkSql(sql)
    return this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql)
  }

  /** Prepares `sql` exactly as given. */
  #prepare(sql) {
    try {
      const native = prepareHandle(this.#native, sql)
      const statement = new Statement(native, this)
      return this.#verbose === null ? statement : this.#verbose.statement(statement, native)
    } catch (error) {
      throw translate(error)
    }
  }

  /** Runs one or more SQL statements (no parameters, rows discarded). */
  exec(sql) {
    checkSql(sql)
    const script = this.#upgradeBegin ? upgradeScript(sql) : sql
    if (this.#verbose === null) wrap(() => this.#native.exec(script))
    else this.#verbose.exec(script, this)
    return this
  }

  /**
   * Runs `PRAGMA source`; returns every row, or with `{ simple: true }` the
   * first column of the first row.
   */
  pragma(source, options = undefined) {
    if (typeof source !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the pragma to be a string, got ${describe(source)}`)
    }
    const checked = checkOptions(options, { simple: 'boolean' }, 'pragma')
    if ('simple' in checked && typeof checked.simple !== 'boolean') {
      // better-sqlite3 refuses { simple: undefined } too: the key is there, so a boolean was meant.
      throw typeError('HARDENED_INVALID_ARGUMENT', `Option "simple" of pragma must be a boolean, got ${describe(checked.simple)}; leave the key out for false`)
    }
    const simple = checked.simple === true
    // As in better-sqlite3: no pragma while an iterator of the connection is open (unless unsafeMode()).
    wrap(() => this.#native.requireNoIterators())
    const busy = BUSY_TIMEOUT_PRAGMA.exec(source)
    if (busy) return this.#busyTimeoutPragma(busy[1] ?? busy[2], simple)
    const statement = this.prepare(`PRAGMA ${source}`)
    if (!statement.reader) {
      statement.run()
      return simple ? undefined : []
    }
    return simple ? statement.pluck().get() : statement.all()
  }

  /**
   * Wraps `fn` in a transaction function: IMMEDIATE by default (see the
   * `defaultTransaction` option), with `.deferred`, `.immediate` and
   * `.exclusive` variants; nested calls use savepoints. `{ retries: N }`
   * re-runs the whole of `fn` up to N times after SQLITE_BUSY*, so `fn` must
   * have no side effects outside the database.
   */
  transaction(fn, options) {
    if (!this.open) throw typeError('HARDENED_NOT_OPEN', 'The database connection is not open')
    return makeTransaction(this, fn, () => this.#controlStatements(), this.#defaultTransaction, options)
  }

  /**
   * A handle of the same API on its own connection to this file whose SQL sees
   * and writes only the rows of `tenantId` (a string or an integer) in every
   * table having the column `options.column` (default `"tenant_id"`); tables
   * in `options.shared` are readable by every tenant. See docs/security.md.
   */
  forTenant(tenantId, options = undefined) {
    const settings = { upgradeBegin: this.#upgradeBegin, defaultTransaction: this.#defaultTransaction }
    return openTenant(this.#native, tenantId, options, settings)
  }

  /**
   * Registers the SQL function `name` calling `fn` (better-sqlite3's
   * `function()`): options `varargs`, `deterministic`, `directOnly`,
   * `safeIntegers`, and `innocuous` (callable from views and triggers).
   */
  function(name, options, fn) {
    wrap(() => defineFunction(this.#native, name, options, fn))
    return this
  }

  /**
   * Registers the SQL aggregate `name` (better-sqlite3's `aggregate()`):
   * `{ start, step, inverse, result }` and the options of `function()`;
   * with `inverse` it is a window function too.
   */
  aggregate(name, options) {
    wrap(() => defineAggregate(this.#native, name, options))
    return this
  }

  /**
   * Registers the virtual table `name` (better-sqlite3's `table()`): a
   * definition `{ columns, rows, parameters, safeIntegers, directOnly,
   * innocuous }` makes a table-valued function, a factory returning one a
   * module for CREATE VIRTUAL TABLE. Rows come from the `rows` generator.
   */
  table(name, definition) {
    wrap(() => defineTable(this.#native, name, definition))
    return this
  }

  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle = true) {
    if (typeof toggle !== 'boolean') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `defaultSafeIntegers(toggle) takes true or false, got ${describe(toggle)}`)
    }
    this.#native.setDefaultSafeIntegers(toggle)
    return this
  }

  /**
   * Turns SQLite's defensive mode off (`unsafeMode()`, `unsafeMode(true)`) or
   * back on (`unsafeMode(false)`), as better-sqlite3's does: with it off, SQL
   * may use `PRAGMA writable_schema`, `journal_mode=OFF` and other ways to
   * corrupt the file. It never lifts `readonly`.
   */
  unsafeMode(unsafe = true) {
    if (typeof unsafe !== 'boolean') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `unsafeMode() expects a boolean, got ${typeof unsafe}`)
    }
    wrap(() => this.#native.setUnsafeMode(unsafe))
    return this
  }

  /**
   * Closes the connection (idempotent); statements become unusable. Refused
   * (`HARDENED_DATABASE_BUSY`) while an iterator of the connection is open.
   */
  close() {
    return this.#close(false)
  }

  /** @internal Closes even with an iterator open: the process is exiting or was signalled. */
  [FORCE_CLOSE]() {
    return this.#close(true)
  }

  #close(force) {
    closeConnection(this, this.#state, force)
    this.#control = null
    return this
  }

  /** `using db = new HardenedDb(...)` closes it at the end of the scope. */
  [Symbol.dispose]() {
    this.close()
  }

  /**
   * `PRAGMA busy_timeout` as the fair busy handler sees it: SQLite itself
   * reads 0 once a custom handler is installed, and setting it through SQL
   * would swap the fair handler for SQLite's own.
   */
  #busyTimeoutPragma(value, simple) {
    if (value !== undefined) {
      const digits = BUSY_TIMEOUT_VALUE.exec(value)?.[2]
      const ms = digits === undefined ? NaN : Number(digits)
      if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
        throw rangeError(
          'HARDENED_INVALID_ARGUMENT',
          `PRAGMA busy_timeout takes a whole number of milliseconds from 0 to 2147483647 (like the busyTimeout option), got ${describe(value)}`,
        )
      }
      wrap(() => this.#native.setBusyTimeout(ms))
    }
    const ms = wrap(() => this.#native.busyTimeout)
    return simple ? ms : [{ timeout: ms }]
  }

  #controlStatements() {
    // As given: `.deferred` stays deferred whatever `upgradeDeferredBegin` says.
    // With upgradeDeferredBegin, `.deferred` takes the write lock at BEGIN too: it is what ORMs ask for by default.
    if (this.#control === null) this.#control = controlStatements((sql) => this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql))
    return this.#control
  }
}

module.exports = { HardenedDb }
