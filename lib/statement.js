'use strict'
/**
 * `Statement`: better-sqlite3's statement API (plus bun:sqlite's `values()`)
 * over a native prepared statement.
 */
const { translate, typeError } = require('./errors')
const { objectShaper, arrayShaper, pluckShaper, expandShaper } = require('./rows')

class Statement {
  #native
  #mode = 'object'
  #layout = 0
  #width = 0
  #shape = null

  /** @internal Use `db.prepare(sql)`. */
  constructor(native) {
    this.#native = native
  }

  /** The SQL text this statement was prepared from. */
  get source() {
    return this.#native.source
  }

  /** Whether the statement returns data. */
  get reader() {
    return wrap(() => this.#native.reader)
  }

  /** Whether the statement never writes to the database. */
  get readonly() {
    return wrap(() => this.#native.readonly)
  }

  /** Whether an iterator is currently open on this statement. */
  get busy() {
    return this.#native.busy
  }

  /** Executes the statement; returns `{ changes, lastInsertRowid }`. */
  run(...params) {
    try {
      return this.#native.run(params)
    } catch (error) {
      throw translate(error)
    }
  }

  /** The first row, or `undefined` when there is none. */
  get(...params) {
    let flat
    try {
      flat = this.#native.get(params)
    } catch (error) {
      throw translate(error)
    }
    if (flat === undefined) return undefined
    return this.#shaperFor(flat[0])(flat, 1)
  }

  /** Every row. */
  all(...params) {
    let flat
    try {
      flat = this.#native.all(params)
    } catch (error) {
      throw translate(error)
    }
    const shape = this.#shaperFor(flat[0])
    const width = this.#width
    const rows = new Array((flat.length - 1) / width)
    for (let i = 0, o = 1; o < flat.length; i++, o += width) rows[i] = shape(flat, o)
    return rows
  }

  /** Every row as an array of values (bun:sqlite's `values()`), whatever the mode. */
  values(...params) {
    let flat
    try {
      flat = this.#native.all(params)
    } catch (error) {
      throw translate(error)
    }
    this.#shaperFor(flat[0])
    const width = this.#width
    const rows = new Array((flat.length - 1) / width)
    for (let i = 0, o = 1; o < flat.length; i++, o += width) rows[i] = flat.slice(o, o + width)
    return rows
  }

  /** An iterator over the rows; `return()` (or `break`) resets the statement. */
  *iterate(...params) {
    const native = this.#native
    try {
      native.iterateStart(params)
    } catch (error) {
      throw translate(error)
    }
    try {
      for (;;) {
        let flat
        try {
          flat = native.iterateNext()
        } catch (error) {
          throw translate(error)
        }
        if (flat === undefined) return
        yield this.#shaperFor(flat[0])(flat, 1)
      }
    } finally {
      native.iterateEnd()
    }
  }

  /** Rows come back as arrays of values (`raw(false)` turns it off). */
  raw(toggle = true) {
    return this.#setMode('raw', toggle)
  }

  /** Rows come back as their first column's value only. */
  pluck(toggle = true) {
    return this.#setMode('pluck', toggle)
  }

  /** Rows come back as `{ table: { column: value } }`. */
  expand(toggle = true) {
    return this.#setMode('expand', toggle)
  }

  /** INTEGER columns (and `lastInsertRowid`) come back as `bigint`. */
  safeIntegers(toggle = true) {
    this.#native.setSafeIntegers(Boolean(toggle))
    return this
  }

  /** Binds parameters for good; later calls must pass none. */
  bind(...params) {
    wrap(() => this.#native.bind(params))
    return this
  }

  /** Column metadata: `{ name, column, table, database, type }` per result column. */
  columns() {
    const columns = wrap(() => this.#native.columns())
    if (columns.length === 0) {
      throw typeError('HARDENED_NOT_A_READER', 'The columns() method is only for statements that return data')
    }
    return columns
  }

  /** Resets an open iterator so the statement can run again. */
  [Symbol.dispose]() {
    this.#native.iterateEnd()
  }

  #setMode(mode, toggle) {
    if (!this.reader) {
      throw typeError('HARDENED_NOT_A_READER', `The ${mode}() method is only for statements that return data`)
    }
    if (toggle) this.#mode = mode
    else if (this.#mode === mode) this.#mode = 'object'
    this.#layout = 0
    return this
  }

  #shaperFor(layout) {
    if (layout !== this.#layout) {
      const names = wrap(() => this.#native.columnNames())
      this.#width = names.length
      this.#shape = this.#mode === 'object' ? objectShaper(names)
        : this.#mode === 'raw' ? arrayShaper(names.length)
          : this.#mode === 'pluck' ? pluckShaper()
            : expandShaper(wrap(() => this.#native.columns()))
      this.#layout = layout
    }
    return this.#shape
  }
}

function wrap(fn) {
  try {
    return fn()
  } catch (error) {
    throw translate(error)
  }
}

module.exports = { Statement, wrap }
