// Worker: a bounded, seeded fuzz run of the statement API (issue #12), run by
// fuzz.spec.ts in a child process so that a crash shows up as a signal.
//
//   node|bun __test__/workers/fuzz.cjs <seed> <cases> [families]
//
// families: comma-separated, default all of
//   params   random JS values as parameters (positional ?, ?NNN; named :a @a $a)
//   hostile  getters, array-index getters and Proxy traps that close or re-enter the database
//   schema   ALTER TABLE / DROP+CREATE between prepare and step (same or a second connection)
//   proto    tables and columns named __proto__, constructor, toString, ...
// Case i is of family families[i % n] and generated from its own PRNG seeded with
// (seed, family, i), so `HS_FUZZ_CASE=<family>:<i>` replays that one case alone.
// env: HS_FUZZ_BUDGET_MS (default 20000): stop starting cases after this long;
//      HS_FUZZ_TMPDIR: where the database file of the schema cases goes (default: the OS temp dir);
//      HS_FUZZ_PACKAGE: fuzz another build of the package (its absolute path) instead of this one.
//
// Output: the seed first; before each case its plan on stderr (`case {...}`: the
// last one names the case that crashed or hung the process); per failing case a
// one-line JSON reproduction on stdout (`FAIL {...}`); last line
// `fuzz: N cases, F failures`. Exit status 0 when F = 0, 1 otherwise.
'use strict'
const { HardenedDb } = require(process.env.HS_FUZZ_PACKAGE || '../..')
const { writeSync, mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { isDeepStrictEqual } = require('node:util')

const FAMILIES = ['params', 'hostile', 'schema', 'proto']
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
/** Text the marker query leaves in its results; it must never show up in another statement's rows. */
const MARKER = 'zqMARK'

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
      if (!Number.isFinite(x)) return { ok: x }
      if (Number.isInteger(x)) {
        if (Math.abs(x) <= MAX_SAFE) return { ok: int(x === 0 ? 0 : x) }
        // Stored as INTEGER (too big to read back without safeIntegers) or as REAL.
        return { numeric: x, mayThrow: true }
      }
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

// ---------------------------------------------------------------------------
// Family: params. Random values as parameters of positional, numbered and
// named statements; a value read back must be what SQLite should store.

const METHODS = ['get', 'all', 'iterate', 'values', 'raw', 'pluck', 'expand', 'bindGet', 'bindAll', 'run']

function genParams(r) {
  const kind = r.weighted([[3, 'pos'], [1, 'num'], [3, 'named'], [1, 'mixed'], [2, 'insert']])
  const plan = { kind, safe: r.chance(0.25), count: r.weighted([[9, 0], [1, -1], [1, 1]]) }
  if (kind === 'pos') plan.n = r.int(1, 3)
  if (kind === 'named' || kind === 'mixed') {
    plan.prefixes = [r.pick([':', '@', '$']), r.pick([':', '@', '$']), r.pick([':', '@', '$'])]
    plan.prefixedKeys = [r.chance(0.3), r.chance(0.3), r.chance(0.3)]
    plan.n = kind === 'named' ? r.int(1, 3) : 1
    plan.container = r.weighted([[5, 'plain'], [1, 'nullproto'], [2, 'getters'], [1, 'proxy'], [1, 'instance'], [1, 'frozen']])
    plan.objectFirst = r.chance(0.5)
  }
  if (kind === 'insert') {
    plan.placeholder = r.pick(['?', ':a', '@a', '$a', '?1'])
    plan.type = r.pick(['', 'INTEGER', 'REAL', 'TEXT', 'BLOB', 'NUMERIC', 'ANY', 'VARCHAR(3)', 'INT8', 'DOUBLE', 'BOOLEAN'])
    plan.method = r.pick(['run', 'bindRun'])
  } else {
    plan.method = r.pick(METHODS)
  }
  const slots = kind === 'pos' ? plan.n : kind === 'num' ? 3 : kind === 'named' ? plan.n : kind === 'mixed' ? 2 : 1
  plan.values = Array.from({ length: slots }, () => anyValue(r))
  // An object or array among the values can itself change the count (a named-parameter
  // object, an array spread into values): then the count stays right, so the value decides.
  if (plan.values.some((v) => expectation(v, false).mustThrow && v.t !== 'bigint' && v.t !== 'symbol')) plan.count = 0
  if (kind === 'pos' || kind === 'num') plan.shape = r.pick(['spread', 'array', 'split'])
  return plan
}

/** SQL of a params plan and its result columns as [name, slot]. */
function paramsStatement(plan) {
  const names = ['a', 'b', 'c']
  switch (plan.kind) {
    case 'pos': return { sql: 'SELECT ' + names.slice(0, plan.n).map((n) => `? AS ${n}`).join(', '), columns: names.slice(0, plan.n).map((n, i) => [n, i]) }
    case 'num': return { sql: 'SELECT ?1 AS a, ?3 AS c', columns: [['a', 0], ['c', 2]] }
    case 'named': return { sql: 'SELECT ' + names.slice(0, plan.n).map((n, i) => `${plan.prefixes[i]}${n} AS ${n}`).join(', '), columns: names.slice(0, plan.n).map((n, i) => [n, i]) }
    case 'mixed': return { sql: `SELECT ? AS a, ${plan.prefixes[0]}n AS n`, columns: [['a', 0], ['n', 1]] }
  }
  throw new Error('unreachable')
}

/** The object of named parameters of a plan (`names[i]` gets `values[i]`). */
function namedObject(plan, names, values) {
  const keys = names.map((n, i) => (plan.prefixedKeys[i] ? plan.prefixes[i] + n : n))
  let o
  switch (plan.container) {
    case 'nullproto': o = Object.create(null); break
    case 'instance': o = new (class Params {})(); break
    default: o = {}
  }
  keys.forEach((key, i) => {
    if (plan.container === 'getters') Object.defineProperty(o, key, { enumerable: true, configurable: true, get: () => values[i] })
    else o[key] = values[i]
  })
  if (plan.container === 'proxy') return new Proxy(o, {})
  if (plan.container === 'frozen') return Object.freeze(o)
  return o
}

/** Arguments of a params plan, and whether their arity/shape is valid. */
function paramsArguments(plan, values) {
  const extra = 1
  if (plan.kind === 'pos' || plan.kind === 'num') {
    let v = values.slice()
    if (plan.count < 0) v = v.slice(0, -1)
    if (plan.count > 0) v.push(extra)
    const args = plan.shape === 'spread' ? v : plan.shape === 'array' ? [v] : v.length ? [v[0], v.slice(1)] : []
    return { args, valid: plan.count === 0 }
  }
  if (plan.kind === 'named') {
    const names = ['a', 'b', 'c'].slice(0, plan.n)
    const keep = plan.count < 0 ? names.length - 1 : names.length
    const args = [namedObject(plan, names.slice(0, keep), values)]
    if (plan.count > 0) args.push(extra)
    return { args, valid: plan.count === 0, containerMay: !['plain', 'nullproto', 'getters', 'frozen'].includes(plan.container) }
  }
  if (plan.kind === 'mixed') {
    const object = namedObject(plan, ['n'], [values[1]])
    const positional = plan.count < 0 ? [] : plan.count > 0 ? [values[0], extra] : [values[0]]
    return { args: plan.objectFirst ? [object, ...positional] : [...positional, object], valid: plan.count === 0, containerMay: !['plain', 'nullproto', 'getters', 'frozen'].includes(plan.container) }
  }
  // insert
  if (plan.placeholder === '?' || plan.placeholder === '?1') {
    const v = plan.count < 0 ? [] : plan.count > 0 ? [values[0], extra] : [values[0]]
    return { args: v, valid: plan.count === 0 }
  }
  const key = plan.placeholder === '$a' ? '$a' : 'a' // with and without the prefix
  const object = plan.count < 0 ? {} : { [key]: values[0] }
  return { args: plan.count > 0 ? [object, extra] : [object], valid: plan.count === 0 }
}

/** Runs a read `method` of `stmt` with `args`; returns the first row as { column: value }. */
function firstRow(stmt, method, args, names) {
  const fromArray = (row) => (row === undefined ? undefined : Object.fromEntries(names.map((n, i) => [n, row[i]])))
  switch (method) {
    case 'get': return stmt.get(...args)
    case 'all': return stmt.all(...args)[0]
    case 'iterate': return Array.from(stmt.iterate(...args))[0]
    case 'values': return fromArray(stmt.values(...args)[0])
    case 'raw': return fromArray(stmt.raw().get(...args))
    case 'pluck': { const value = stmt.pluck().get(...args); return value === undefined ? undefined : { [names[0]]: value } }
    case 'expand': { const row = stmt.expand().get(...args); return row && row.$ }
    case 'bindGet': stmt.bind(...args); return stmt.get()
    case 'bindAll': stmt.bind(...args); return stmt.all()[0]
    case 'run': stmt.run(...args); return undefined
  }
  throw new Error(`fuzz: unknown method ${method}`)
}

function runParams(plan, ctx) {
  const db = ctx.track(new HardenedDb(':memory:'))
  const values = plan.values.map((s) => materialize(s, ctx))
  const exps = plan.values.map((s) => expectation(s, plan.safe))
  const { args, valid, containerMay } = paramsArguments(plan, values)
  const bindMustThrow = !valid || exps.some((e) => e.mustThrow)
  const bindMayThrow = bindMustThrow || containerMay || exps.some((e) => e.mayThrow)

  if (plan.kind === 'insert') return runInsert(plan, ctx, db, values, exps, args, bindMustThrow, bindMayThrow)

  // A bigint beyond 2^53 binds, but reading it back without safeIntegers must throw.
  const { sql, columns } = paramsStatement(plan)
  const certainlyRead = plan.method === 'run' ? [] : plan.method === 'pluck' ? columns.slice(0, 1) : columns
  const maybeRead = plan.method === 'run' ? [] : columns
  const mustThrow = bindMustThrow || certainlyRead.some(([, slot]) => exps[slot].readMustThrow)
  const mayThrow = bindMayThrow || mustThrow || maybeRead.some(([, slot]) => exps[slot].readMustThrow)
  const stmt = db.prepare(sql)
  if (plan.safe) stmt.safeIntegers()
  const out = attempt(() => firstRow(stmt, plan.method, args, columns.map(([n]) => n)))
  if ('error' in out) {
    if (acceptThrow(ctx, `${plan.method}()`, out.error) && !mayThrow && !ctx.thrown.has(out.error)) {
      ctx.problem(`${plan.method}() threw ${describeThrow(out.error)} for values it must accept`)
    }
    return
  }
  if (mustThrow) {
    ctx.problem(`${plan.method}() returned ${show(out.value)} where it must throw (invalid value or parameter count)`)
    return
  }
  if (plan.method === 'run') return
  const row = out.value
  if (row === undefined || row === null) return ctx.problem(`${plan.method}() returned no row`)
  const used = plan.method === 'pluck' ? columns.slice(0, 1) : columns
  for (const [name, slot] of used) {
    if (!matches(row[name], exps[slot])) {
      ctx.problem(`column ${name}: read back ${show(row[name])} (${typeof row[name]}), expected ${show('numeric' in exps[slot] ? exps[slot].numeric : exps[slot].ok)}`)
    }
  }
}

/** INSERT a value into a typed column, read it back, and compare with SQLite copying it there itself. */
function runInsert(plan, ctx, db, values, exps, args, mustThrow, mayThrow) {
  db.exec(`CREATE TABLE u (id INTEGER PRIMARY KEY, x ${plan.type}); CREATE TABLE u2 (id INTEGER PRIMARY KEY, x ${plan.type}); CREATE TABLE w (x)`)
  const insert = db.prepare(`INSERT INTO u (x) VALUES (${plan.placeholder})`)
  if (plan.safe) insert.safeIntegers()
  const out = attempt(() => {
    if (plan.method === 'bindRun') {
      insert.bind(...args)
      return insert.run()
    }
    return insert.run(...args)
  })
  if ('error' in out) {
    if (acceptThrow(ctx, 'run()', out.error) && !mayThrow && !ctx.thrown.has(out.error)) ctx.problem(`run() threw ${describeThrow(out.error)} for a value it must accept`)
    return
  }
  if (mustThrow) return ctx.problem(`run() returned ${show(out.value)} where it must throw`)
  const info = out.value
  if (!info || Number(info.changes) !== 1 || Number(info.lastInsertRowid) !== 1) ctx.problem(`run() returned ${show(info)}, expected { changes: 1, lastInsertRowid: 1 }`)
  if (plan.safe && typeof info.lastInsertRowid !== 'bigint') ctx.problem('lastInsertRowid is not a bigint under safeIntegers')
  // The same value into an untyped column: read back exactly as bound.
  db.prepare('INSERT INTO w (x) VALUES (?)').run(values[0])
  const read = (sql) => attempt(() => db.prepare(sql).safeIntegers(plan.safe).all())
  const untyped = read('SELECT x FROM w')
  if ('error' in untyped) {
    if (acceptThrow(ctx, 'reading the untyped column', untyped.error) && !exps[0].mayThrow && !exps[0].readMustThrow) ctx.problem(`reading back threw ${describeThrow(untyped.error)}`)
  } else if (exps[0].readMustThrow) {
    ctx.problem(`reading back a bigint beyond 2^53 without safeIntegers returned ${show(untyped.value[0].x)} instead of throwing`)
  } else if (!matches(untyped.value[0].x, exps[0])) {
    ctx.problem(`untyped column: read back ${show(untyped.value[0].x)}, expected ${show('numeric' in exps[0] ? exps[0].numeric : exps[0].ok)}`)
  }
  // Type affinity is SQLite's business: a bound insert must store what SQLite's own copy stores.
  db.exec('INSERT INTO u2 (id, x) SELECT 1, x FROM w')
  const bound = read('SELECT x, typeof(x) AS type FROM u')
  const copied = read('SELECT x, typeof(x) AS type FROM u2')
  if ('error' in bound || 'error' in copied) {
    if ('error' in bound) acceptThrow(ctx, 'reading the typed column', bound.error)
    if (('error' in bound) !== ('error' in copied) || bound.error?.code !== copied.error?.code) ctx.problem(`typed column ${plan.type}: bound read ${show(bound.value ?? describeThrow(bound.error))}, SQLite's copy read ${show(copied.value ?? describeThrow(copied.error))}`)
  } else if (!isDeepStrictEqual(bound.value, copied.value)) {
    ctx.problem(`typed column ${plan.type}: bound insert stored ${show(bound.value)}, SQLite's own copy stored ${show(copied.value)}`)
  }
}

// ---------------------------------------------------------------------------
// Family: hostile. Callbacks run while the library reads parameters (getters,
// array-index getters, Proxy traps) or while it iterates, and close the
// database, use it, re-enter the same statement, change the schema, throw, or
// return odd values.

const PLACEMENTS = ['getter', 'arrayIndex', 'proxyGet', 'proxyHas', 'proxyOwnKeys', 'proxyGopd', 'proxyArray', 'coercion', 'iterateBody']
const ACTIONS = ['close', 'close', 'closeUse', 'closeReopen', 'other', 'otherWrite', 'same', 'sameIterate', 'prepare', 'throw', 'throwPrimitive', 'odd', 'alter', 'drop', 'recreate', 'begin', 'transaction', 'mode', 'gc', 'nothing']
const HOSTILE_METHODS = ['get', 'all', 'iterate', 'values', 'run', 'bindGet', 'raw', 'pluck', 'expand']

function genHostile(r) {
  return {
    placement: r.pick(PLACEMENTS),
    action: r.pick(ACTIONS),
    fire: r.pick(['first', 'first', 'second', 'every']),
    method: r.pick(HOSTILE_METHODS),
    ret: simpleValue(r),
    odd: anyValue(r),
    safe: r.chance(0.2),
    mode: r.pick(['raw', 'pluck', 'expand', 'safeIntegers']),
    rows: r.int(0, 70),
  }
}

function runHostile(plan, ctx) {
  const db = ctx.track(new HardenedDb(':memory:'))
  db.exec('CREATE TABLE t (x INTEGER, y TEXT)')
  const fill = db.prepare("INSERT INTO t VALUES (?, 'row ' || ?)")
  for (let i = 0; i < plan.rows; i++) fill.run(i, i)
  const named = ['getter', 'proxyGet', 'proxyHas', 'proxyOwnKeys', 'proxyGopd'].includes(plan.placement)
  const [pa, pb] = named ? [':a', ':b'] : ['?', '?']
  const sql = plan.method === 'run' ? `INSERT INTO t (x, y) VALUES (${pa}, ${pb})` : `SELECT ${pa} AS a, ${pb} AS b, x, y FROM t ORDER BY x`
  const stmt = db.prepare(sql)
  if (plan.safe) stmt.safeIntegers()
  const other = db.prepare('SELECT count(*) AS n FROM t')
  const otherWrite = db.prepare("INSERT INTO t VALUES (1000, 'other')")
  const plainArgs = named ? [{ a: 1, b: 2 }] : [1, 2]
  const retValue = materialize(plan.action === 'odd' ? plan.odd : plan.ret, ctx)
  let calls = 0
  let closed = false

  /** The hostile action, run from inside the library's call. */
  const act = () => {
    calls++
    const fire = plan.fire === 'every' || (plan.fire === 'first' ? calls === 1 : calls === 2)
    if (!fire) return
    const inner = (what, fn) => {
      const out = attempt(fn)
      if ('error' in out) acceptThrow(ctx, `${what} (inside the callback)`, out.error)
      return out
    }
    switch (plan.action) {
      case 'close': closed = true; inner('db.close()', () => db.close()); break
      case 'closeUse': {
        closed = true
        inner('db.close()', () => db.close())
        const use = attempt(() => stmt.all(...plainArgs))
        if (!('error' in use)) ctx.problem('the statement returned rows after db.close() inside its own call')
        else acceptThrow(ctx, 'using the statement after db.close() (inside the callback)', use.error)
        break
      }
      case 'closeReopen': {
        closed = true
        inner('db.close()', () => db.close())
        inner('opening another database', () => { const d = new HardenedDb(':memory:'); d.prepare('SELECT 1').get(); d.close() })
        break
      }
      case 'other': inner('another statement', () => other.get()); break
      case 'otherWrite': inner('another statement writing', () => otherWrite.run()); break
      case 'same': inner('the same statement', () => stmt.all(...plainArgs)); break
      case 'sameIterate': inner('the same statement iterate()', () => stmt.iterate(...plainArgs).next()); break
      case 'prepare': for (let k = 0; k < 3; k++) inner('prepare()', () => db.prepare(`SELECT ${k} AS k, * FROM t`).all()); break
      case 'throw': { const e = new Error('thrown by the callback'); ctx.thrown.add(e); throw e }
      case 'throwPrimitive': { const e = calls % 2 ? 'thrown string' : 42; ctx.thrown.add(e); throw e }
      case 'alter': inner('ALTER TABLE', () => db.exec(`ALTER TABLE t ADD COLUMN z${calls} DEFAULT 'added'`)); break
      case 'drop': inner('DROP TABLE', () => db.exec('DROP TABLE t')); break
      case 'recreate': inner('DROP + CREATE TABLE', () => db.exec("DROP TABLE t; CREATE TABLE t (q, x, y); INSERT INTO t VALUES ('q', 1, 'new')")); break
      case 'begin': inner('BEGIN', () => db.exec('BEGIN')); break
      case 'transaction': inner('db.transaction()', () => db.transaction(() => otherWrite.run())()); break
      case 'mode': inner(`${plan.mode}()`, () => stmt[plan.mode]()); break
      case 'gc': if (typeof Bun !== 'undefined') Bun.gc(true); else if (typeof gc === 'function') gc(); else for (let k = 0; k < 2000; k++) void new Array(64); break
    }
  }

  let args
  switch (plan.placement) {
    case 'getter': {
      const o = { b: 2 }
      Object.defineProperty(o, 'a', { enumerable: true, configurable: true, get() { act(); return retValue } })
      args = [o]
      break
    }
    case 'arrayIndex': {
      const a = [0, 2]
      Object.defineProperty(a, 0, { enumerable: true, configurable: true, get() { act(); return retValue } })
      args = [a]
      break
    }
    case 'proxyArray':
      args = [new Proxy([retValue, 2], { get(t, k, rcv) { act(); return Reflect.get(t, k, rcv) } })]
      break
    case 'coercion': {
      const o = { valueOf() { act(); return 1 }, toString() { act(); return 's' }, [Symbol.toPrimitive]() { act(); return 2 }, toJSON() { act(); return 3 } }
      args = [o, 2]
      break
    }
    case 'iterateBody':
      args = plainArgs
      break
    default: {
      const target = { a: retValue, b: 2 }
      const odd = plan.action === 'odd'
      const traps = {
        proxyGet: { get(t, k, rcv) { act(); return k === 'a' || k === ':a' ? retValue : Reflect.get(t, k, rcv) } },
        proxyHas: { has(t, k) { act(); return odd ? !Reflect.has(t, k) : Reflect.has(t, k) } },
        proxyOwnKeys: { ownKeys(t) { act(); return odd ? ['zz', 'b', 'a', Symbol('k')] : Reflect.ownKeys(t) } },
        proxyGopd: { getOwnPropertyDescriptor(t, k) { act(); return odd ? (k === 'a' ? undefined : { value: retValue, writable: true, enumerable: true, configurable: true }) : Reflect.getOwnPropertyDescriptor(t, k) } },
      }
      args = [new Proxy(target, traps[plan.placement])]
    }
  }

  const call = () => {
    if (plan.placement === 'iterateBody') {
      const rows = []
      for (const row of stmt.iterate(...args)) {
        act()
        rows.push(row)
      }
      return rows[0]
    }
    return firstRow(stmt, plan.method, args, ['a', 'b', 'x', 'y'])
  }
  const out = attempt(call)
  if ('error' in out) {
    acceptThrow(ctx, `${plan.method}()`, out.error)
  } else if (!closed && plan.action !== 'mode' && plan.action !== 'odd' && plan.action !== 'recreate' && plan.method !== 'run' && plan.placement !== 'iterateBody'
    && (plan.placement === 'getter' || plan.placement === 'arrayIndex' || plan.placement === 'proxyGet') && out.value !== undefined) {
    const exp = expectation(plan.ret, plan.safe)
    if (!matches(out.value.a, exp)) ctx.problem(`column a read back ${show(out.value.a)}, expected ${show(exp.ok)}`)
  }

  if (closed) {
    // Later use of the database and its statements must throw HARDENED_NOT_OPEN (TypeError).
    if (db.open !== false) ctx.problem('db.open is not false after db.close() from a callback')
    const uses = [['the statement', () => stmt.all(...plainArgs)], ['another statement', () => other.get()], ['db.prepare()', () => db.prepare('SELECT 1')], ['db.exec()', () => db.exec('SELECT 1')]]
    for (const [what, fn] of uses) {
      const use = attempt(fn)
      if (!('error' in use)) ctx.problem(`${what} worked after db.close() from a callback`)
      else if (!(use.error instanceof TypeError) || use.error.code !== 'HARDENED_NOT_OPEN') ctx.problem(`${what} after db.close() from a callback threw ${describeThrow(use.error)}, expected TypeError HARDENED_NOT_OPEN`)
    }
    const again = attempt(() => db.close())
    if ('error' in again) acceptThrow(ctx, 'a second db.close()', again.error)
    const fresh = attempt(() => { const d = new HardenedDb(':memory:'); const v = d.prepare('SELECT 41 + 1 AS v').get().v; d.close(); return v })
    if ('error' in fresh) ctx.problem(`opening a new database afterwards threw ${describeThrow(fresh.error)}`)
    else if (fresh.value !== 42) ctx.problem(`a new database afterwards computed ${show(fresh.value)}`)
  } else {
    // Still usable: the statement with plain arguments, and new statements.
    if (db.inTransaction) attempt(() => db.exec('ROLLBACK'))
    const reuse = attempt(() => stmt.safeIntegers(false).raw(false).all(...plainArgs))
    if ('error' in reuse) acceptThrow(ctx, 'the statement afterwards', reuse.error)
    const sanity = attempt(() => db.prepare('SELECT 41 + 1 AS v').get().v)
    if ('error' in sanity || sanity.value !== 42) ctx.problem(`the database afterwards: ${'error' in sanity ? describeThrow(sanity.error) : show(sanity.value)}`)
  }
}

// ---------------------------------------------------------------------------
// Family: schema. A statement prepared (and maybe read) before ALTER TABLE,
// DROP + CREATE or a rename must read exactly what a freshly prepared one
// does, or throw a coded error; never cells of another row or query.

const COLUMN_NAMES = ['a', 'b', 'c', 'd', 'name', 'x_y', 'ü', 'has space', 'k', 'r', 'value']
const COLUMN_TYPES = ['', 'INTEGER', 'TEXT', 'REAL', 'BLOB', 'NUMERIC']

function genColumns(r, count) {
  const names = []
  while (names.length < count) {
    const n = r.chance(0.7) ? r.pick(COLUMN_NAMES) : `c${r.int(0, 99)}`
    if (!names.some((m) => m.toLowerCase() === n.toLowerCase())) names.push(n)
  }
  return names.map((name) => ({ name, type: r.pick(COLUMN_TYPES) }))
}

function genCell(r) {
  return r.weighted([
    [3, () => ({ t: 'number', v: String(r.int(-1000, 1000000)) })],
    [1, () => ({ t: 'number', v: String(Math.round(r.float() * 1e6) / 64) })],
    [3, () => ({ t: 'string', v: `s${r.int(0, 99999)}${r.pick(['', 'é', '😀', ' x'])}` })],
    [1, () => ({ t: 'buffer', bytes: r.bytes(r.int(0, 5)) })],
    [1, () => ({ t: 'null' })],
  ])()
}

function genRows(r, width) {
  return Array.from({ length: r.weighted([[1, 0], [3, r.int(1, 5)], [1, r.int(6, 80)]]) }, () => Array.from({ length: width }, () => genCell(r)))
}

const DEFAULTS = ['7', '-1.5', "'dflt'", "x'0102'", 'NULL', "'zz'", '0', null]

function genChange(r, columns) {
  const kind = r.weighted([[5, 'add'], [2, 'drop'], [2, 'recreate'], [1, 'rename'], [1, 'renameTable'], [1, 'none']])
  switch (kind) {
    case 'add': return { kind, name: `n${r.int(0, 999)}`, type: r.pick(COLUMN_TYPES), dflt: r.pick(DEFAULTS) }
    case 'drop': return { kind, name: r.pick(columns).name }
    case 'rename': return { kind, from: r.pick(columns).name, to: `m${r.int(0, 999)}` }
    case 'recreate': case 'renameTable': {
      const cols = genColumns(r, r.int(1, 5))
      return { kind, columns: cols, rows: genRows(r, cols.length) }
    }
    default: return { kind }
  }
}

function genSchema(r) {
  const columns = genColumns(r, r.int(1, 5))
  const rounds = r.int(1, 2)
  const plan = {
    file: r.chance(0.25),
    columns,
    rows: genRows(r, columns.length),
    sql: r.int(0, 4),
    safe: r.chance(0.15),
    before: r.pick(['none', 'all', 'get', 'iterate', 'partial', 'values']),
    modeBefore: r.pick(['object', 'raw', 'pluck', 'expand']),
    rounds: [],
  }
  let cols = columns
  for (let i = 0; i < rounds; i++) {
    const changes = Array.from({ length: r.int(1, 3) }, () => genChange(r, cols))
    plan.rounds.push({
      changes,
      second: plan.file && r.chance(0.6),
      mode: r.pick(['object', 'raw', 'pluck', 'expand']),
      after: r.pick(['all', 'iterate', 'values', 'get', 'rawAll']),
      marker: r.chance(0.8),
    })
    cols = columnsAfter(cols, changes)
  }
  return plan
}

/** The column list after some changes (for picking a column to drop or rename next). */
function columnsAfter(cols, changes) {
  let out = cols
  for (const c of changes) {
    if (c.kind === 'add') out = [...out, { name: c.name, type: c.type }]
    else if (c.kind === 'drop' && out.length > 1) out = out.filter((x) => x.name !== c.name)
    else if (c.kind === 'rename') out = out.map((x) => (x.name === c.from ? { ...x, name: c.to } : x))
    else if (c.kind === 'recreate' || c.kind === 'renameTable') out = c.columns
  }
  return out.length ? out : cols
}

const ident = (name) => `"${name.replace(/"/g, '""')}"`

function schemaSql(table, variant) {
  const t = ident(table)
  return [
    `SELECT * FROM ${t}`,
    `SELECT ${t}.*, 1 AS k FROM ${t}`,
    `SELECT *, rowid AS rid FROM ${t} ORDER BY rowid`,
    `SELECT * FROM ${t} WHERE rowid > ?`,
    `SELECT 'lit' AS s, * FROM ${t} ORDER BY rowid DESC`,
  ][variant]
}

function createTable(db, table, columns, rows, ctx) {
  db.exec(`CREATE TABLE ${ident(table)} (${columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ')})`)
  if (rows.length) {
    const insert = db.prepare(`INSERT INTO ${ident(table)} VALUES (${columns.map(() => '?').join(', ')})`)
    for (const row of rows) insert.run(...row.map((s) => materialize(s, ctx)))
  }
}

function changeSql(table, c, ctx) {
  const t = ident(table)
  switch (c.kind) {
    case 'add': return `ALTER TABLE ${t} ADD COLUMN ${ident(c.name)} ${c.type}${c.dflt === null ? '' : ` DEFAULT ${c.dflt}`}`
    case 'drop': return `ALTER TABLE ${t} DROP COLUMN ${ident(c.name)}`
    case 'rename': return `ALTER TABLE ${t} RENAME COLUMN ${ident(c.from)} TO ${ident(c.to)}`
    case 'recreate': return `DROP TABLE ${t}`
    case 'renameTable': return `DROP TABLE IF EXISTS ${ident(table + '_old')}; ALTER TABLE ${t} RENAME TO ${ident(table + '_old')}`
    default: return ''
  }
}

/** Shared file database for schema cases that use a file and a second connection (opening one costs ~50 ms). */
let fileDbs = null
function fileConnections() {
  if (!fileDbs) {
    const dir = mkdtempSync(join(process.env.HS_FUZZ_TMPDIR || tmpdir(), 'hs-fuzz-'))
    const path = join(dir, 'fuzz.db')
    const first = new HardenedDb(path)
    const second = new HardenedDb(path)
    fileDbs = { dir, first, second }
    process.on('exit', () => {
      for (const db of [first, second]) try { db.close() } catch {}
      rmSync(dir, { recursive: true, force: true })
    })
  }
  return fileDbs
}

/** Reads `stmt` the way `after` says, in the statement's current mode. */
function readAfter(stmt, after, args) {
  switch (after) {
    case 'all': return stmt.all(...args)
    case 'iterate': return Array.from(stmt.iterate(...args))
    case 'values': return stmt.values(...args)
    case 'get': return stmt.get(...args)
    case 'rawAll': return stmt.raw().all(...args)
  }
  throw new Error('unreachable')
}

function setMode(stmt, mode) {
  if (mode === 'object') stmt.raw(false).pluck(false).expand(false)
  else stmt[mode]()
}

function runSchema(plan, ctx) {
  let db, second, table
  if (plan.file) {
    const conns = fileConnections()
    db = conns.first
    second = conns.second
    table = `t_${ctx.index}`
    attempt(() => db.exec(`DROP TABLE IF EXISTS ${ident(table)}; DROP TABLE IF EXISTS ${ident(table + '_old')}`))
  } else {
    db = ctx.track(new HardenedDb(':memory:'))
    table = 't'
  }
  try {
    createTable(db, table, plan.columns, plan.rows, ctx)
    const sql = schemaSql(table, plan.sql)
    const args = plan.sql === 3 ? [0] : []
    const old = db.prepare(sql)
    if (plan.safe) old.safeIntegers()
    setMode(old, plan.modeBefore)
    const before = attempt(() => {
      switch (plan.before) {
        case 'all': return old.all(...args)
        case 'get': return old.get(...args)
        case 'values': return old.values(...args)
        case 'iterate': return Array.from(old.iterate(...args))
        case 'partial': { const it = old.iterate(...args); it.next(); it.return(); return undefined }
      }
    })
    if ('error' in before) acceptThrow(ctx, 'the first read', before.error)
    const marker = db.prepare(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40)
      SELECT '${MARKER}' || i || '-a' AS m1, i AS n, '${MARKER}' || (i * 7) AS m2, x'00ff' AS b, '${MARKER}-é' || i AS m3 FROM c`)

    for (const [roundIndex, round] of plan.rounds.entries()) {
      const via = round.second ? second : db
      for (const change of round.changes) {
        const text = changeSql(table, change, ctx)
        if (text) {
          const done = attempt(() => via.exec(text))
          if ('error' in done) { acceptThrow(ctx, `schema change ${change.kind}`, done.error); continue }
        }
        if (change.kind === 'recreate' || change.kind === 'renameTable') {
          const made = attempt(() => createTable(via, table, change.columns, change.rows, ctx))
          if ('error' in made) acceptThrow(ctx, 'CREATE TABLE', made.error)
        }
      }
      const fresh = db.prepare(sql)
      for (const s of [old, fresh]) {
        s.safeIntegers(plan.safe)
        setMode(s, round.mode)
      }
      if (round.marker) marker.all()
      const got = attempt(() => readAfter(old, round.after, args))
      const want = attempt(() => readAfter(fresh, round.after, args))
      const where = `round ${roundIndex + 1} (${round.changes.map((c) => c.kind).join('+')}${round.second ? ' via a second connection' : ''}), ${round.mode} mode, ${round.after}()`
      if ('error' in got) {
        acceptThrow(ctx, `the old statement, ${where},`, got.error)
        continue
      }
      if (containsMarker(got.value)) ctx.problem(`${where}: the old statement's rows hold text of another query: ${show(got.value)}`)
      if ('error' in want) {
        ctx.problem(`${where}: a fresh statement threw ${describeThrow(want.error)} but the old one returned ${show(got.value)}`)
      } else if (!isDeepStrictEqual(got.value, want.value)) {
        ctx.problem(`${where}: old statement read ${show(got.value)}, a fresh one ${show(want.value)}`)
      }
    }
  } finally {
    if (plan.file) attempt(() => db.exec(`DROP TABLE IF EXISTS ${ident(table)}; DROP TABLE IF EXISTS ${ident(table + '_old')}`))
  }
}

