// Family lifetime: statements and iterators let go, finalized, collected and swept while connections
// open and close under them (statements are kept by id natively: src/statement_ids.rs).
'use strict'
const { HardenedDb, BunDatabase } = require('./db.cjs')
const { attempt, describeThrow, show } = require('./outcomes.cjs')

// Family: lifetime. A random sequence of operations over two connections of one
// face, eight statement slots and four iterator slots; statements and iterators
// are let go (their slot overwritten) or finalized, the collector runs, and
// bursts of `prepare` sweep what it collected. Every row count must match the
// model (initial rows plus the inserts that succeeded), every iteration must
// read the table in order, and every throw must be one the operation may meet (ALLOWED).

const OPS = [
  [3, 'prepare'], [3, 'read'], [2, 'insert'], [2, 'iterate'], [1, 'return'], [1, 'finish'],
  [2, 'drop'], [1, 'finalize'], [1, 'collect'], [1, 'burst'], [1, 'close'], [2, 'open'],
]
const KINDS = ['count', 'select', 'insert']
const SQL = {
  count: 'SELECT count(*) AS n FROM t',
  select: 'SELECT x FROM t ORDER BY x',
  insert: 'INSERT INTO t (x) VALUES (?)',
}

/**
 * The errors these operations may meet: a closed connection, a connection or
 * statement busy with an open iterator, a finalized statement, an iterator
 * whose statement ran again (bun face). Anything else, an internal "not a live
 * statement" above all, means a statement was released while its object lived.
 */
const ALLOWED = new Set(['HARDENED_NOT_OPEN', 'HARDENED_DATABASE_BUSY', 'HARDENED_STATEMENT_BUSY', 'HARDENED_STATEMENT_FINALIZED', 'HARDENED_ITERATOR_INVALIDATED'])

/** Runs the garbage collector, if the runtime lets JS ask (Bun, or Node with --expose-gc). */
const collect = typeof Bun !== 'undefined' ? () => Bun.gc(true) : () => globalThis.gc?.()

function genLifetime(r) {
  return {
    face: r.pick(['main', 'bun']),
    rows: r.int(0, 30),
    ops: Array.from({ length: r.int(10, 40) }, () => ({ op: r.weighted(OPS), slot: r.int(0, 7), db: r.int(0, 1), n: r.int(1, 40), kind: r.pick(KINDS) })),
  }
}

function runLifetime(plan, ctx) {
  const open = () => {
    const db = ctx.track(plan.face === 'bun' ? new BunDatabase(':memory:') : new HardenedDb(':memory:'))
    db.exec('CREATE TABLE t (x INTEGER)')
    if (plan.rows > 0) db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${plan.rows}) INSERT INTO t SELECT i FROM n`)
    return { db, rows: plan.rows, open: true }
  }
  const dbs = [open(), open()]
  const statements = new Array(8).fill(null)
  const iterators = new Array(4).fill(null)
  let inserted = 0

  /** Runs `fn`; a throw must be one of ALLOWED; returns { value } or null. */
  const guarded = (what, fn) => {
    const outcome = attempt(fn)
    if (!('error' in outcome)) return outcome
    if (!ALLOWED.has(outcome.error && outcome.error.code)) ctx.problem(`${what} threw ${describeThrow(outcome.error)}`)
    return null
  }
  /** Checks that `values`, read from the start of an iteration, are the table's first values in order. */
  const inOrder = (what, values, conn) => {
    for (let i = 0; i < values.length; i++) {
      const expected = i < plan.rows ? i + 1 : null
      if (typeof values[i] !== 'number' || (expected !== null && values[i] !== expected) || (i > 0 && values[i] < values[i - 1])) {
        ctx.problem(`${what}: read ${show(values.slice(0, 12))} from a table of ${conn.rows} rows starting 1..${plan.rows}`)
        return
      }
    }
  }

  for (const [step, { op, slot, db: which, n, kind }] of plan.ops.entries()) {
    const conn = dbs[which]
    const entry = statements[slot]
    const what = `op ${step} ${op}`
    switch (op) {
      case 'open':
        if (!conn.open) dbs[which] = open()
        break
      case 'close': {
        const closed = guarded(what, () => conn.db.close())
        if (closed) conn.open = false
        break
      }
      case 'prepare': {
        const prepared = guarded(what, () => conn.db.prepare(SQL[kind]))
        // The slot's statement, if any, is let go.
        statements[slot] = prepared ? { stmt: prepared.value, kind, conn } : null
        break
      }
      case 'read': {
        if (!entry || entry.kind !== 'count') break
        const got = guarded(what, () => (n % 2 ? entry.stmt.get() : entry.stmt.all()[0]))
        if (got && got.value.n !== entry.conn.rows) ctx.problem(`${what}: count ${show(got.value)} where ${entry.conn.rows} rows were written`)
        break
      }
      case 'insert': {
        if (!entry || entry.kind !== 'insert') break
        if (guarded(what, () => entry.stmt.run(10_000 + n))) {
          entry.conn.rows++
          inserted++
        }
        break
      }
      case 'iterate': {
        if (!entry || entry.kind !== 'select') break
        const started = guarded(what, () => {
          const iterator = entry.stmt.iterate()
          const values = []
          for (let k = 0; k < n % 7; k++) {
            const next = iterator.next()
            if (next.done) break
            values.push(next.value.x)
          }
          return { iterator, values }
        })
        if (started) {
          inOrder(what, started.value.values, entry.conn)
          // The slot's iterator, if any, is let go without return().
          iterators[slot % 4] = { ...started.value, entry }
        }
        break
      }
      case 'return': {
        const it = iterators[slot % 4]
        if (it) guarded(what, () => it.iterator.return())
        iterators[slot % 4] = null
        break
      }
      case 'finish': {
        const it = iterators[slot % 4]
        if (!it) break
        const rest = guarded(what, () => {
          const values = [...it.values]
          for (let k = 0; k < 10_000; k++) {
            const next = it.iterator.next()
            if (next.done) break
            values.push(next.value.x)
          }
          return values
        })
        if (rest) inOrder(what, rest.value, it.entry.conn)
        iterators[slot % 4] = null
        break
      }
      case 'drop':
        statements[slot] = null
        if (n % 2) iterators[slot % 4] = null
        break
      case 'finalize':
        if (entry && typeof entry.stmt.finalize === 'function') guarded(what, () => entry.stmt.finalize())
        break
      case 'collect':
        collect()
        break
      case 'burst':
        // Enough prepares to double the list of followed statements now and then, which sweeps it.
        for (let k = 0; k < n * 10 && conn.open; k++) if (!guarded(what, () => conn.db.prepare(`SELECT ${k} AS k`))) break
        break
    }
  }
  for (const it of iterators) if (it) attempt(() => it.iterator.return())
  return inserted
}

module.exports = { genLifetime, runLifetime }
