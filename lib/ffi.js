'use strict'
/**
 * On Bun, `run()` reaches native code through bun:ffi rather than Node-API:
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

/** The bun:ffi library object: it keeps the symbols callable. */
let library = null

/** `hardened_sqlite_ffi_run(id)`, or `null` where bun:ffi is not used. */
function loadRun() {
  if (typeof Bun === 'undefined' || process.env.HARDENED_SQLITE_FFI === '0') return null
  try {
    const path = NativeStatement.libraryPath()
    if (path === null) return null
    const { dlopen, FFIType } = require('bun:ffi')
    library = dlopen(path, { hardened_sqlite_ffi_run: { args: [FFIType.u32], returns: FFIType.i32 } })
    return library.symbols.hardened_sqlite_ffi_run
  } catch {
    return null
  }
}

const ffiRun = loadRun()

/**
 * Runs statement `id` whose values were encoded (or that takes none) through
 * bun:ffi, falling back to `nativeRun(id)` when the call needs Node-API.
 */
function runEncoded(id, nativeRun) {
  const code = ffiRun(id)
  if (code === DONE) return
  if (code === FALLBACK) nativeRun(id)
  else NativeStatement.throwFfiFailure()
}

module.exports = { runEncoded: ffiRun === null ? null : runEncoded }