// ---------------------------------------------------------------------------
// Family: proto. Tables, columns and aliases named like Object.prototype's
// properties; rows must hold them as own properties and no read may touch
// the built-in prototypes.

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'isPrototypeOf', '__defineGetter__', 'toLocaleString', 'then', 'length']

function genProto(r) {
  const tableCount = r.int(1, 2)
  const tables = []
  while (tables.length < tableCount) {
    const name = r.pick(PROTO_NAMES)
    if (!tables.some((t) => t.name === name)) tables.push({ name, columns: pickDistinct(r, PROTO_NAMES.filter((n) => n !== 'length' || r.chance(0.5)), r.int(1, 4)) })
  }
  return {
    tables,
    rows: r.int(1, 3),
    cell: genCell(r),
    aliases: r.chance(0.3),
    safe: r.chance(0.2),
    reads: Array.from({ length: r.int(2, 6) }, () => ({ mode: r.pick(['object', 'expand', 'raw', 'pluck']), method: r.pick(['all', 'get', 'iterate', 'values']) })),
  }
}

function pickDistinct(r, list, n) {
  const out = []
  while (out.length < Math.min(n, list.length)) {
    const x = r.pick(list)
    if (!out.includes(x)) out.push(x)
  }
  return out
}

function runProto(plan, ctx) {
  const db = ctx.track(new HardenedDb(':memory:'))
  for (const [ti, table] of plan.tables.entries()) {
    db.exec(`CREATE TABLE ${ident(table.name)} (${table.columns.map(ident).join(', ')})`)
    const insert = db.prepare(`INSERT INTO ${ident(table.name)} VALUES (${table.columns.map(() => '?').join(', ')})`)
    for (let i = 0; i < plan.rows; i++) insert.run(...table.columns.map((_, ci) => (ci === 0 ? i + 10 * ti : materialize(plan.cell, ctx))))
  }
  // Every column once under its own name (object mode keeps one value per name), or aliased to a proto name.
  const picks = []
  const used = new Set()
  for (const table of plan.tables) {
    for (const column of table.columns) {
      const alias = plan.aliases ? PROTO_NAMES[picks.length % PROTO_NAMES.length] : column
      if (used.has(alias)) continue
      used.add(alias)
      picks.push(`${ident(table.name)}.${ident(column)}${plan.aliases ? ` AS ${ident(alias)}` : ''}`)
    }
  }
  const from = plan.tables.map((t) => ident(t.name)).join(' CROSS JOIN ')
  const sql = `SELECT ${picks.join(', ')} FROM ${from} ORDER BY 1`
  const stmt = db.prepare(sql)
  if (plan.safe) stmt.safeIntegers()
  const reference = db.prepare(sql).safeIntegers(plan.safe).raw().all()
  const columns = db.prepare(sql).columns()
  for (const read of plan.reads) {
    setMode(stmt, read.mode)
    const out = attempt(() => {
      switch (read.method) {
        case 'all': return stmt.all()
        case 'get': return [stmt.get()]
        case 'iterate': return Array.from(stmt.iterate())
        case 'values': return stmt.values()
      }
    })
    const damage = prototypeDamage()
    if (damage.length) ctx.problem(`${read.mode} mode ${read.method}(): ${damage.join('; ')}`)
    if ('error' in out) { acceptThrow(ctx, `${read.mode} ${read.method}()`, out.error); continue }
    const mode = read.method === 'values' ? 'raw' : read.mode
    out.value.forEach((row, i) => {
      const problem = rowProblem(row, reference[i], columns, mode)
      if (problem) ctx.problem(`${read.mode} mode ${read.method}() row ${i}: ${problem}`)
    })
  }
}

