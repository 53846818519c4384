'use strict'
/**
 * The scratch buffer shared with the native side (src/values.rs), one per
 * thread: result cells on their way to JS values (lib/rows.js), the result of
 * `run()`, and parameter values on their way to SQLite (lib/encoded-params.js).
 * `at` holds the byte offsets of its fields and the cell tags.
 */
const { NativeStatement } = require('../binding.js')

const buffer = NativeStatement.scratch()

module.exports = {
  at: NativeStatement.scratchLayout(),
  bytes: new Uint8Array(buffer),
  /** The same memory as a `Buffer`, for its `latin1Slice`, `utf8Write`, `copy`. */
  asBuffer: Buffer.from(buffer),
  ints: new Int32Array(buffer),
  floats: new Float64Array(buffer),
  bigints: new BigInt64Array(buffer),
}
