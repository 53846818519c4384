// Seeded randomness and value specs: the PRNG of each case, JSON specs of JS values, the values they build and what SQLite must give back.
'use strict'

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

// ---------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: a tiny 32-bit PRNG, returns floats in [0, 1). */
function mulberry32(a) {
  return function () {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a of a string: the seed of one case's PRNG. */
function hash32(text) {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** Helpers over one PRNG. */
function random(seed) {
  const next = mulberry32(seed)
  const r = {
    float: next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** Picks from [[weight, value], ...]. */
    weighted: (pairs) => {
      let total = 0
      for (const [w] of pairs) total += w
      let x = next() * total
      for (const [w, v] of pairs) if ((x -= w) < 0) return v
      return pairs[pairs.length - 1][1]
    },
    bytes: (n) => Array.from({ length: n }, () => Math.floor(next() * 256)),
  }
  return r
}

// ---------------------------------------------------------------------------
// Values: a plan describes each value as JSON (a "spec"); materialize() builds it.

const STRING_UNITS = ['a', 'Z', 'é', '€', '\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '😀', '\uffff', '\ufeff', "'", '"', '\n', '%', '?', ':a']
const FIXED_STRINGS = ['', 'a\u0000b', '\u0000', 'a\ud800', '\udc00z', '\ude00\ud83d', '😀', 'héllo ✓', 'x'.repeat(300)]
const SPECIAL_NUMBERS = ['NaN', 'Infinity', '-Infinity', '-0', '0', '1', '-1', String(2 ** 31), String(-(2 ** 31) - 1), String(2 ** 32),
  String(MAX_SAFE), String(-MAX_SAFE), String(2 ** 53), String(2 ** 53 + 2), String(-(2 ** 53)), String(2 ** 63), String(-(2 ** 63)),
  String(2 ** 64), '1e+300', '-1e+300', '5e-324', '1e-300', '0.5', '0.1', '-1.25', String(1 / 3), String(Math.PI), '1.7976931348623157e+308']
const SPECIAL_BIGINTS = ['0', '1', '-1', String(2n ** 53n - 1n), String(2n ** 53n), String(2n ** 53n + 1n), String(-(2n ** 53n) - 1n),
  String(INT64_MAX), String(INT64_MIN), String(INT64_MAX + 1n), String(INT64_MIN - 1n), String(2n ** 64n), String(-(2n ** 100n))]
const TYPED = ['Int8Array', 'Uint16Array', 'Int16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']

/** A spec of a value SQLite can store, of the simple types. */
function simpleValue(r) {
  return r.weighted([
    [3, () => ({ t: 'number', v: String(r.int(-1000000, 1000000)) })],
    [2, () => ({ t: 'number', v: String(r.float() * 2e6 - 1e6) })],
    [2, () => ({ t: 'string', v: randomString(r, r.int(0, 12)) })],
    [1, () => ({ t: 'bigint', v: String(r.int(-1000000, 1000000)) })],
    [1, () => ({ t: 'buffer', bytes: r.bytes(r.int(0, 8)) })],
    [1, () => ({ t: r.pick(['null', 'undefined']) })],
    [1, () => ({ t: 'boolean', v: r.chance(0.5) })],
  ])()
}

function randomString(r, length) {
  let s = ''
  for (let i = 0; i < length; i++) s += r.pick(STRING_UNITS)
  return s
}

/** A spec of any JS value, hostile or not (no callbacks into the database). */
function anyValue(r) {
  return r.weighted([
    [6, () => simpleValue(r)],
    [3, () => ({ t: 'number', v: r.pick(SPECIAL_NUMBERS) })],
    [2, () => ({ t: 'bigint', v: r.pick(SPECIAL_BIGINTS) })],
    [2, () => ({ t: 'string', v: r.pick(FIXED_STRINGS) })],
    [1, () => ({ t: 'long', unit: r.pick(['x', 'é', '😀', '\ud800', '\u0000']), bytes: 100 * 1024 })],
    [1, () => ({ t: 'buffer', bytes: r.bytes(r.int(0, 40)), pooled: r.chance(0.5) })],
    [1, () => ({ t: 'bigbuffer', bytes: 100 * 1024, fill: r.int(0, 255) })],
    [1, () => ({ t: 'uint8array', bytes: r.bytes(r.int(0, 12)), offset: r.int(0, 3) })],
    [1, () => ({ t: 'uint8clamped', bytes: r.bytes(r.int(0, 6)) })],
    [1, () => ({ t: 'typed', ctor: r.pick(TYPED), length: r.int(0, 4), offset: r.int(0, 1) })],
    [1, () => ({ t: 'arraybuffer', bytes: r.bytes(r.int(0, 8)) })],
    [1, () => ({ t: 'dataview', bytes: r.bytes(r.int(0, 8)), offset: r.int(0, 2) })],
    [4, () => ({ t: r.pick(['date', 'invaliddate', 'symbol', 'function', 'arrowfunction', 'nested', 'object', 'nullproto', 'instance', 'map', 'set', 'regexp', 'error', 'boxednumber', 'boxedstring', 'promise', 'proxy', 'weakmap', 'emptyarray']) })],
    [2, () => ({ t: r.pick(['null', 'undefined']) })],
    [1, () => ({ t: 'boolean', v: r.chance(0.5) })],
    [2, () => ({ t: 'throwing', what: r.pick(['error', 'string', 'undefined']) })],
  ])()
}

/** The value a spec describes. Values thrown by its callbacks are added to `ctx.thrown`. */
function materialize(spec, ctx) {
  switch (spec.t) {
    case 'number': return Number(spec.v)
    case 'bigint': return BigInt(spec.v)
    case 'string': return spec.v
    case 'long': {
      const unitBytes = Buffer.byteLength(spec.unit.replace(/[\ud800-\udfff]/g, '\ufffd'))
      return 'L' + spec.unit.repeat(Math.floor(spec.bytes / unitBytes))
    }
    case 'buffer': return spec.pooled ? Buffer.from(Buffer.from(spec.bytes).toString('latin1'), 'latin1') : Buffer.from(spec.bytes)
    case 'bigbuffer': return Buffer.alloc(spec.bytes, spec.fill)
    case 'uint8array': return new Uint8Array([...new Array(spec.offset).fill(9), ...spec.bytes, 9]).subarray(spec.offset, spec.offset + spec.bytes.length)
    case 'uint8clamped': return new Uint8ClampedArray(spec.bytes)
    case 'typed': {
      const Ctor = globalThis[spec.ctor]
      const all = new Ctor(spec.length + spec.offset)
      for (let i = 0; i < all.length; i++) all[i] = Ctor.name.startsWith('Big') ? BigInt(i * 1000 - 1) : i * 1000 - 1.5
      return all.subarray(spec.offset)
    }
    case 'arraybuffer': return new Uint8Array(spec.bytes).buffer
    case 'dataview': return new DataView(new Uint8Array([...new Array(spec.offset).fill(7), ...spec.bytes]).buffer, spec.offset)
    case 'null': return null
    case 'undefined': return undefined
    case 'boolean': return spec.v
    case 'date': return new Date(0)
    case 'invaliddate': return new Date(NaN)
    case 'symbol': return Symbol('fuzz')
    case 'function': return function named() { return 1 }
    case 'arrowfunction': return () => 1
    case 'nested': return [1, [2, 3]]
    case 'object': return { a: 1, b: 2, c: 3, n: 4 }
    case 'nullproto': return Object.assign(Object.create(null), { a: 1 })
    case 'instance': return new (class Point { constructor() { this.a = 1 } })()
    case 'map': return new Map([['a', 1]])
    case 'set': return new Set([1])
    case 'regexp': return /a/g
    case 'error': return new Error('value')
    case 'boxednumber': return Object(5)
    case 'boxedstring': return Object('s')
    case 'promise': return Promise.resolve(1)
    case 'proxy': return new Proxy({}, {})
    case 'weakmap': return new WeakMap()
    case 'emptyarray': return []
    case 'throwing': {
      const thrown = spec.what === 'error' ? new Error('thrown by a getter') : spec.what === 'string' ? 'thrown string' : undefined
      ctx.thrown.add(thrown)
      const o = {}
      for (const key of ['a', 'b', 'c', 'n', ':a', '@b', '$c']) Object.defineProperty(o, key, { enumerable: true, get() { throw thrown } })
      return o
    }
  }
  throw new Error(`fuzz: unknown value spec ${spec.t}`)
}

/** What SQLite must hand back for a bound value (`SELECT ?`), given safeIntegers. */
function expectation(spec, safe) {
  const int = (n) => (safe ? BigInt(n) : n)
  switch (spec.t) {
    case 'null': case 'undefined': return { ok: null }
    case 'boolean': return { ok: int(spec.v ? 1 : 0) }
    case 'number': {
      const x = Number(spec.v)
      if (Number.isNaN(x)) return { ok: null }
      // Every number binds as REAL, as in better-sqlite3: it reads back as the same number, safeIntegers or not.
      return { ok: x }
    }
    case 'bigint': {
      const b = BigInt(spec.v)
      if (b < INT64_MIN || b > INT64_MAX) return { mustThrow: true }
      if (safe) return { ok: b }
      if (b >= -BigInt(MAX_SAFE) && b <= BigInt(MAX_SAFE)) return { ok: Number(b) }
      return { readMustThrow: true } // bound as is, never rounded when read
    }
    case 'string': return { ok: wellFormed(spec.v) }
    case 'long': return { ok: wellFormed(materialize(spec)) }
    case 'buffer': return { ok: Buffer.from(spec.bytes) }
    case 'bigbuffer': return { ok: Buffer.alloc(spec.bytes, spec.fill) }
    case 'uint8array': case 'uint8clamped': return { ok: Buffer.from(spec.bytes) }
    case 'typed': case 'dataview': case 'arraybuffer': {
      // Not documented as bindable: refused, or bound as the bytes it views.
      const v = materialize(spec)
      const bytes = v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      return { ok: Buffer.from(bytes), mayThrow: true }
    }
    case 'throwing': return { mustThrow: true, throws: true }
    default: return { mustThrow: true }
  }
}

/** `s` with each lone surrogate replaced by U+FFFD (what UTF-8 storage gives back). */
function wellFormed(s) {
  if (typeof s.toWellFormed === 'function') return s.toWellFormed()
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
}

/** Whether a value read back matches an expectation's value. */
function matches(actual, exp) {
  if ('numeric' in exp) {
    return typeof actual === 'bigint' ? actual === BigInt(exp.numeric) : actual === exp.numeric
  }
  const want = exp.ok
  if (Buffer.isBuffer(want)) return Buffer.isBuffer(actual) && actual.equals(want)
  if (typeof want === 'number' && Number.isNaN(want)) return Number.isNaN(actual)
  return actual === want
}

/** A spec of a table cell (schema and proto cases). */
function genCell(r) {
  return r.weighted([
    [3, () => ({ t: 'number', v: String(r.int(-1000, 1000000)) })],
    [1, () => ({ t: 'number', v: String(Math.round(r.float() * 1e6) / 64) })],
    [3, () => ({ t: 'string', v: `s${r.int(0, 99999)}${r.pick(['', 'é', '😀', ' x'])}` })],
    [1, () => ({ t: 'buffer', bytes: r.bytes(r.int(0, 5)) })],
    [1, () => ({ t: 'null' })],
  ])()
}

module.exports = { hash32, random, simpleValue, anyValue, genCell, materialize, expectation, matches }
