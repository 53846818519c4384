// Family params: random JS values as positional, numbered and named parameters, and typed-column inserts.
'use strict'
const { isDeepStrictEqual } = require('node:util')
const { HardenedDb, firstRow } = require('./db.cjs')
const { anyValue, materialize, expectation, matches } = require('./random.cjs')
const { acceptThrow, attempt, describeThrow, show } = require('./outcomes.cjs')

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

module.exports = { genParams, runParams }
