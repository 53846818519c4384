'use strict'
/**
 * Cancelling one request of the async handle: an `AbortSignal` or a timeout
 * in milliseconds interrupts the running statement through `sqlite3_interrupt`
 * (or keeps a queued one from starting); the request then rejects with
 * `HARDENED_ABORTED`, the signal's reason as `.cause`.
 */
const { HardenedDbError } = require('../errors')
const { typeError } = require('../errors')
const { describe, isOptionsObject } = require('../arguments')

/** The `HARDENED_ABORTED` error; `when` says where the request was. */
function abortedError(reason, when) {
  const timedOut = reason?.name === 'TimeoutError'
  return new HardenedDbError(
    `The query was ${timedOut ? 'cancelled by its timeout' : 'aborted by its AbortSignal'} ${when}; SQLite undid what the statement had done`,
    'HARDENED_ABORTED',
    { cause: reason },
  )
}

/** Checks `{ signal, timeout }` and returns it as `{ signal }` (a timeout becomes a signal). */
function checkRequestOptions(options) {
  if (!isOptionsObject(options)) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected request options such as { signal, timeout }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (key !== 'signal' && key !== 'timeout') {
      throw typeError('HARDENED_INVALID_OPTION', `Unknown request option "${key}"; the options are "signal" (an AbortSignal) and "timeout" (milliseconds)`)
    }
  }
  const { signal, timeout } = options
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError('HARDENED_INVALID_OPTION', `Request option "signal" must be an AbortSignal, got ${describe(signal)}`)
  }
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout <= 0 || timeout > 2 ** 31 - 1)) {
    throw typeError('HARDENED_INVALID_OPTION', `Request option "timeout" must be a whole number of milliseconds above 0, got ${describe(timeout)}`)
  }
  const signals = [signal, timeout === undefined ? undefined : AbortSignal.timeout(timeout)].filter(Boolean)
  return { signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] }
}

module.exports = { abortedError, checkRequestOptions }
