'use strict'
/**
 * Parameter values written into the scratch buffer for the next hot call
 * (read by src/params_encoded.rs), instead of passed as arguments that native
 * code reads with a Node-API call or two each. Only values whose type JS can
 * tell without running user code are encoded, with the face's binding rules:
 * numbers, strings, bigints within 64 bits, booleans, `null`, `undefined` and
 * `Uint8Array`s (Buffers; `Uint8ClampedArray`s go through Node-API). Anything else (arrays, objects of named values,
 * other views, values SQLite cannot store) makes `encode` return false, and
 * the call passes its values as arguments, which bind (or fail) as before.
 */
const { at, bytes, asBuffer: buffer, ints, floats, bigints } = require('./scratch')
const ENCODED = at.encoded >> 2
const TAGS = at.paramTags
const SLOTS = at.paramSlots >> 3
const DATA = at.paramData
const END = bytes.byteLength
const MAX_PARAMS = at.maxParams
const { tagNull: NULL, tagNumber: NUMBER, tagInteger: INTEGER, tagBigint: BIGINT, tagUtf8: UTF8, tagBlob: BLOB } = at
const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

// The intrinsic getters, called directly: an own `byteLength` or `length` on
// a value cannot make it lie about its bytes. A view whose element is one byte
// copies as its bytes (`Int8Array` -1 is the byte 255).
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype)
const byteLengthOf = Object.getOwnPropertyDescriptor(TypedArray, 'byteLength').get
const lengthOf = Object.getOwnPropertyDescriptor(TypedArray, 'length').get
const utf8Write = Buffer.prototype.utf8Write

/**
 * Writes `params` into the scratch buffer for the hot call made next, with
 * bun:sqlite's number rule when `wholeAsInteger` (a safe integer other than
 * -0 binds as INTEGER) or better-sqlite3's (every number binds as REAL).
 * Returns false, having marked nothing, for a value it leaves to Node-API.
 */
function encode(params, wholeAsInteger) {
  const count = params.length
  if (count === 0 || count > MAX_PARAMS) return false
  let data = DATA
  for (let i = 0; i < count; i++) {
    const value = params[i]
    switch (typeof value) {
      case 'number':
        bytes[TAGS + i] = wholeAsInteger && Number.isSafeInteger(value) && (value !== 0 || 1 / value > 0) ? INTEGER : NUMBER
        floats[SLOTS + i] = value
        break
      case 'string': {
        // At most 3 bytes per UTF-16 unit, so the whole string always fits.
        if (value.length * 3 > END - data) return false
        const written = utf8Write.call(buffer, value, data, END - data)
        bytes[TAGS + i] = UTF8
        ints[2 * (SLOTS + i)] = data
        ints[2 * (SLOTS + i) + 1] = written
        data += written
        break
      }
      case 'bigint':
        if (value < MIN_INT64 || value > MAX_INT64) return false
        bytes[TAGS + i] = BIGINT
        bigints[SLOTS + i] = value
        break
      case 'boolean':
        bytes[TAGS + i] = INTEGER
        floats[SLOTS + i] = value ? 1 : 0
        break
      case 'undefined':
        bytes[TAGS + i] = NULL
        break
      case 'object': {
        if (value === null) {
          bytes[TAGS + i] = NULL
          break
        }
        // `isView` is false for a Proxy, whose traps would run user code.
        if (!ArrayBuffer.isView(value) || !(value instanceof Uint8Array)) return false
        const length = byteLengthOf.call(value)
        if (length !== lengthOf.call(value) || length > END - data) return false
        if (length !== 0) bytes.set(value, data)
        bytes[TAGS + i] = BLOB
        ints[2 * (SLOTS + i)] = data
        ints[2 * (SLOTS + i) + 1] = length
        data += length
        break
      }
      default:
        return false
    }
  }
  ints[ENCODED] = count + 1
  return true
}

module.exports = { encode }
