'use strict'
/**
 * `db.table(name, definition)`: better-sqlite3's virtual tables whose rows
 * come from a generator function, with its checks and messages. A definition
 * object makes an eponymous table (`SELECT * FROM name(args)`); a factory
 * function makes a module for `CREATE VIRTUAL TABLE x USING name(args)`.
 * The native side (src/functions/table/) calls the parsed definition's
 * generator through the same guarded trampoline as user-defined functions.
 */
const { typeError } = require('./errors')
const { rangeError } = require('./arguments')

/** Most parameters a table may take (better-sqlite3's limit: a 32-bit plan mask). */
const MAX_PARAMETERS = 32

const invalid = (message) => typeError('HARDENED_INVALID_ARGUMENT', message)
const badRow = (message) => typeError('HARDENED_TABLE_ROW', message)

/** `db.table(name, definition | factory)`. */
function defineTable(native, name, factory) {
  if (typeof name !== 'string') throw invalid('Expected first argument to be a string (the virtual table name)')
  if (!name) throw invalid('Virtual table module name cannot be an empty string')
  let eponymous = false
  if (typeof factory === 'object' && factory !== null) {
    eponymous = true
    const parsed = parseTableDefinition(factory, 'used', name)
    factory = () => parsed
  } else {
    if (typeof factory !== 'function') {
      throw invalid('Expected second argument to be a function or a table definition object such as { columns, rows }')
    }
    factory = wrapFactory(factory)
  }
  native.createTable(name, factory, eponymous)
}

/** The factory SQLite calls on CREATE VIRTUAL TABLE: `this` is `{ module, database, table }`. */
function wrapFactory(factory) {
  return function virtualTableFactory(moduleName, databaseName, tableName, ...args) {
    const thisObject = { module: moduleName, database: databaseName, table: tableName }
    const def = apply.call(factory, thisObject, args)
    if (typeof def !== 'object' || def === null) {
      throw invalid(`Virtual table module "${moduleName}" did not return a table definition object; return { columns, rows }`)
    }
    return parseTableDefinition(def, 'returned', moduleName)
  }
}

function stringArray(value) {
  if (!Array.isArray(value)) return null
  const copy = [...value]
  return copy.every((x) => typeof x === 'string') ? copy : null
}

function booleanProperty(def, key, verb, moduleName) {
  if (!hasOwnProperty.call(def, key)) return undefined
  const value = def[key]
  if (typeof value !== 'boolean') {
    throw invalid(`Virtual table module "${moduleName}" ${verb} a table definition with an invalid "${key}" property (should be a boolean)`)
  }
  return value
}

/** Checks a definition as better-sqlite3 does; returns what the native side reads. */
function parseTableDefinition(def, verb, moduleName) {
  const prefix = `Virtual table module "${moduleName}" ${verb} a table definition`
  if (!hasOwnProperty.call(def, 'rows')) throw invalid(`${prefix} without a "rows" property`)
  if (!hasOwnProperty.call(def, 'columns')) throw invalid(`${prefix} without a "columns" property`)

  const rows = def.rows
  if (typeof rows !== 'function' || Object.getPrototypeOf(rows) !== GeneratorFunctionPrototype) {
    throw invalid(`${prefix} with an invalid "rows" property (should be a generator function)`)
  }

  const columns = stringArray(def.columns)
  if (!columns) throw invalid(`${prefix} with an invalid "columns" property (should be an array of strings)`)
  if (columns.length !== new Set(columns).size) throw invalid(`${prefix} with duplicate column names`)
  if (!columns.length) throw rangeError('HARDENED_INVALID_ARGUMENT', `${prefix} with zero columns`)

  let parameters
  if (hasOwnProperty.call(def, 'parameters')) {
    parameters = stringArray(def.parameters)
    if (!parameters) throw invalid(`${prefix} with an invalid "parameters" property (should be an array of strings)`)
  } else {
    parameters = inferParameters(rows)
  }
  if (parameters.length !== new Set(parameters).size) throw invalid(`${prefix} with duplicate parameter names`)
  if (parameters.length > MAX_PARAMETERS) {
    throw rangeError('HARDENED_INVALID_ARGUMENT', `${prefix} with more than the maximum number of ${MAX_PARAMETERS} parameters`)
  }
  for (const parameter of parameters) {
    if (columns.includes(parameter)) {
      throw invalid(`${prefix} with column "${parameter}" which was ambiguously defined as both a column and parameter`)
    }
  }

  const safeIntegers = booleanProperty(def, 'safeIntegers', verb, moduleName)
  const directOnly = booleanProperty(def, 'directOnly', verb, moduleName) ?? false
  const innocuous = booleanProperty(def, 'innocuous', verb, moduleName) ?? false
  if (directOnly && innocuous) throw invalid(`${prefix} that is both directOnly and innocuous; pick one`)

  const columnDefinitions = [...parameters.map((p) => `${identifier(p)} HIDDEN`), ...columns.map(identifier)]
  return [
    `CREATE TABLE x(${columnDefinitions.join(', ')});`,
    wrapGenerator(rows, new Map(columns.map((x, i) => [x, parameters.length + i])), moduleName),
    parameters,
    safeIntegers === undefined ? 2 : +safeIntegers,
    directOnly,
    innocuous,
  ]
}

/** The generator the native side runs: yields `[...parameters, ...columns]` for each row. */
function wrapGenerator(generator, columnMap, moduleName) {
  return function* virtualTable(...args) {
    // Buffers are copied so the generator cannot change the hidden columns' values.
    const output = args.map((x) => (Buffer.isBuffer(x) ? Buffer.from(x) : x))
    for (let i = 0; i < columnMap.size; ++i) output.push(null)
    for (const row of generator(...args)) {
      if (Array.isArray(row)) {
        extractRowArray(row, output, columnMap.size, moduleName)
      } else if (typeof row === 'object' && row !== null) {
        extractRowObject(row, output, columnMap, moduleName)
      } else {
        throw badRow(`Virtual table module "${moduleName}" yielded something that isn't a valid row object; yield an array or an object of column values`)
      }
      yield output
    }
  }
}

function extractRowArray(row, output, columnCount, moduleName) {
  if (row.length !== columnCount) {
    throw badRow(`Virtual table module "${moduleName}" yielded a row with an incorrect number of columns (${row.length}, expected ${columnCount})`)
  }
  const offset = output.length - columnCount
  for (let i = 0; i < columnCount; ++i) output[i + offset] = row[i]
}

function extractRowObject(row, output, columnMap, moduleName) {
  let count = 0
  for (const key of Object.keys(row)) {
    const index = columnMap.get(key)
    if (index === undefined) {
      throw badRow(`Virtual table module "${moduleName}" yielded a row with an undeclared column "${key}"`)
    }
    output[index] = row[key]
    count += 1
  }
  if (count !== columnMap.size) {
    throw badRow(`Virtual table module "${moduleName}" yielded a row with missing columns (expected ${[...columnMap.keys()].join(', ')})`)
  }
}

function inferParameters({ length }) {
  if (!Number.isInteger(length) || length < 0) {
    throw invalid('Expected function.length to be a positive integer; declare the "parameters" option instead')
  }
  const params = []
  for (let i = 0; i < length; ++i) params.push(`$${i + 1}`)
  return params
}

const { hasOwnProperty } = Object.prototype
const { apply } = Function.prototype
const GeneratorFunctionPrototype = Object.getPrototypeOf(function* () {})
const identifier = (str) => `"${str.replace(/"/g, '""')}"`

module.exports = { defineTable }
