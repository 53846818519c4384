'use strict'
/**
 * `db.function()` and `db.aggregate()`: better-sqlite3's user-defined SQL
 * functions, aggregates and window functions, with its argument checks.
 * The native side (src/functions/) calls them through one guarded trampoline.
 */
const { typeError } = require('./errors')
const { describe, rangeError } = require('./arguments')

/** Most arguments a user-defined function may declare (better-sqlite3's limit). */
const MAX_ARGUMENTS = 100

const FUNCTION_OPTIONS = ['varargs', 'deterministic', 'directOnly', 'safeIntegers', 'innocuous']
const AGGREGATE_OPTIONS = ['start', 'step', 'inverse', 'result', ...FUNCTION_OPTIONS]

const invalid = (message) => typeError('HARDENED_INVALID_ARGUMENT', message)

/** `options[key]` when present: it must be a boolean (an explicit `undefined` too, as in better-sqlite3). */
function booleanOption(options, key, method) {
  if (!(key in options)) return false
  const value = options[key]
  if (typeof value !== 'boolean') {
    throw invalid(`Expected the "${key}" option of ${method}() to be a boolean, got ${describe(value)}`)
  }
  return value
}

/** `options[key]` when present and not null: it must be a function. */
function functionOption(options, key, required) {
  const value = key in options ? options[key] : null
  if (typeof value === 'function') return value
  if (value != null) throw invalid(`Expected the "${key}" option of aggregate() to be a function, got ${describe(value)}`)
  if (required) throw invalid('Missing required option "step": aggregate(name, { step: (accumulator, ...args) => next })')
  return null
}

/** A function's `length` as its argument count. */
function lengthOf(fn, what) {
  const { length } = fn
  if (Number.isInteger(length) && length >= 0) return length
  throw invalid(`Expected ${what}.length to be a non-negative integer, got ${describe(length)}; pass { varargs: true } for a variable number of arguments`)
}

function checkArgumentCount(count) {
  if (count > MAX_ARGUMENTS) {
    throw rangeError('HARDENED_INVALID_ARGUMENT', `User-defined functions cannot have more than ${MAX_ARGUMENTS} arguments; pass { varargs: true } instead`)
  }
  return count
}

function checkName(name, method) {
  if (typeof name !== 'string') throw invalid(`Expected the first argument of ${method}() to be the function name (a string), got ${describe(name)}`)
}

/** Refuses keys better-sqlite3 does not know (a misspelled option would be ignored silently). */
function checkKeys(options, known, method) {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalid(`Unknown ${method}() option ${describe(key)}; valid options are ${known.join(', ')}`)
    }
  }
}

/** The flags both methods pass to the native side. */
function flagsOf(options, method) {
  return {
    // undefined: the database's default at registration time.
    safeIntegers: 'safeIntegers' in options ? booleanOption(options, 'safeIntegers', method) : undefined,
    deterministic: booleanOption(options, 'deterministic', method),
    directOnly: booleanOption(options, 'directOnly', method),
    innocuous: booleanOption(options, 'innocuous', method),
  }
}

/** `db.function(name, [options], fn)`. */
function defineFunction(native, name, options, fn) {
  if (options == null) options = {}
  if (typeof options === 'function') {
    fn = options
    options = {}
  }
  checkName(name, 'function')
  if (typeof fn !== 'function') throw invalid(`Expected the last argument of function() to be the function to call, got ${describe(fn)}`)
  if (typeof options !== 'object') throw invalid(`Expected the second argument of function() to be an options object, got ${describe(options)}`)
  if (!name) throw invalid('User-defined function name cannot be an empty string')
  checkKeys(options, FUNCTION_OPTIONS, 'function')
  const flags = flagsOf(options, 'function')
  const varargs = booleanOption(options, 'varargs', 'function')
  const argCount = varargs ? -1 : checkArgumentCount(lengthOf(fn, 'function'))
  native.createFunction(name, fn, argCount, flags)
}

/** `db.aggregate(name, { start, step, inverse, result, ...flags })`. */
function defineAggregate(native, name, options) {
  checkName(name, 'aggregate')
  if (typeof options !== 'object' || options === null) {
    throw invalid(`Expected the second argument of aggregate() to be an options object such as { step }, got ${describe(options)}`)
  }
  if (!name) throw invalid('User-defined function name cannot be an empty string')
  checkKeys(options, AGGREGATE_OPTIONS, 'aggregate')
  const start = 'start' in options ? options.start : null
  const step = functionOption(options, 'step', true)
  const inverse = functionOption(options, 'inverse', false)
  const result = functionOption(options, 'result', false)
  const flags = flagsOf(options, 'aggregate')
  const varargs = booleanOption(options, 'varargs', 'aggregate')
  let argCount = -1
  if (!varargs) {
    // The accumulator is the first parameter of step() and inverse(), not an SQL argument.
    argCount = Math.max(lengthOf(step, 'step'), inverse ? lengthOf(inverse, 'inverse') : 0)
    if (argCount > 0) argCount -= 1
    checkArgumentCount(argCount)
  }
  native.createAggregate(name, start, typeof start === 'function', step, inverse, result, argCount, flags)
}

module.exports = { defineFunction, defineAggregate }
