'use strict'
/**
 * `TenantDb`: what `db.forTenant(tenantId)` returns. A connection of its own
 * to the parent's file on which every table having the tenant column shows,
 * and lets SQL write, only this tenant's rows (see docs/security.md).
 */
const { translate, typeError } = require('../errors')
const { describe, isArray, checkOptions, checkSql } = require('../arguments')
const { Statement, wrap } = require('../statement')
const { prepareHandle } = require('../native-statement')
const { makeTransaction, controlStatements } = require('../transaction')
const { upgradeStatement, upgradeScript } = require('../begin')
const { installConnectionGetters } = require('../hardened-methods')

/** An identifier SQLite accepts unquoted or quoted: any non-empty text without NUL. */
function checkName(value, what) {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw typeError('HARDENED_INVALID_OPTION', `${what} must be a non-empty column or table name, got ${describe(value)}`)
  }
  return value
}

/**
 * Checks `forTenant(tenantId, options)`; returns the native arguments
 * `[idText, isInteger, column, shared]`. Integers go as their digits, never as
 * SQL: the native side quotes every id itself.
 */
function tenantArguments(tenantId, options) {
  let id
  let integer = false
  if (typeof tenantId === 'string' && tenantId !== '') {
    id = tenantId
  } else if (typeof tenantId === 'number' && Number.isSafeInteger(tenantId)) {
    id = String(tenantId)
    integer = true
  } else if (typeof tenantId === 'bigint' && BigInt.asIntN(64, tenantId) === tenantId) {
    id = tenantId.toString()
    integer = true
  } else {
    throw typeError(
      'HARDENED_INVALID_ARGUMENT',
      `forTenant(tenantId) takes a non-empty string or a safe integer (or a 64-bit bigint), got ${describe(tenantId)}`,
    )
  }
  const checked = checkOptions(options, { column: 'string', shared: 'object' }, 'forTenant', 'HARDENED_INVALID_OPTION')
  const column = checked.column === undefined ? 'tenant_id' : checkName(checked.column, 'forTenant option "column"')
  const shared = checked.shared === undefined ? [] : checked.shared
  if (!isArray(shared)) {
    throw typeError('HARDENED_INVALID_OPTION', `forTenant option "shared" must be an array of table names, got ${describe(shared)}`)
  }
  return [id, integer, column, shared.map((name) => checkName(name, 'Each table of forTenant option "shared"'))]
}

class TenantDb {
  #native
  #tenantId
  #column
  #upgradeBegin
  #defaultTransaction
  #control = null

  static {
    // name (the database file's path), open, inTransaction: read from the tenant's own connection.
    installConnectionGetters(TenantDb.prototype, (db) => db.#native, { name: 'name', open: 'open', inTransaction: 'inTransaction' })
  }

  /** @internal Use `db.forTenant(tenantId, options)`. */
  constructor(native, tenantId, column, { upgradeBegin, defaultTransaction }) {
    this.#native = native
    this.#tenantId = tenantId
    this.#column = column
    this.#upgradeBegin = upgradeBegin
    this.#defaultTransaction = defaultTransaction
  }

  /** Prepares one SQL statement; it sees and writes only this tenant's rows. */
  prepare(sql) {
    checkSql(sql)
    return this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql)
  }

  #prepare(sql) {
    try {
      return new Statement(prepareHandle(this.#native, sql), this)
    } catch (error) {
      throw translate(error)
    }
  }

  /** Runs one or more SQL statements (no parameters, rows discarded) under the tenant rules. */
  exec(sql) {
    checkSql(sql)
    wrap(() => this.#native.exec(this.#upgradeBegin ? upgradeScript(sql) : sql))
    return this
  }

  /**
   * Reads `PRAGMA source` (a tenant handle sets none); returns every row, or
   * with `{ simple: true }` the first column of the first row.
   */
  pragma(source, options = undefined) {
    if (typeof source !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the pragma to be a string, got ${describe(source)}`)
    }
    const simple = checkOptions(options, { simple: 'boolean' }, 'pragma').simple === true
    const statement = this.prepare(`PRAGMA ${source}`)
    return simple ? statement.pluck().get() : statement.all()
  }

  /** `db.transaction(fn)` of the parent, on this handle's connection. */
  transaction(fn, options) {
    return makeTransaction(this, fn, () => this.#controlStatements(), this.#defaultTransaction, options)
  }

  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle = true) {
    if (typeof toggle !== 'boolean') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `defaultSafeIntegers(toggle) takes true or false, got ${describe(toggle)}`)
    }
    this.#native.setDefaultSafeIntegers(toggle)
    return this
  }

  /** Closes this handle's connection (idempotent); the parent stays open. */
  close() {
    wrap(() => this.#native.close())
    this.#control = null
    return this
  }

  /** `using tenant = db.forTenant(id)` closes it at the end of the scope. */
  [Symbol.dispose]() {
    this.close()
  }

  /** The tenant id given to `forTenant()`. */
  get tenantId() {
    return this.#tenantId
  }

  /** The tenant column (default `"tenant_id"`). */
  get column() {
    return this.#column
  }

  /** Always `false`: tenant handles need a read-write parent. */
  get readonly() {
    return false
  }

  /** Always `false`: `:memory:` databases cannot have tenant handles. */
  get memory() {
    return false
  }

  #controlStatements() {
    if (this.#control === null) this.#control = controlStatements((sql) => this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql))
    return this.#control
  }
}

/**
 * Opens a tenant handle on `native`'s file (see `HardenedDb.forTenant`);
 * `settings` are the parent's transaction settings.
 */
function openTenant(native, tenantId, options, settings) {
  const [id, integer, column, shared] = tenantArguments(tenantId, options)
  const tenant = wrap(() => native.openTenant(id, integer, column, shared))
  return new TenantDb(tenant, tenantId, column, settings)
}

module.exports = { TenantDb, openTenant }
