'use strict'
/**
 * Error classes of the package, and the one place where native errors get them.
 *
 * Every error the native addon throws carries a string `.code`. SQLite's own
 * failures (`SQLITE_*`) become `SqliteError`, the library's (`HARDENED_*`)
 * become `HardenedDbError` unless the addon already made them a `TypeError` or
 * `RangeError` (misuse and out-of-range values keep those built-in classes).
 */

/**
 * An error reported by SQLite; `.code` is the extended result code name.
 * better-sqlite3's `SqliteError`: callable with or without `new`, the message
 * turned into a string, the code required to be one (else a `TypeError`).
 */
function SqliteError(message, code) {
  if (new.target === undefined) return new SqliteError(message, code)
  if (typeof code !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected second argument to be a string (the error code, such as "SQLITE_ERROR"), got ${code === null ? 'null' : typeof code}`)
  }
  Object.defineProperty(this, 'message', { value: `${message}`, writable: true, enumerable: false, configurable: true })
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(this, SqliteError)
  else Object.defineProperty(this, 'stack', { value: new Error(this.message).stack, writable: true, configurable: true })
  this.code = code
}
Object.setPrototypeOf(SqliteError, Error)
Object.setPrototypeOf(SqliteError.prototype, Error.prototype)
Object.defineProperty(SqliteError.prototype, 'name', { value: 'SqliteError', writable: true, configurable: true })

/** An error raised by hardened-sqlite itself; `.code` is a `HARDENED_*` code. */
class HardenedDbError extends Error {
  constructor(message, code, options) {
    super(message, options)
    this.code = code
  }
}
Object.defineProperty(HardenedDbError.prototype, 'name', { value: 'HardenedDbError', writable: true, configurable: true })

/** Codes napi-rs itself uses when an argument has the wrong type. */
const NAPI_ARGUMENT_CODES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected',
])

/**
 * Hardened checks that fire where SQLite itself would have failed, by the code
 * SQLite would have given: better-sqlite3 code catches them as `SqliteError`
 * with that `.code`, and `.hardenedCode` keeps the precise reason.
 */
const AS_SQLITE = { HARDENED_FILE_NOT_FOUND: 'SQLITE_CANTOPEN' }

/** Gives a native error its public class (in place) and returns it. */
function translate(error) {
  if (!(error instanceof Error) || typeof error.code !== 'string') return error
  const sqliteCode = Object.hasOwn(AS_SQLITE, error.code) ? AS_SQLITE[error.code] : undefined
  if (sqliteCode !== undefined) {
    Object.defineProperty(error, 'hardenedCode', { value: error.code, enumerable: true, writable: true, configurable: true })
    error.code = sqliteCode
  }
  const code = error.code
  if (code.startsWith('SQLITE_')) {
    Object.setPrototypeOf(error, SqliteError.prototype)
  } else if (code.startsWith('HARDENED_')) {
    if (!(error instanceof TypeError) && !(error instanceof RangeError)) {
      Object.setPrototypeOf(error, HardenedDbError.prototype)
    }
  } else if (NAPI_ARGUMENT_CODES.has(code)) {
    Object.setPrototypeOf(error, TypeError.prototype)
    error.code = 'HARDENED_INVALID_ARGUMENT'
  }
  if (error.cause) translate(error.cause)
  return error
}

/** A `TypeError` with a stable code, for misuse detected in JS. */
function typeError(code, message) {
  const error = new TypeError(message)
  error.code = code
  return error
}

module.exports = { SqliteError, HardenedDbError, translate, typeError }
