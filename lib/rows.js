'use strict'
/**
 * Row decoding and shaping. The native side leaves result rows in a scratch
 * buffer as cells `[layoutId, ...row1, ...row2]` (see src/values.rs); a
 * function generated once per column list reads each row's cells into an
 * object literal, which V8 and JavaScriptCore build far faster than
 * property-by-property native calls.
 */

const { at, bytes, asBuffer: bytesAsBuffer, ints, floats, bigints } = require('./scratch')
const allocUnsafeSlow = Buffer.allocUnsafeSlow
const CELLS = at.cells >> 2
const LAST = at.last >> 2
const CALLBACK_DEPTH = at.callbackDepth >> 2
const TAGS = at.tags
const SLOTS = at.slots >> 3
const { tagNull: NULL, tagNumber: NUMBER, tagBigint: BIGINT, tagBlob: BLOB, tagAscii: ASCII, tagUtf8: UTF8, tagBytes: BYTES } = at
const CHANGES = at.changes >> 3
const ROWID_NUMBER = at.rowidNumber >> 3
const ROWID_BIGINT = at.rowidBigint >> 3
const ROWID_IS_BIGINT = at.rowidIsBigint >> 2
const EMPTY = []

/**
 * Whether result strings come as bytes in the scratch buffer (decoded here)
 * rather than as Node-API strings: on Bun, `Buffer#latin1Slice` is the cheaper
 * way to make a string; on Node, Node-API is.
 */
const STRINGS_AS_BYTES = typeof Bun !== 'undefined' && typeof bytesAsBuffer.latin1Slice === 'function'

/**
 * A BLOB in the scratch buffer as its own `Buffer` (like better-sqlite3's: not
 * pooled, `byteOffset` 0). Each runtime gets the copy it does fastest:
 * `TypedArray#set` on V8, `Buffer#copy` on JavaScriptCore.
 */
const takeBlob = typeof Bun === 'undefined'
  ? (offset, length) => {
      const blob = allocUnsafeSlow(length)
      blob.set(bytes.subarray(offset, offset + length))
      return blob
    }
  : (offset, length) => {
      const blob = allocUnsafeSlow(length)
      bytesAsBuffer.copy(blob, 0, offset, offset + length)
      return blob
    }

/**
 * A BLOB in the scratch buffer as a `Uint8Array` of its own (bun:sqlite's type,
 * for bun-face statements). On JavaScriptCore `new Uint8Array` is allocated
 * inline by the JIT and `Buffer#copy` fills it: 30 ns for 64 bytes against
 * 44 ns for `Uint8Array#slice` (Bun 1.4.5, 2026-11-29); on V8 `slice` is the
 * faster (55 ns against 91 ns).
 */
const takeBytes = typeof Bun === 'undefined'
  ? (offset, length) => bytes.slice(offset, offset + length)
  : (offset, length) => {
      const blob = new Uint8Array(length)
      bytesAsBuffer.copy(blob, 0, offset, offset + length)
      return blob
    }

/** The JS values of the waiting chunk's argument cells (see `collect`). */
let kept = EMPTY

/** Cell `k` of the chunk in the scratch buffer; `values` backs its argument cells. */
function cell(k, values) {
  const tag = bytes[TAGS + k]
  if (tag === NUMBER) return floats[SLOTS + k]
  if (tag === NULL) return null
  const i = 2 * (SLOTS + k)
  if (tag === ASCII) return bytesAsBuffer.latin1Slice(ints[i], ints[i] + ints[i + 1])
  if (tag === BLOB) return takeBlob(ints[i], ints[i + 1])
  // A BLOB of a bun-face statement: a Uint8Array of its own (bun:sqlite's type).
  if (tag === BYTES) return takeBytes(ints[i], ints[i + 1])
  if (tag === BIGINT) return bigints[SLOTS + k]
  if (tag === UTF8) return bytesAsBuffer.utf8Slice(ints[i], ints[i] + ints[i + 1])
  return values[ints[i]]
}

/** Cell `k` of the chunk waiting in the scratch buffer (the `read` of shapers). */
function readCell(k) {
  return cell(k, kept)
}

/** Number of cells in the chunk waiting in the scratch buffer. */
function cellCount() {
  return ints[CELLS]
}

/** Whether the iteration batch waiting in the scratch buffer holds the last rows. */
function lastBatch() {
  return ints[LAST] !== 0
}

/** Whether a user-defined function runs JS on this thread now (of any connection). */
function inCallback() {
  return ints[CALLBACK_DEPTH] !== 0
}

/** Forgets the waiting chunk's JS values once its rows are built. */
function release() {
  kept = EMPTY
}

/**
 * Called by the native side with the JS values of a chunk's argument cells:
 * keeps them for the chunk waiting in the scratch buffer (`keep`), or decodes
 * the chunk into an array of values at once (results of several chunks).
 */
