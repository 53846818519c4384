'use strict'
/**
 * Checks shared by the methods of `HardenedDb`: describing any value in a
 * message without ever throwing, options objects with known keys, and coded
 * RangeErrors.
 */
const { typeError } = require('./errors')

/**
 * `value` for an error message: never throws and never calls the value's own
 * code (no `toString`, no getters, no Proxy traps), so a Symbol, an object with
 * a throwing `toString` or a revoked Proxy is described as well as a number.
 */
function describe(value) {
  try {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
      case 'number':
      case 'boolean':
      case 'undefined':
        return String(value)
      case 'bigint':
        return `${value}n`
      case 'symbol':
        return 'a symbol'
      case 'function':
        return 'a function'
      default:
        if (value === null) return 'null'
        return Array.isArray(value) ? 'an array' : 'an object'
    }
  } catch {
    // Array.isArray throws on a revoked Proxy.
    return 'a revoked Proxy'
  }
}

/** `Array.isArray`, but false instead of a throw for a revoked Proxy. */
function isArray(value) {
  try {
    return Array.isArray(value)
  } catch {
    return false
  }
}

/** Whether `value` can be read as an options object: an object, not an array, not a revoked Proxy. */
function isOptionsObject(value) {
  if (value === null || typeof value !== 'object') return false
  try {
    return !Array.isArray(value)
  } catch {
    return false
  }
}

/** A `RangeError` with a stable code. */
function rangeError(code, message) {
  const error = new RangeError(message)
  error.code = code
  return error
}

/**
 * Checks the options object of method `what`: `undefined` or `null` is `{}`;
 * anything but a plain object, a key not in `known` (key → JS type) or a value
 * of the wrong type throws a `TypeError` with `code`.
 */
function checkOptions(options, known, what, code = 'HARDENED_INVALID_ARGUMENT') {
  if (options === undefined || options === null) return {}
  if (!isOptionsObject(options)) {
    throw typeError(code, `Expected the ${what} options to be an object such as { ${Object.keys(known)[0]}: ... }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key)) {
      throw typeError(code, `Unknown ${what} option ${describe(key)}; valid options are ${Object.keys(known).join(', ')}`)
    }
    const value = options[key]
    if (value !== undefined && typeof value !== known[key]) {
      throw typeError(code, `Option "${key}" of ${what} must be a ${known[key]}, got ${describe(value)}`)
    }
  }
  return options
}

/** Throws the `TypeError` of every method taking SQL when `sql` is not a string. */
function checkSql(sql) {
  if (typeof sql !== 'string') throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the SQL to be a string, got ${describe(sql)}`)
}

module.exports = { describe, isArray, isOptionsObject, rangeError, checkOptions, checkSql }
