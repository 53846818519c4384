'use strict'
/**
 * `Statement`: better-sqlite3's statement API (plus bun:sqlite's `values()`)
 * over a native prepared statement.
 */
const { translate, typeError, HardenedDbError } = require('./errors')
const { NativeStatement } = require('../binding.js')
const { NativeStatementHandle } = require('./native-statement')
const rows = require('./rows')
const { StatementIterator, INVALIDATE } = require('./iterator')
const { encode } = require('./encoded-params')
const ffi = require('./ffi')
const { DONE, FALLBACK, FAILED, RETRY } = ffi
const { collect, readCell, cellCount, lastBatch, release, readFlat, useFlat, runResult } = rows
const { objectShaper, arrayShaper, pluckShaper, expandShaper } = rows

// The hot paths as plain Node-API callbacks taking a statement id and the
// parameters as arguments (see src/statement_hot.rs).
const hot = NativeStatement.hotFunctions(rows.STRINGS_AS_BYTES)
const { run: nativeRun, get: nativeGet, all: nativeAll, iterateStart, iterateNext, iterateEnd } = hot

const EMPTY_NAMES = []

/** The values of a call that takes none (the iteration's batches and end). */
const NO_VALUES = []

/** The code of a call that went to Node-API at once, its values as arguments (no bun:ffi code). */
const NOT_TRIED = -1

/**
 * The methods that take their parameters as one array, for the bun face
 * (lib/bun/statement.js), which would otherwise spread its own rest array
 * again; keyed by symbols, so better-sqlite3's API gains no names.
 */
const WITH_PARAMS = { run: Symbol('run'), get: Symbol('get'), all: Symbol('all'), values: Symbol('values'), iterate: Symbol('iterate') }

class Statement {
  #native
  #id
  #mode = 'object'
  #layout = 0
  #width = 0
  #names = EMPTY_NAMES
  #shape = null
  #database
  #reader
  #batchReader = null
  #batchEnder = null
  #idleCheck = null
  /** The iterator of the open iteration, if any. */
  #iterator = null
  /** How many values fill the parameters by position (-1: named ones needed); learnt on first use. */
  #positional = undefined
  /** Gives a native error the face's class and code (`translate`, or the bun face's `shapeError`). */
  #error
  /** Whether a call ends the open iteration (bun:sqlite's rule) rather than being refused (better-sqlite3's). */
  #callsEndIteration

  /**
   * @internal Use `db.prepare(sql)`. The bun face (lib/bun/statement.js)
   * passes `error(e)`, which shapes the calls' errors as bun:sqlite's, and
   * `callsEndIteration`; with them its hot methods are one call into these,
   * small enough for JavaScriptCore to inline into a caller that spreads
   * values (`stmt.run(...row)`), which otherwise pays a slow varargs call.
   */
  constructor(native, database, error = translate, callsEndIteration = false) {
    if (!(native instanceof NativeStatementHandle)) {
      throw typeError('HARDENED_INVALID_ARGUMENT', 'Statements can only be constructed by the db.prepare() method')
    }
    this.#error = error
    this.#callsEndIteration = callsEndIteration
    this.#native = native
    this.#id = native.id
    this.#database = database
    // Known at prepare time, as in better-sqlite3: pluck(), raw() and expand() still answer after close().
    this.#reader = native.reader
  }

  /** The database (or tenant handle) that prepared this statement. */
  get database() {
    return this.#database
  }

  /** The SQL text this statement was prepared from. */
  get source() {
    return this.#native.source
  }

  /** Whether the statement returns data. */
  get reader() {
    return this.#reader
  }

  /** Whether the statement never writes to the database. */
  get readonly() {
    return this.#call(() => this.#native.readonly)
  }

  /** Whether an iterator is currently open on this statement. */
  get busy() {
    return this.#native.busy
  }

  /** Executes the statement; returns `{ changes, lastInsertRowid }`. */
  run(...params) {
    return this[WITH_PARAMS.run](params)
  }

  /** `run()` with the parameters as one array. */
  [WITH_PARAMS.run](params) {
    this.#endIterationForCall()
    // No try/catch on the way of a call bun:ffi answers: on Bun a try block
    // around it cost about 20 ns a call (2026-11-30, docs/performance-bun.md).
    const code = this.#ffiFirst(params) ? ffi.run(this.#id) : NOT_TRIED
    if (code !== DONE) this.#nodeApi(nativeRun, undefined, code, params)
    return runResult()
  }

  /** The first row, or `undefined` when there is none. */
  get(...params) {
    return this[WITH_PARAMS.get](params)
  }

