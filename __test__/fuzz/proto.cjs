// Family proto: tables, columns and aliases named like Object.prototype's properties (__proto__, constructor, ...).
'use strict'
const { isDeepStrictEqual } = require('node:util')
const { HardenedDb, ident, setMode } = require('./db.cjs')
const { genCell, materialize } = require('./random.cjs')
const { acceptThrow, attempt, prototypeDamage, show } = require('./outcomes.cjs')

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

module.exports = { genProto, runProto }
