'use strict'
/**
 * Parameter values written into the scratch buffer for the next hot call
 * (read by src/params_encoded.rs), instead of passed as arguments that native
 * code reads with a Node-API call or two each. Only values whose type JS can
 * tell without running user code are encoded (the native side binds them by
 * the statement's face): numbers, strings, bigints within 64 bits, booleans,
 * `null`, `undefined` and `Uint8Array`s (Buffers; `Uint8ClampedArray`s go
 * through Node-API). Anything else (arrays, objects of named values,
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

const utf8Write = Buffer.prototype.utf8Write

// The intrinsic getters, called directly: an own `byteLength` or `length` on
// a value cannot make it lie about its bytes, nor run user code. A view whose
// element is one byte copies as its bytes (`Int8Array` -1 is the byte 255).
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype)
const byteLengthOf = Object.getOwnPropertyDescriptor(TypedArray, 'byteLength').get
const lengthOf = Object.getOwnPropertyDescriptor(TypedArray, 'length').get

const copyBytes = Buffer.prototype.copy

/**
 * Copies the bytes of `blob` (a `Uint8Array`, not a Proxy) to `offset` in the
 * scratch buffer; returns how many, or -1 when they may not fit or `blob` is
 * no real `Uint8Array` (another view given `Uint8Array.prototype` by hand).
 */
const copyBlob = typeof Bun === 'undefined'
  ? (blob, offset) => {
      const length = byteLengthOf.call(blob)
      if (length !== lengthOf.call(blob) || length > END - offset) return -1
      if (length !== 0) bytes.set(blob, offset)
      return length
    }
  : (blob, offset) => {
      // Bun's `Buffer#copy` reads the view's own length (no getter runs) and
      // returns how many bytes it copied: 16 ns for 64 bytes against 24 ns for
      // both getters and `set` (Bun 1.4.5, 2026-11-30). It throws for a view
      // of another type; that, and a copy that reached the end, go to Node-API.
      let copied
      try {
        copied = copyBytes.call(blob, buffer, offset)
      } catch {
        return -1
      }
      return copied < END - offset ? copied : -1
    }

/**
 * Writes `params` into the scratch buffer for the hot call made next. Every
 * number is tagged alike: the native side binds it by the statement's face
 * (src/params_encoded.rs; bun:sqlite's rule makes a safe integer an INTEGER).
 * Returns false, having marked nothing, for a value it leaves to Node-API.
 */
function encode(params) {
  const count = params.length
  if (count === 0 || count > MAX_PARAMS) return false
  let data = DATA
  for (let i = 0; i < count; i++) {
    const value = params[i]
    switch (typeof value) {
      case 'number':
        bytes[TAGS + i] = NUMBER
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
        const length = copyBlob(value, data)
        if (length < 0) return false
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