/** What is wrong with `row` (in `mode`) given its values as an array and the column metadata. */
function rowProblem(row, values, columns, mode) {
  const own = (o, k) => (o !== null && typeof o === 'object' ? Object.getOwnPropertyDescriptor(o, k) : undefined)
  const same = (a, b) => isDeepStrictEqual(a, b)
  if (mode === 'raw') return same(row, values) ? null : `${show(row)} instead of ${show(values)}`
  if (mode === 'pluck') return same(row, values[0]) ? null : `${show(row)} instead of ${show(values[0])}`
  if (row === null || typeof row !== 'object') return `row is not an object: ${show(row)}`
  const proto = Object.getPrototypeOf(row)
  if (proto !== Object.prototype && proto !== null) return `row has prototype ${show(proto)}`
  if (mode === 'object') {
    const names = columns.map((c) => c.name)
    if (!same(Object.getOwnPropertyNames(row), names)) return `own keys ${show(Object.getOwnPropertyNames(row))} instead of ${show(names)}`
    for (const [i, name] of names.entries()) if (!same(own(row, name)?.value, values[i])) return `${name} is ${show(own(row, name)?.value)} instead of ${show(values[i])}`
    return null
  }
  for (const [i, c] of columns.entries()) {
    const group = own(row, c.table ?? '$')?.value
    if (group === undefined) return `no own property ${show(c.table ?? '$')} in ${show(row)}`
    if (group === Object.prototype || group === null || typeof group !== 'object') return `row[${show(c.table ?? '$')}] is not a group object`
    if (!same(own(group, c.name)?.value, values[i])) return `${c.table}.${c.name} is ${show(own(group, c.name)?.value)} instead of ${show(values[i])}`
  }
  return null
}

