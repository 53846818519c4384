// Family schema: ALTER TABLE / DROP+CREATE / renames between prepare and step, on one connection or a second one.
'use strict'
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { isDeepStrictEqual } = require('node:util')
const { HardenedDb, ident, setMode } = require('./db.cjs')
const { genCell, materialize } = require('./random.cjs')
const { MARKER, acceptThrow, attempt, containsMarker, describeThrow, show } = require('./outcomes.cjs')

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

module.exports = { genSchema, runSchema }
