'use strict'
/**
 * On Bun, `run()`, `get()` and `iterate()` reach native code through bun:ffi
 * rather than Node-API: JavaScriptCore calls a plain C function for about 5 ns,
 * where a Node-API call costs Bun about 80 ns (src/statement_ffi.rs,
 * docs/performance.md). Each function takes the statement's id, finds its
 * values encoded in the scratch buffer (lib/encoded-params.js), and answers a
 * code; whatever needs Node-API it leaves to the Node-API call. Off Bun, with
 * `HARDENED_SQLITE_FFI=0` in the environment, or when bun:ffi cannot open the
 * library, every export is `null` and the callers use Node-API alone.
 */
const { NativeStatement } = require('../binding.js')

/** Codes of src/statement_ffi.rs. */
const DONE = 0
const FALLBACK = 1
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
    const call = { args: [FFIType.u32], returns: FFIType.i32 }
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

/**
 * Runs statement `id` whose values were encoded (or that takes none) through
 * bun:ffi, falling back to `nativeRun(id)` when the call needs Node-API.
 */
function runEncoded(id, nativeRun) {
  const code = ffi.run(id)
  if (code === DONE) return
  if (code === FALLBACK) nativeRun(id)
  else NativeStatement.throwFfiFailure()
}

/**
 * `get()` of statement `id` whose values `params` were encoded (or that takes
 * none) through bun:ffi; the row waits in the scratch buffer as after
 * `nativeGet(id, collect)`, the Node-API call it falls back to (with the
 * values as arguments when bun:ffi used them up).
 */
function getEncoded(id, params, nativeGet, collect) {
  const code = ffi.get(id)
  if (code === DONE) return
  if (code === FALLBACK) nativeGet(id, collect)
  else if (code === RETRY) nativeGet(id, collect, ...params)
  else NativeStatement.throwFfiFailure()
}

/**
 * `call(id)` through bun:ffi (an iteration's start with encoded values, or its
 * end), else `nativeCall(id)`.
 */
function callOrFallBack(call) {
  return (id, nativeCall) => {
    const code = call(id)
    if (code === DONE) return
    if (code === FALLBACK) nativeCall(id)
    else NativeStatement.throwFfiFailure()
  }
}

/** The next batch of the iteration of statement `id` through bun:ffi, else `iterateNext(id, collect)`. */
function nextBatch(id, iterateNext, collect) {
  const code = ffi.iterateNext(id)
  if (code === DONE) return
  if (code === FALLBACK) iterateNext(id, collect)
  else NativeStatement.throwFfiFailure()
}

module.exports = ffi === null
  ? { runEncoded: null, getEncoded: null, iterateStartEncoded: null, iterateNextBatch: null, iterateEndNow: null }
  : {
      runEncoded,
      getEncoded,
      iterateStartEncoded: callOrFallBack(ffi.iterateStart),
      iterateNextBatch: nextBatch,
      iterateEndNow: callOrFallBack(ffi.iterateEnd),
    }
