// Outcomes: which throws are acceptable (coded errors), result helpers, the marker search and the built-in prototype integrity check.
'use strict'

/** Text the marker query leaves in its results; it must never show up in another statement's rows. */
const MARKER = 'zqMARK'

// ---------------------------------------------------------------------------
// Outcomes

/** Whether `error` is what the library may throw: an Error with a HARDENED_/SQLITE_ code. */
function isCoded(error) {
  return error instanceof Error && typeof error.code === 'string' && /^(HARDENED_|SQLITE_)[A-Z0-9_]+$/.test(error.code)
}

/** A short description of something thrown, for reports. */
function describeThrow(error) {
  if (error instanceof Error) return `${error.constructor.name}(${JSON.stringify(error.code ?? null)}): ${String(error.message).slice(0, 160)}`
  return `non-Error ${typeof error}: ${String(error).slice(0, 80)}`
}

/**
 * Checks one thrown value: a coded error (HARDENED_INTERNAL is the library
 * saying it found a bug of its own), or a value our own callback threw.
 * Records a problem otherwise; returns whether it was acceptable.
 */
function acceptThrow(ctx, what, error) {
  if (ctx.thrown.has(error)) return true
  if (isCoded(error) && error.code !== 'HARDENED_INTERNAL') return true
  ctx.problem(`${what} threw ${describeThrow(error)}`)
  return false
}

/** Runs `fn`; returns { value } or { error } (never throws). */
function attempt(fn) {
  try {
    return { value: fn() }
  } catch (error) {
    return { error }
  }
}

/** Deep search of a result for the marker text (in keys or string values). */
function containsMarker(value, seen = new Set()) {
  if (typeof value === 'string') return value.includes(MARKER)
  if (value === null || typeof value !== 'object' || seen.has(value) || Buffer.isBuffer(value)) return false
  seen.add(value)
  for (const key of Object.keys(value)) {
    if (key.includes(MARKER) || containsMarker(value[key], seen)) return true
  }
  return false
}

/** A JSON-safe rendering of results for reports. */
function show(value) {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)).slice(0, 300)
  } catch {
    return String(value).slice(0, 300)
  }
}

// ---------------------------------------------------------------------------
// Prototype integrity: no read may add to or change Object.prototype & co.

const GUARDED = [['Object.prototype', Object.prototype], ['Array.prototype', Array.prototype], ['Function.prototype', Function.prototype]]
const pristine = GUARDED.map(([name, proto]) => [name, proto, new Map(Reflect.ownKeys(proto).map((k) => [k, Object.getOwnPropertyDescriptor(proto, k)]))])
const ObjectKeys = Object.keys

/** Problems with the built-in prototypes (restoring them so later cases run in a sane world). */
function prototypeDamage() {
  const damage = []
  for (const [name, proto, descriptors] of pristine) {
    for (const key of Reflect.ownKeys(proto)) {
      if (!descriptors.has(key)) {
        damage.push(`${name} gained own property ${String(key)}`)
        delete proto[key]
      }
    }
    for (const [key, d] of descriptors) {
      const now = Object.getOwnPropertyDescriptor(proto, key)
      if (!now || now.value !== d.value || now.get !== d.get || now.set !== d.set) {
        damage.push(`${name}.${String(key)} was changed`)
        Object.defineProperty(proto, key, d)
      }
    }
  }
  if (typeof Object.keys !== 'function' || Object.keys !== ObjectKeys) damage.push('Object.keys was replaced')
  const probe = {}
  if (ObjectKeys(probe).length !== 0 || probe.constructor !== Object || Object.getPrototypeOf(probe) !== Object.prototype) damage.push('({}) is not a plain empty object')
  return damage
}

module.exports = { MARKER, isCoded, describeThrow, acceptThrow, attempt, containsMarker, show, prototypeDamage }