// ---------------------------------------------------------------------------
// Driver

const GENERATORS = { params: genParams, hostile: genHostile, schema: genSchema, proto: genProto }
const RUNNERS = { params: runParams, hostile: runHostile, schema: runSchema, proto: runProto }

function main() {
  const seed = Number(process.argv[2])
  const cases = Number(process.argv[3] ?? 1)
  const families = (process.argv[4] ?? FAMILIES.join(',')).split(',').filter(Boolean)
  const budget = Number(process.env.HS_FUZZ_BUDGET_MS ?? 20000)
  if (!Number.isInteger(seed) || !Number.isInteger(cases) || cases < 0) {
    console.error('usage: node|bun __test__/workers/fuzz.cjs <seed> <cases> [families]   (or HS_FUZZ_CASE=<family>:<i> ... <seed>)')
    process.exit(2)
  }
  for (const f of families) if (!GENERATORS[f]) throw new Error(`fuzz: unknown family ${f} (families: ${FAMILIES.join(', ')})`)
  const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`
  const only = process.env.HS_FUZZ_CASE ? process.env.HS_FUZZ_CASE.split(':') : null
  console.log(`fuzz: seed ${seed}, ${only ? `case ${only.join(':')}` : `up to ${cases} cases`} of ${only ? only[0] : families.join(',')}, budget ${budget} ms, ${runtime}`)

  const started = Date.now()
  const deadline = started + budget
  const indices = only ? [[only[0], Number(only[1])]] : Array.from({ length: cases }, (_, i) => [families[i % families.length], i])
  let ran = 0
  let failures = 0
  const byFamily = {}
  for (const [family, index] of indices) {
    if (!only && Date.now() > deadline) break
    const plan = { family, case: index, ...GENERATORS[family](random(hash32(`${seed}/${family}/${index}`))) }
    const line = JSON.stringify(plan)
    writeSync(2, `case ${line}\n`)
    const problems = []
    const ctx = {
      index,
      thrown: new Set(),
      dbs: [],
      problem: (text) => problems.push(text),
      track(db) { this.dbs.push(db); return db },
    }
    try {
      RUNNERS[family](plan, ctx)
    } catch (error) {
      problems.push(`case driver caught ${describeThrow(error)}${error && error.stack ? ` at ${String(error.stack).split('\n').slice(1, 3).join(' ').trim()}` : ''}`)
    }
    for (const db of ctx.dbs) attempt(() => db.close())
    const damage = prototypeDamage()
    if (damage.length) problems.push(`built-in prototypes changed: ${damage.join('; ')}`)
    ran++
    byFamily[family] = (byFamily[family] ?? 0) + 1
    if (problems.length) {
      failures++
      const replay = `HS_FUZZ_CASE=${family}:${index} ${typeof Bun !== 'undefined' ? 'bun' : 'node'} __test__/workers/fuzz.cjs ${seed}`
      console.log(`FAIL ${JSON.stringify({ seed, family, case: index, problems: problems.slice(0, 4), replay, plan })}`)
    }
  }
  const elapsed = Date.now() - started
  console.log(`fuzz: ran ${ran} of ${indices.length} cases (${Object.entries(byFamily).map(([f, n]) => `${f} ${n}`).join(', ')}) in ${elapsed} ms${ran < indices.length ? ', stopped at the deadline' : ''}`)
  console.log(`fuzz: ${ran} cases, ${failures} failures`)
  process.exitCode = failures === 0 ? 0 : 1
}

main()
