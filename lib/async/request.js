'use strict'
/**
 * One request on one pooled connection: the call's arguments split with the
 * main face's rules (values, arrays of values, one object of named values),
 * the native task started, an `AbortSignal` wired to `interrupt()`, and the
 * outcome turned into rows, a run result, or the error it carries.
 */
const { translate, typeError } = require('../errors')
const { abortedError } = require('./abort')

/** Whether `value` is a plain object (named parameters), not a Buffer, Date or class instance. */
function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Splits a call's arguments into positional values and at most one named object. */
function splitArguments(args) {
  const positional = []
  let named
  for (const arg of args) {
    if (arg === null || typeof arg !== 'object') positional.push(arg)
    else if (Array.isArray(arg)) positional.push(...arg)
    else if (ArrayBuffer.isView(arg) || !isPlainObject(arg)) positional.push(arg)
    else if (named !== undefined) {
      throw typeError('HARDENED_INVALID_ARGUMENT', 'You cannot specify named parameters in two different objects; merge them into one')
    } else named = arg
  }
  return { positional, named }
}

/**
 * Runs `mode` (`get`, `all`, `run`, `exec`, `describe`) of `sql` on `native`.
 * `flags`: `{ reader, inTransaction, safeIntegers, signal }`. Resolves to the
 * native outcome (`kind` `reroute` when a reader met a write).
 */
async function request(native, mode, sql, args, flags) {
  if (flags.signal?.aborted) throw abortedError(flags.signal.reason, 'before it started')
  const { positional, named } = splitArguments(args)
  const keys = named === undefined ? undefined : Object.keys(named)
  const values = keys?.map((key) => named[key])
  let pending
  try {
    pending = native.query(sql, mode, positional, keys, values, flags.reader, flags.inTransaction, flags.safeIntegers)
  } catch (error) {
    throw translate(error)
  }
  return settle(native, pending, flags.signal)
}

/**
 * One step of `iterate()` on `native`: `open` (prepare `sql` with `args`, then
 * the first batch), `next` or `close`. Resolves to a `batch` outcome (`done`
 * when the statement has no more rows).
 */
async function cursorStep(native, step, sql, args, flags) {
  if (step !== 'close' && flags.signal?.aborted) throw abortedError(flags.signal.reason, 'between two batches')
  const { positional, named } = step === 'open' ? splitArguments(args) : { positional: undefined, named: undefined }
  const keys = named === undefined ? undefined : Object.keys(named)
  const values = keys?.map((key) => named[key])
  let pending
  try {
    pending = native.cursor(step, sql, positional, keys, values, BATCH_ROWS, flags.safeIntegers)
  } catch (error) {
    throw translate(error)
  }
  return settle(native, pending, step === 'close' ? undefined : flags.signal)
}

/** Rows per batch of `iterate()`. */
const BATCH_ROWS = 256

/** Waits for the native task of `pending` (the last one started on `native`), interrupting it on `signal`. */
async function settle(native, pending, signal) {
  let onAbort = null
  let repeat = null
  if (signal) {
    const id = native.lastRequestId
    onAbort = () => {
      // SQLite forgets an interrupt that lands before the statement's first step,
      // so it is repeated until the request settles (it only ever hits request `id`).
      if (!native.interrupt(id) || repeat !== null) return
      repeat = setInterval(() => native.interrupt(id), 20)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  }
  const outcome = await pending
  if (repeat !== null) clearInterval(repeat)
  if (onAbort) signal.removeEventListener('abort', onAbort)
  if (outcome instanceof Error) {
    if (signal?.aborted && outcome.code === 'SQLITE_INTERRUPT') throw abortedError(signal.reason, 'while it ran')
    throw translate(outcome)
  }
  return outcome
}

/** The row objects of a `rows` outcome. */
function rowsOf(outcome) {
  const { columns, cells } = outcome
  const width = columns.length
  const rows = []
  for (let i = 0; i < cells.length; i += width) {
    const row = {}
    for (let c = 0; c < width; c++) {
      // A column named __proto__ is a property, not the row's prototype.
      if (columns[c] === '__proto__') Object.defineProperty(row, '__proto__', { value: cells[i + c], enumerable: true, writable: true, configurable: true })
      else row[columns[c]] = cells[i + c]
    }
    rows.push(row)
  }
  return rows
}

/** What `get`/`all`/`run` resolve to, from the outcome of `mode`. */
function resultOf(mode, outcome) {
  if (mode === 'run') return { changes: outcome.changes, lastInsertRowid: outcome.lastInsertRowid }
  if (mode === 'get') return rowsOf(outcome)[0]
  if (mode === 'all') return rowsOf(outcome)
  return undefined
}

module.exports = { request, cursorStep, resultOf, rowsOf, splitArguments }