  /** `get()` with the parameters as one array. */
  [WITH_PARAMS.get](params) {
    this.#endIterationForCall()
    const code = this.#ffiFirst(params) ? ffi.get(this.#id) : NOT_TRIED
    if (code !== DONE) this.#nodeApi(nativeGet, collect, code, params)
    // The row, if any, waits in the scratch buffer: cells [layoutId, ...values].
    const count = cellCount()
    if (count === 0) return undefined
    const shape = this.#shaperFor(readCell(0))
    checkCells(count - 1, this.#width)
    const row = shape(readCell, 1)
    release()
    return row
  }

  /** Every row. */
  all(...params) {
    return this.#every(params, false)
  }

  /** `all()` with the parameters as one array. */
  [WITH_PARAMS.all](params) {
    return this.#every(params, false)
  }

  /** Every row as an array of values (bun:sqlite's `values()`), whatever the mode. */
  values(...params) {
    return this.#every(params, true)
  }

  /** `values()` with the parameters as one array. */
  [WITH_PARAMS.values](params) {
    return this.#every(params, true)
  }

  /**
   * An iterator over the rows (better-sqlite3's `StatementIterator`): the
   * parameters are bound and the iteration opened now, so errors throw here.
   * Until it ends or `return()` (or `break`) is called, this statement refuses
   * other calls, and the connection refuses writes, `exec()`, `pragma()`,
   * `close()` and the like (see docs/api.md).
   */
  iterate(...params) {
    return this[WITH_PARAMS.iterate](params)
  }

  /** `iterate()` with the parameters as one array; `face` as `StatementIterator`'s (lib/iterator.js). */
  [WITH_PARAMS.iterate](params, face = null) {
    this.#endIterationForCall()
    const code = this.#ffiFirst(params) ? ffi.iterateStart(this.#id) : NOT_TRIED
    if (code !== DONE) this.#nodeApi(iterateStart, undefined, code, params)
    this.#batchReader ??= (rows, iterator) => this.#readBatch(rows, iterator)
    this.#batchEnder ??= (iterator) => this.#endIteration(iterator)
    this.#idleCheck ??= () => this.#call(() => this.#native.requireConnectionIdle())
    const iterator = new StatementIterator(this, this.#batchReader, this.#batchEnder, this.#idleCheck, face)
    this.#iterator = iterator
    return iterator
  }

  /** Ends the open iteration before another call of this statement, on a face whose rule that is (bun:sqlite's). */
  #endIterationForCall() {
    if (this.#iterator !== null && this.#callsEndIteration) this.#iterator[INVALIDATE]()
  }

  /**
   * Whether the call goes to bun:ffi first: it brings no values, or they went
   * into the scratch buffer (else Node-API takes them as arguments).
   */
  #ffiFirst(params) {
    return params.length === 0 || this.#encoded(params)
  }

  /**
   * The Node-API call `hot` (with `collect`, for calls that return rows) for
   * what bun:ffi answered with `code`: FALLBACK (the encoded values, if any,
   * still wait), RETRY (it used them up: pass them again) or FAILED (throw its
   * error); or NOT_TRIED, with the values as arguments. Returns what `hot`
   * returns; throws in the face's shape.
   */
  #nodeApi(hot, collect, code, params) {
    const id = this.#id
    const withValues = code === NOT_TRIED || code === RETRY
    try {
      if (code === FAILED) NativeStatement.throwFfiFailure()
      if (collect === undefined) return withValues ? hot(id, ...params) : hot(id)
      return withValues ? hot(id, collect, ...params) : hot(id, collect)
    } catch (error) {
      throw this.#error(error)
    }
  }

