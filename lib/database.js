'use strict'
/**
 * `HardenedDb`: a SQLite connection opened through the hardened open sequence
 * with better-sqlite3's API.
 */
const { NativeDatabase } = require('../binding.js')
const { translate, typeError } = require('./errors')
const { normalizeOptions } = require('./options')
const { Statement, wrap } = require('./statement')
const { makeTransaction, controlStatements } = require('./transaction')
const { track, forget } = require('./shutdown')

class HardenedDb {
  #native
  #defaultTransaction
  #control = null
  #tracked

  /**
   * Opens (and if needed creates) the database at `path`: a file path, a
   * `file:` URL or `":memory:"` (the default).
   */
  constructor(path = ':memory:', options = undefined) {
    if (typeof path !== 'string') {
      throw typeError('HARDENED_INVALID_PATH', `Expected the database path to be a string, got ${typeof path}`)
    }
    const { native, defaultTransaction } = normalizeOptions(options)
    this.#native = wrap(() => new NativeDatabase(path, native))
    this.#defaultTransaction = defaultTransaction
    this.#tracked = track(this)
  }

  /** Prepares one SQL statement. */
  prepare(sql) {
    if (typeof sql !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the SQL to be a string, got ${typeof sql}`)
    }
    try {
      return new Statement(this.#native.prepare(sql))
    } catch (error) {
      throw translate(error)
    }
  }

  /** Runs one or more SQL statements (no parameters, rows discarded). */
  exec(sql) {
    if (typeof sql !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the SQL to be a string, got ${typeof sql}`)
    }
    wrap(() => this.#native.exec(sql))
    return this
  }

  /**
   * Runs `PRAGMA source`; returns every row, or with `{ simple: true }` the
   * first column of the first row.
   */
  pragma(source, options = {}) {
    if (typeof source !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the pragma to be a string, got ${typeof source}`)
    }
    const simple = Boolean(options && options.simple)
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
   * `.exclusive` variants; nested calls use savepoints.
   */
  transaction(fn) {
    return makeTransaction(this, fn, () => this.#controlStatements(), this.#defaultTransaction)
  }

  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle = true) {
    this.#native.setDefaultSafeIntegers(Boolean(toggle))
    return this
  }

  /** Closes the connection (idempotent); statements become unusable. */
  close() {
    wrap(() => this.#native.close())
    this.#control = null
    forget(this.#tracked)
    return this
  }

  /** `using db = new HardenedDb(...)` closes it at the end of the scope. */
  [Symbol.dispose]() {
    this.close()
  }

  /** The path the database was opened with. */
  get name() {
    return this.#native.name
  }

  /** Whether the connection is open. */
  get open() {
    return this.#native.open
  }

  /** Whether a transaction is active. */
  get inTransaction() {
    return this.#native.inTransaction
  }

  /** Whether the connection rejects writes (`readonly: true`). */
  get readonly() {
    return this.#native.readonly
  }

  /** Whether it is an in-memory database. */
  get memory() {
    return this.#native.memory
  }

  #controlStatements() {
    if (this.#control === null) this.#control = controlStatements((sql) => this.prepare(sql))
    return this.#control
  }
}

module.exports = { HardenedDb }
