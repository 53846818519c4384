'use strict'
/**
 * Errors of the bun:sqlite face. SQLite's failures become `SQLiteError` (as in
 * bun:sqlite: `code` is the extended result code name, `errno` its number,
 * `byteOffset` where in the SQL the error is, or -1); the library's own keep
 * their `HARDENED_*` code and class (`HardenedDbError`, `TypeError`, `RangeError`).
 */
const { translate, HardenedDbError } = require('../errors')

/** SQLite's primary result code names, by number. */
const PRIMARY_CODES = [
  'SQLITE_OK', 'SQLITE_ERROR', 'SQLITE_INTERNAL', 'SQLITE_PERM', 'SQLITE_ABORT', 'SQLITE_BUSY', 'SQLITE_LOCKED',
  'SQLITE_NOMEM', 'SQLITE_READONLY', 'SQLITE_INTERRUPT', 'SQLITE_IOERR', 'SQLITE_CORRUPT', 'SQLITE_NOTFOUND',
  'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL', 'SQLITE_EMPTY', 'SQLITE_SCHEMA', 'SQLITE_TOOBIG',
  'SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_MISUSE', 'SQLITE_NOLFS', 'SQLITE_AUTH', 'SQLITE_FORMAT',
  'SQLITE_RANGE', 'SQLITE_NOTADB',
]

/** An error reported by SQLite, with `code`, `errno` and `byteOffset` (bun:sqlite's). */
class SQLiteError extends Error {
  /**
   * `new SQLiteError(message, { code, errno, byteOffset })`; the face makes
   * them from SQLite's errors.
   */
  constructor(message, options = undefined) {
    super(message)
    this.code = options?.code ?? 'SQLITE_ERROR'
    this.errno = options?.errno ?? 1
    this.byteOffset = options?.byteOffset ?? -1
  }
}
Object.defineProperty(SQLiteError.prototype, 'name', { value: 'SQLiteError', writable: true, configurable: true })

/**
 * Gives a native error the bun face's class (in place) and returns it;
 * `native` (the connection, if known) gives `byteOffset`, which must be read
 * before anything else runs on it.
 */
function shapeError(error, native = undefined) {
  if (!(error instanceof Error) || typeof error.code !== 'string') return error
  if (error instanceof SQLiteError) return error
  translate(error)
  if (!error.code.startsWith('SQLITE_')) return error
  let byteOffset = -1
  if (native !== undefined) {
    try {
      byteOffset = native.errorOffset()
    } catch {
      // A closed connection has no offset to give.
    }
  }
  // The open sequence reports some SQLite failures (a missing file) without SQLite's number.
  const errno = typeof error.errno === 'number' ? error.errno : PRIMARY_CODES.indexOf(error.code.replace(/^(SQLITE_[A-Z]+?)(_[A-Z_]+)?$/, '$1'))
  Object.setPrototypeOf(error, SQLiteError.prototype)
  Object.defineProperty(error, 'errno', { value: errno, enumerable: true, writable: true, configurable: true })
  Object.defineProperty(error, 'byteOffset', { value: byteOffset, enumerable: true, writable: true, configurable: true })
  return error
}

module.exports = { SQLiteError, HardenedDbError, shapeError }