  /** `fn()`, its error in the face's shape. */
  #call(fn) {
    try {
      return fn()
    } catch (error) {
      throw this.#error(error)
    }
  }

  /**
   * Whether `params` went into the scratch buffer for the hot call made next
   * (lib/encoded-params.js): when they fill the parameters by position and
   * each is a value JS can type without running user code.
   */
  #encoded(params) {
    if (params.length === 0) return false
    if (this.#positional === undefined) {
      try {
        this.#positional = this.#native.positionalParams
      } catch {
        return false // busy or closed: the call itself says so
      }
    }
    return params.length === this.#positional && encode(params)
  }

  /** Resets the statement if `iterator` is still its open iteration. */
  #endIteration(iterator) {
    if (iterator !== this.#iterator) return
    const code = ffi.iterateEnd(this.#id)
    if (code !== DONE) this.#nodeApi(iterateEnd, undefined, code, NO_VALUES)
    this.#iterator = null
  }

  /**
   * Pushes the next batch of `iterator` onto `rows`; whether it holds the last
   * rows. An iterator whose iteration was ended (by `[Symbol.dispose]()`) reads none.
   */
  #readBatch(rows, iterator) {
    if (iterator !== this.#iterator) return true
    const code = ffi.iterateNext(this.#id)
    if (code !== DONE) this.#nodeApi(iterateNext, collect, code, NO_VALUES)
    // The batch, if any, waits in the scratch buffer: cells [layoutId, ...row1, ...row2].
    const count = cellCount()
    if (count === 0) return true
    const last = lastBatch()
    const shape = this.#shaperFor(readCell(0))
    const width = this.#width
    checkCells(count - 1, width)
    for (let k = 1; k < count; k += width) rows.push(shape(readCell, k))
    release()
    return last
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
    this.#refuseWhileBusy('safeIntegers')
    this.#native.setSafeIntegers(Boolean(toggle))
    return this
  }

  /** Binds parameters for good; later calls must pass none. */
  bind(...params) {
    this.#call(() => this.#native.bind(params))
    return this
  }

  /** Column metadata: `{ name, column, table, database, type }` per result column. */
  columns() {
    const columns = this.#call(() => this.#native.columns())
    if (columns.length === 0) {
      throw typeError('HARDENED_NOT_A_READER', 'The columns() method is only for statements that return data')
    }
    return columns
  }

  /** Resets an open iterator so the statement can run again. */
  [Symbol.dispose]() {
    iterateEnd(this.#id)
    this.#iterator = null
  }

  #setMode(mode, toggle) {
    if (!this.#reader) {
      throw typeError('HARDENED_NOT_A_READER', `The ${mode}() method is only for statements that return data`)
    }
    this.#call(() => this.#native.requireConnectionIdle())
    this.#refuseWhileBusy(mode)
    if (toggle) this.#mode = mode
    else if (this.#mode === mode) this.#mode = 'object'
    this.#layout = 0
    return this
  }

  /**
   * Like better-sqlite3, the row format cannot change under an open iterator
   * (it reads rows ahead in batches, already in the current format).
   */
  #refuseWhileBusy(method) {
    if (this.#native.busy) {
      throw typeError(
        'HARDENED_STATEMENT_BUSY',
        `This statement is busy executing a query; finish or return() its iterator before calling ${method}()`,
      )
    }
  }

  /** Every row, shaped by the current mode or (`asArrays`) as arrays of values. */
  #every(params, asArrays) {
    this.#endIterationForCall()
    // Through Node-API only: its rows may need more than one chunk (bun:ffi has no chunk callback).
    const result = this.#nodeApi(nativeAll, collect, this.#encoded(params) ? FALLBACK : NOT_TRIED, params)
    const out = []
    if (result === undefined) {
      // One chunk waits in the scratch buffer: cells [layoutId, ...row1, ...row2].
      const count = cellCount()
      const shaper = this.#rowShaper(readCell(0), asArrays)
      const width = this.#width
      checkCells(count - 1, width)
      for (let k = 1; k < count; k += width) out.push(shaper(readCell, k))
      release()
      return out
    }
    // Several chunks, each decoded to an array; the first starts with the layout id.
    const shaper = this.#rowShaper(result[0][0], asArrays)
    const width = this.#width
    for (let c = 0; c < result.length; c++) {
      const values = result[c]
      checkCells(c === 0 ? values.length - 1 : values.length, width)
      useFlat(values)
      for (let k = c === 0 ? 1 : 0; k < values.length; k += width) out.push(shaper(readFlat, k))
    }
    useFlat([])
    return out
  }

  /** The shaper for rows of `layout`: the mode's, or arrays of values. */
  #rowShaper(layout, asArrays) {
    const shaper = this.#shaperFor(layout)
    return asArrays ? arrayShaper(this.#width) : shaper
  }

  #shaperFor(layout) {
    if (layout !== this.#layout) {
      const names = this.#call(() => this.#native.columnNames())
      this.#width = names.length
      this.#names = names
      this.#shape = this.#mode === 'object' ? objectShaper(names)
        : this.#mode === 'raw' ? arrayShaper(names.length)
          : this.#mode === 'pluck' ? pluckShaper()
            : expandShaper(this.#call(() => this.#native.columns()))
      this.#layout = layout
    } else if (this.#shape.generic === true) {
      // Run a second time: worth a compiled shaper (see rows.objectShaper).
      this.#shape = objectShaper(this.#names)
    }
    return this.#shape
  }
}

/**
 * Refuses to read rows unless the native side wrote whole rows of `width`
 * cells: a stride that does not match what it wrote would read cells of
 * another row, or left over from an earlier query.
 */
function checkCells(cells, width) {
  if (width === 0 || cells % width !== 0) {
    throw new HardenedDbError(
      `hardened-sqlite read ${cells} values for rows of ${width} columns; please report this as a bug`,
      'HARDENED_INTERNAL',
    )
  }
}

function wrap(fn) {
  try {
    return fn()
  } catch (error) {
    throw translate(error)
  }
}

module.exports = { Statement, WITH_PARAMS, wrap }
