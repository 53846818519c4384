'use strict'
/**
 * Shapes of the bun face's rows that need checks or conversion: the
 * prototype of `stmt.as(Class)`, and the bytes of each value of `stmt.raw()`.
 */
const { typeError } = require('../errors')

/**
 * The prototype rows of `as(Class)` get, read once as bun:sqlite does; throws
 * bun:sqlite's TypeError when `Class` is not a constructor (an arrow, async or
 * generator function, a method) or its `prototype` is not an object.
 */
function classPrototype(Class) {
  if (Class === null || (typeof Class !== 'object' && typeof Class !== 'function')) {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'Expected class to be a constructor or undefined')
  }
  if (!isConstructor(Class)) {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'Expected a constructor: pass a class (or a function declared with `function`), not an arrow function, method or object')
  }
  const prototype = Class.prototype
  if (prototype === undefined) {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'Expected constructor to have a prototype: a bound function has none, pass the class itself')
  }
  if (prototype === null || (typeof prototype !== 'object' && typeof prototype !== 'function')) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected a constructor prototype to be an object: its prototype is ${prototype === null ? 'null' : `a ${typeof prototype}`}; leave a class's prototype as it is`)
  }
  return prototype
}

/** One value of `raw()`: its bytes (see there), or `null`. */
function rawBytes(value) {
  if (value === null) return null
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'utf8'))
  const bytes = new Uint8Array(8)
  const view = new DataView(bytes.buffer)
  if (typeof value === 'bigint') view.setBigInt64(0, value, true)
  else view.setFloat64(0, value, true)
  return bytes
}

/** Whether `fn` can be called with `new` (checked without calling it). */
function isConstructor(fn) {
  try {
    Reflect.construct(String, [], fn)
    return true
  } catch {
    return false
  }
}

module.exports = { classPrototype, rawBytes }
