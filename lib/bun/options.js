'use strict'
/**
 * The second argument of the bun face's `new Database(path, options | flags)`:
 * bun:sqlite's options (`readonly`, `create`, `readwrite`, `strict`,
 * `safeIntegers`) and the hardened ones (lib/options.js) in one object, every
 * key checked (an unknown one names the nearest valid key), or bun:sqlite's
 * `SQLITE_OPEN_*` flags.
 */
const { typeError } = require('../errors')
const { normalizeOptions } = require('../options')
const { isOptionsObject } = require('../arguments')
const { constants } = require('./constants')

/** The bun face's own options, checked with the hardened ones. */
const BUN_OPTIONS = { strict: 'boolean', readwrite: 'boolean' }

const { SQLITE_OPEN_READONLY: READONLY, SQLITE_OPEN_READWRITE: READWRITE, SQLITE_OPEN_CREATE: CREATE } = constants

/** `SQLITE_OPEN_*` flags as options: READONLY, READWRITE (must exist), READWRITE | CREATE. */
function flagOptions(flags) {
  if (!Number.isInteger(flags) || flags < 0) {
    throw typeError('HARDENED_INVALID_OPTION', `Expected the flags to be SQLITE_OPEN_* constants combined with |, got ${flags}`)
  }
  if (flags === 0 || (flags & (READONLY | READWRITE | CREATE)) === 0) return {}
  if (flags & READONLY && !(flags & READWRITE)) return { readonly: true }
  return flags & CREATE ? {} : { create: false }
}

/**
 * Checks the options (or flags) and returns `{ options, checked, face }`:
 * the hardened options, what `normalizeOptions` made of them, and the native
 * binding rules (`"bun"`, or `"bun-strict"` with `strict: true`).
 */
function bunOptions(given) {
  if (given === undefined || given === null) return DEFAULTS
  if (typeof given === 'number') given = flagOptions(given)
  if (!isOptionsObject(given)) {
    throw typeError('HARDENED_INVALID_OPTION', `Expected the options to be an object such as { strict: true } or SQLITE_OPEN_* flags, got ${typeof given}`)
  }
  const options = { ...given }
  const checked = normalizeOptions(options, BUN_OPTIONS)
  const { strict, readwrite } = options
  delete options.strict
  delete options.readwrite
  const readonly = options.readonly === true || readwrite === false
  if (readonly && (options.create === true || readwrite === true)) {
    throw typeError('HARDENED_INVALID_OPTION', 'A read-only database ("readonly: true" or "readwrite: false") cannot have "create: true" or "readwrite: true"')
  }
  // As in bun:sqlite: `readwrite: false` opens read-only, `readwrite: true` alone does not create the file.
  if (readwrite === false) options.readonly = true
  else if (readwrite === true && options.create !== true) options.create = false
  return { options, checked: normalizeOptions(options), face: strict === true ? 'bun-strict' : 'bun' }
}

/**
 * What no options give, made once: building it took Node 3 µs a call (the
 * `delete`s of `bunOptions` leave an object V8 reads as a dictionary). Frozen, as it is shared.
 */
const DEFAULTS = (() => {
  const defaults = bunOptions({})
  Object.freeze(defaults.options)
  return Object.freeze(defaults)
})()

/**
 * What in `given` (options or flags) keeps a missing file from being
 * created, and how to open it anyway: for the message of SQLITE_CANTOPEN,
 * named as the bun:sqlite caller wrote it.
 */
function missingFileReason(given) {
  if (typeof given === 'number') {
    return given & READONLY && !(given & READWRITE)
      ? ['the flags open it read-only (SQLITE_OPEN_READONLY)', 'create it first with a writable connection']
      : ['the flags lack SQLITE_OPEN_CREATE', 'add constants.SQLITE_OPEN_CREATE to the flags to create it']
  }
  const options = isOptionsObject(given) ? given : {}
  if (options.readonly === true) return ['"readonly: true" opens it read-only', 'create it first with a writable connection']
  if (options.readwrite === false) return ['"readwrite: false" opens it read-only', 'create it first with a writable connection']
  if (options.create === false) return ['"create: false" never creates it', 'pass "create: true" (the default) to create it']
  if (options.readwrite === true) return ['"readwrite: true" without "create: true" never creates it', 'add "create: true" to create it']
  return ['"fileMustExist: true" never creates it', 'drop "fileMustExist" to create it']
}

/**
 * The options of `db.function()` and `db.aggregate()` with bun:sqlite's
 * `useBigIntArguments` read as `safeIntegers` (INTEGER arguments arrive as
 * bigint); anything else is checked by lib/functions.js.
 */
function functionOptions(options) {
  if (!isOptionsObject(options) || !('useBigIntArguments' in options)) return options
  const { useBigIntArguments, ...rest } = options
  if (typeof useBigIntArguments !== 'boolean') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the "useBigIntArguments" option to be a boolean, got ${typeof useBigIntArguments}`)
  }
  if ('safeIntegers' in rest && rest.safeIntegers !== useBigIntArguments) {
    throw typeError('HARDENED_INVALID_ARGUMENT', '"useBigIntArguments" and "safeIntegers" disagree; pass one of them')
  }
  return { ...rest, safeIntegers: useBigIntArguments }
}

module.exports = { bunOptions, missingFileReason, functionOptions }
