'use strict'
/**
 * On Bun, `run()` and `get()` reach native code through bun:ffi rather than Node-API:
 * JavaScriptCore calls a plain C function for about 5 ns, where a Node-API call
 * costs Bun about 80 ns (src/statement_ffi.rs, docs/performance.md). The
 * function takes the statement's id, finds its values encoded in the scratch
 * buffer (lib/encoded-params.js), and answers a code; whatever needs Node-API
 * it leaves to the Node-API call. Off Bun, or with `HARDENED_SQLITE_FFI=0` in
 * the environment, or when bun:ffi cannot open the library, `run` is `null`.
 */
const { NativeStatement } = require('../binding.js')

/** Codes of src/statement_ffi.rs. */
const DONE = 0
const FALLBACK = 1
const RETRY = 3

/** The bun:ffi library object: it keeps the symbols callable. */
let library = null

/** The bun:ffi functions `{ run, get }` (each `(id) => code`), or `null` where bun:ffi is not used. */
function load() {
  if (typeof Bun === 'undefined' || process.env.HARDENED_SQLITE_FFI === '0') return null
  try {
    const path = NativeStatement.libraryPath()
    if (path === null) return null
    const { dlopen, FFIType } = require('bun:ffi')
    const call = { args: [FFIType.u32], returns: FFIType.i32 }
    library = dlopen(path, { hardened_sqlite_ffi_run: call, hardened_sqlite_ffi_get: call })
    return { run: library.symbols.hardened_sqlite_ffi_run, get: library.symbols.hardened_sqlite_ffi_get }
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

module.exports = { runEncoded: ffi === null ? null : runEncoded, getEncoded: ffi === null ? null : getEncoded }