function collect(keep, ...values) {
  if (keep) {
    kept = values
    return undefined
  }
  return decodeChunk(values)
}

/** The whole chunk in the scratch buffer as an array of values. */
function decodeChunk(values) {
  const count = ints[CELLS]
  const decoded = new Array(count)
  for (let k = 0; k < count; k++) decoded[k] = cell(k, values)
  return decoded
}

/** `{ changes, lastInsertRowid }` of the `run()` that just returned. */
function runResult() {
  return {
    changes: floats[CHANGES],
    lastInsertRowid: ints[ROWID_IS_BIGINT] !== 0 ? bigints[ROWID_BIGINT] : floats[ROWID_NUMBER],
  }
}

/** The array behind `readFlat`. */
let flat = EMPTY

/** Value `k` of a decoded chunk (the `read` of shapers for results of several chunks). */
function readFlat(k) {
  return flat[k]
}

/** Makes `values` the array `readFlat` reads. */
function useFlat(values) {
  flat = values
}

// Shapers are functions `(read, k) => row` building a row from the values
// `read(k)`, `read(k + 1)`, ... of its columns.

const objectShapers = new Map()
const arrayShapers = new Map()

function propertyKey(name) {
  // A literal "__proto__" key would set the prototype; a computed key defines a property.
  return name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name)
}

/** Most shapers a cache keeps; past it the cache starts again (any SQL may make a new column list). */
const MAX_CACHED = 1000

/** Column lists asked for once: the second request compiles a shaper. */
const seenOnce = new Set()

/** Adds `shaper` to `cache` under `key`, keeping the cache bounded. */
function remember(cache, key, shaper) {
  if (cache.size >= MAX_CACHED) cache.clear()
  cache.set(key, shaper)
  return shaper
}

/**
 * A shaper making `{ column: value }` objects for these column names. The
 * first request for a column list gets a generic shaper (compiling one costs
 * more than many rows: a loop preparing thousands of distinct statements pays
 * it for each); a second request gets a compiled one, cached. Callers that got
 * a generic shaper (`shaper.generic`) ask again on their next call.
 */
function objectShaper(names) {
  const key = names.join('\u0000')
  const shaper = objectShapers.get(key)
  if (shaper !== undefined) return shaper
  if (!seenOnce.has(key)) {
    if (seenOnce.size >= MAX_CACHED) seenOnce.clear()
    seenOnce.add(key)
    return genericObjectShaper(names)
  }
  seenOnce.delete(key)
  const fields = names.map((name, i) => `${propertyKey(name)}: read(k + ${i})`).join(', ')
  return remember(objectShapers, key, new Function('read', 'k', `return { ${fields} }`))
}

/**
 * A shaper building `{ column: value }` objects in a loop. Each column is
 * defined as an own property (as an object literal does), so no name, not even
 * `__proto__`, reaches a prototype or a setter.
 */
function genericObjectShaper(names) {
  const shaper = (read, k) => {
    const row = {}
    for (let i = 0; i < names.length; i++) {
      Object.defineProperty(row, names[i], { value: read(k + i), writable: true, enumerable: true, configurable: true })
    }
    return row
  }
  shaper.generic = true
  return shaper
}

/** A shaper making arrays of `count` values (cached). */
function arrayShaper(count) {
  let shaper = arrayShapers.get(count)
  if (shaper === undefined) {
    const items = Array.from({ length: count }, (_, i) => `read(k + ${i})`).join(', ')
    shaper = remember(arrayShapers, count, new Function('read', 'k', `return [${items}]`))
  }
  return shaper
}

/** A shaper returning the first column's value. */
function pluckShaper() {
  return (read, k) => read(k)
}

const expandShapers = new Map()

/**
 * A shaper making `{ table: { column: value } }`; columns that come from no
 * table (expressions) are grouped under `$`. Like the other shapers it is an
 * object literal, so a table or column named `__proto__` or `constructor`
 * becomes an own property and never reaches a prototype.
 */
function expandShaper(columns) {
  const tables = new Map()
  columns.forEach((column, i) => {
    const table = column.table ?? '$'
    if (!tables.has(table)) tables.set(table, [])
    tables.get(table).push(`${propertyKey(column.name)}: read(k + ${i})`)
  })
  const groups = [...tables].map(([table, fields]) => `${propertyKey(table)}: { ${fields.join(', ')} }`)
  const body = `return { ${groups.join(', ')} }`
  return expandShapers.get(body) ?? remember(expandShapers, body, new Function('read', 'k', body))
}

module.exports = {
  inCallback,
  STRINGS_AS_BYTES,
  collect,
  readCell,
  cellCount,
  lastBatch,
  release,
  readFlat,
  useFlat,
  runResult,
  objectShaper,
  arrayShaper,
  pluckShaper,
  expandShaper,
}
