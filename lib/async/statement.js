'use strict'
/**
 * `AsyncStatement`: what `await db.prepare(sql)` gives. Its `get`, `all` and
 * `run` return promises; a read-only statement runs on a reader, any other on
 * the writer (in turn with every other write). It holds no SQLite handle: each
 * pooled connection keeps its own prepared copy in a statement cache.
 */
const { typeError } = require('../errors')
const { resultOf } = require('./request')
const { checkRequestOptions } = require('./abort')

/** A prepared statement of the async handle. */
class AsyncStatement {
  #db
  #runner
  #safeIntegers
  #signal
  #iterator

  /** (internal) Made by `db.prepare()` / `tx.prepare()`; `iterator` is absent inside a transaction. */
  constructor(db, runner, sql, description, safeIntegers, signal, iterator) {
    this.#db = db
    this.#runner = runner
    this.#iterator = iterator
    this.source = sql
    this.readonly = description.readonly
    this.reader = description.returnsData
    this.#safeIntegers = safeIntegers
    this.#signal = signal
  }

  /** The database handle it belongs to. */
  get database() {
    return this.#db
  }

  /** Reads INTEGER columns (and `lastInsertRowid`) as bigint when `on` (default `true`); returns the statement. */
  safeIntegers(on = true) {
    if (typeof on !== 'boolean') throw typeError('HARDENED_INVALID_ARGUMENT', 'Expected safeIntegers() to be given a boolean')
    this.#safeIntegers = on
    return this
  }

  /**
   * A copy of the statement whose calls honour `{ signal, timeout }`: an
   * `AbortSignal` and/or milliseconds after which a running call is interrupted
   * (`HARDENED_ABORTED`).
   */
  withOptions(options) {
    const { signal } = checkRequestOptions(options)
    return new AsyncStatement(this.#db, this.#runner, this.source, { readonly: this.readonly, returnsData: this.reader }, this.#safeIntegers, signal, this.#iterator)
  }

  #call(mode, args) {
    if (mode !== 'run' && !this.reader) {
      return Promise.reject(typeError('HARDENED_NOT_A_READER', 'This statement does not return data; use run() instead'))
    }
    return this.#runner(mode, this.source, args, { safeIntegers: this.#safeIntegers, signal: this.#signal }, this.readonly)
      .then((outcome) => resultOf(mode, outcome))
  }

  /** Resolves to the first row (or `undefined`). */
  get(...params) {
    return this.#call('get', params)
  }

  /** Resolves to every row. */
  all(...params) {
    return this.#call('all', params)
  }

  /** Runs it; resolves to `{ changes, lastInsertRowid }`. */
  run(...params) {
    return this.#call('run', params)
  }

  /**
   * `for await (const row of stmt.iterate(...params))`: rows fetched in batches
   * of 256 on one connection, which the loop holds until it ends (`break` ends it too).
   */
  iterate(...params) {
    if (!this.reader) throw typeError('HARDENED_NOT_A_READER', 'This statement does not return data; use run() instead')
    if (this.#iterator === undefined) {
      throw typeError('HARDENED_UNSUPPORTED', 'iterate() is not available inside db.transaction() yet; use all() there')
    }
    return this.#iterator(this.source, params, { safeIntegers: this.#safeIntegers, signal: this.#signal }, this.readonly)
  }
}

module.exports = { AsyncStatement }
