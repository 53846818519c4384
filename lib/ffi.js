'use strict'
/**
 * On Bun, `run()`, `get()` and `iterate()` reach native code through bun:ffi
 * rather than Node-API: JavaScriptCore calls a plain C function for about 5 ns,
 * where a Node-API call costs Bun about 80 ns (src/statement_ffi.rs,
 * docs/performance-bun.md). Each function takes the statement's id, finds its
 * values encoded in the scratch buffer (lib/encoded-params.js), and answers a
 * code; whatever needs Node-API it leaves to the Node-API call. Off Bun, with
 * `HARDENED_SQLITE_FFI=0` in the environment, or when bun:ffi cannot open the
 * library, every function answers `FALLBACK` and the callers use Node-API alone.
 */
const { NativeStatement } = require('../binding.js')

/** Codes of src/statement_ffi.rs: done; left to Node-API; failed (`NativeStatement.throwFfiFailure()` throws why); again through Node-API, with the values as arguments. */
const DONE = 0
const FALLBACK = 1
const FAILED = 2
const RETRY = 3

/** The bun:ffi library object: it keeps the symbols callable. */
let library = null

/** The bun:ffi functions `{ run, get, iterateStart, iterateNext, iterateEnd }` (each `(id) => code`), or `null` where bun:ffi is not used. */
function load() {
  if (typeof Bun === 'undefined' || process.env.HARDENED_SQLITE_FFI === '0') return null
  try {
    const path = NativeStatement.libraryPath()
    if (path === null) return null
    const { dlopen, FFIType } = require('bun:ffi')
    const call = { args: [FFIType.f64], returns: FFIType.i32 }
    const names = ['run', 'get', 'iterate_start', 'iterate_next', 'iterate_end']
    library = dlopen(path, Object.fromEntries(names.map((name) => [`hardened_sqlite_ffi_${name}`, call])))
    const { symbols } = library
    return {
      run: symbols.hardened_sqlite_ffi_run,
      get: symbols.hardened_sqlite_ffi_get,
      iterateStart: symbols.hardened_sqlite_ffi_iterate_start,
      iterateNext: symbols.hardened_sqlite_ffi_iterate_next,
      iterateEnd: symbols.hardened_sqlite_ffi_iterate_end,
    }
  } catch {
    return null
  }
}

const ffi = load()

/** Where bun:ffi is not used, every call answers that Node-API is to make it. */
const fallBack = () => FALLBACK

module.exports = {
  /** Whether bun:ffi is used. */
  enabled: ffi !== null,
  /** `run()` of statement `id` with its values encoded (or none). */
  run: ffi === null ? fallBack : ffi.run,
  /** `get()` of statement `id` with its values encoded (or none); the row waits in the scratch buffer. */
  get: ffi === null ? fallBack : ffi.get,
  /** Binds the encoded values (or none) of statement `id` and opens its iteration. */
  iterateStart: ffi === null ? fallBack : ffi.iterateStart,
  /** The next batch of the iteration of statement `id`, in the scratch buffer. */
  iterateNext: ffi === null ? fallBack : ffi.iterateNext,
  /** Ends the iteration of statement `id`. */
  iterateEnd: ffi === null ? fallBack : ffi.iterateEnd,
  DONE,
  FALLBACK,
  FAILED,
  RETRY,
}
