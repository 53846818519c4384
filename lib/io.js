'use strict'
/**
 * Argument checks of `db.serialize({ attached })` and `db.loadExtension(path, entryPoint)`,
 * as better-sqlite3's (src/serialize.rs, src/extension.rs do the work).
 */
const { typeError } = require('./errors')
const { describe, checkOptions } = require('./arguments')
const { wrap } = require('./statement')

/** `db.serialize({ attached = "main" })`: the database image as a Buffer. */
function serialize(native, options) {
  const checked = checkOptions(options, { attached: 'string' }, 'serialize')
  if (checked.attached === '') {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'The "attached" option cannot be an empty string; pass "main" (the default) or the name of an attached database')
  }
  return wrap(() => native.serialize(checked.attached ?? 'main'))
}

/** `db.loadExtension(path, entryPoint)`: loads native code into the connection (a trust decision). */
function loadExtension(native, path, entryPoint) {
  if (typeof path !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the extension path to be a string, got ${describe(path)}`)
  }
  if (entryPoint !== undefined && typeof entryPoint !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the extension entry point to be a string (or omitted), got ${describe(entryPoint)}`)
  }
  wrap(() => native.loadExtension(path, entryPoint))
}

/** `value` when it is a Buffer (what `serialize()` returns), else `undefined`; never throws (a revoked Proxy). */
function bufferOf(value) {
  try {
    return Buffer.isBuffer(value) ? value : undefined
  } catch {
    return undefined
  }
}

module.exports = { serialize, loadExtension, bufferOf }
