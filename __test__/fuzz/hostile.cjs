// Family hostile: getters, array-index getters, Proxy traps and iterate() bodies that close, re-enter or change the database mid-call.
'use strict'
const { HardenedDb, BunDatabase, firstRow } = require('./db.cjs')
const { simpleValue, anyValue, materialize, expectation, matches } = require('./random.cjs')
const { acceptThrow, attempt, describeThrow, show } = require('./outcomes.cjs')

// Family: hostile. Callbacks run while the library reads parameters (getters,
// array-index getters, Proxy traps) or while it iterates, and close the
// database, use it, re-enter the same statement, change the schema, finalize
// it (bun face), throw, or return odd values. A third of the cases run on the
// bun face (hardened-sqlite/bun, `strict: true` so that bare keys bind).

const PLACEMENTS = ['getter', 'arrayIndex', 'proxyGet', 'proxyHas', 'proxyOwnKeys', 'proxyGopd', 'proxyArray', 'coercion', 'iterateBody']
const ACTIONS = ['close', 'close', 'closeUse', 'closeReopen', 'other', 'otherWrite', 'same', 'sameIterate', 'prepare', 'throw', 'throwPrimitive', 'odd', 'alter', 'drop', 'recreate', 'begin', 'transaction', 'mode', 'gc', 'finalize', 'nothing']
const HOSTILE_METHODS = ['get', 'all', 'iterate', 'values', 'run', 'bindGet', 'raw', 'pluck', 'expand']
/** The methods both faces have, for the bun face's cases. */
const BUN_METHODS = ['get', 'all', 'iterate', 'values', 'run']

function genHostile(r) {
  const bun = r.chance(1 / 3)
  return {
    bun,
    placement: r.pick(PLACEMENTS),
    action: r.pick(ACTIONS),
    fire: r.pick(['first', 'first', 'second', 'every']),
    method: r.pick(bun ? BUN_METHODS : HOSTILE_METHODS),
    ret: simpleValue(r),
    odd: anyValue(r),
    safe: r.chance(0.2),
    mode: r.pick(['raw', 'pluck', 'expand', 'safeIntegers']),
    rows: r.int(0, 70),
  }
}

function runHostile(plan, ctx) {
  const db = ctx.track(plan.bun ? new BunDatabase(':memory:', { strict: true }) : new HardenedDb(':memory:'))
  db.exec('CREATE TABLE t (x INTEGER, y TEXT)')
  const fill = db.prepare("INSERT INTO t VALUES (?, 'row ' || ?)")
  for (let i = 0; i < plan.rows; i++) fill.run(i, i)
  const named = ['getter', 'proxyGet', 'proxyHas', 'proxyOwnKeys', 'proxyGopd'].includes(plan.placement)
  const [pa, pb] = named ? [':a', ':b'] : ['?', '?']
  const sql = plan.method === 'run' ? `INSERT INTO t (x, y) VALUES (${pa}, ${pb})` : `SELECT ${pa} AS a, ${pb} AS b, x, y FROM t ORDER BY x`
  const stmt = db.prepare(sql)
  if (plan.safe) stmt.safeIntegers(true)
  const other = db.prepare('SELECT count(*) AS n FROM t')
  const otherWrite = db.prepare("INSERT INTO t VALUES (1000, 'other')")
  const plainArgs = named ? [{ a: 1, b: 2 }] : [1, 2]
  const retValue = materialize(plan.action === 'odd' ? plan.odd : plan.ret, ctx)
  let calls = 0
  let closed = false
  /** A finalize() of the statement from inside the call went through (bun face). */
  let finalized = false

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
    /**
     * db.close() from inside: it closes, except in a loop body of the main
     * face, where the open iterator makes it refused (the bun face closes, as
     * bun:sqlite does).
     */
    const closeInside = () => {
      const out = inner('db.close()', () => db.close())
      if (plan.placement !== 'iterateBody' || plan.bun) {
        closed = true
        return
      }
      if (!('error' in out) || !(out.error instanceof TypeError) || out.error.code !== 'HARDENED_DATABASE_BUSY') {
        ctx.problem(`db.close() while an iterator is open ${'error' in out ? `threw ${describeThrow(out.error)}` : 'closed'}, expected TypeError HARDENED_DATABASE_BUSY`)
      }
      if (db.open !== true) ctx.problem('db.open is not true after a refused db.close()')
    }
    switch (plan.action) {
      case 'close': closeInside(); break
      case 'closeUse': {
        closeInside()
        const use = attempt(() => stmt.all(...plainArgs))
        if (!('error' in use)) ctx.problem('the statement returned rows after db.close() inside its own call')
        else acceptThrow(ctx, 'using the statement after db.close() (inside the callback)', use.error)
        break
      }
      case 'closeReopen': {
        closeInside()
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
      case 'mode': inner(`${plan.mode}()`, () => (plan.bun ? stmt.safeIntegers(true) : stmt[plan.mode]())); break
      case 'finalize':
        if (plan.bun && !('error' in inner('stmt.finalize()', () => stmt.finalize()))) finalized = true
        break
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
  } else if (finalized) {
    // Taken while binding, the finalize fails the call before it runs; taken in a loop body, the loop's next step throws.
    ctx.problem(`${plan.method}() returned ${show(out.value)} although its statement was finalized inside the call`)
  } else if (!plan.bun && !closed && plan.action !== 'mode' && plan.action !== 'odd' && plan.action !== 'recreate' && plan.method !== 'run' && plan.placement !== 'iterateBody'
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
    const reuse = attempt(() => (plan.bun ? stmt.safeIntegers(false).all(...plainArgs) : stmt.safeIntegers(false).raw(false).all(...plainArgs)))
    if ('error' in reuse) acceptThrow(ctx, 'the statement afterwards', reuse.error)
    const sanity = attempt(() => db.prepare('SELECT 41 + 1 AS v').get().v)
    if ('error' in sanity || sanity.value !== 42) ctx.problem(`the database afterwards: ${'error' in sanity ? describeThrow(sanity.error) : show(sanity.value)}`)
  }
}

module.exports = { genHostile, runHostile }
