// The package under test (this one, or HS_FUZZ_PACKAGE) and helpers over its statements shared by the families.
'use strict'
const { HardenedDb } = require(process.env.HS_FUZZ_PACKAGE || '../..')
const { Database: BunDatabase } = require(`${process.env.HS_FUZZ_PACKAGE || '../..'}/bun.js`)

/** A quoted SQL identifier. */
const ident = (name) => `"${name.replace(/"/g, '""')}"`

/** Puts `stmt` in a read mode: object (none of raw/pluck/expand), raw, pluck, expand or safeIntegers. */
function setMode(stmt, mode) {
  if (mode === 'object') stmt.raw(false).pluck(false).expand(false)
  else stmt[mode]()
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

module.exports = { HardenedDb, BunDatabase, ident, setMode, firstRow }
