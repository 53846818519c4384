'use strict'
/**
 * `NativeStatementHandle`: a prepared statement as JS holds it, a plain object
 * with the statement's id. The native side keeps the statement by that id and
 * wraps no JS object (src/statement_class.rs): a Node-API wrapper's memory
 * waited for its finalizer, which runs only when the event loop turns. The
 * statement is released when the handle is collected: by a sweep at a later
 * `prepare` (src/collected_statements.rs), or by the registry below once the
 * event loop turns, whichever comes first.
 */
const { NativeStatement } = require('../binding.js')
const { at, ints } = require('./scratch')

const PREPARED_READER = at.preparedReader >> 2

/** Releases the statement of each collected handle (a second release of an id does nothing). */
const released = new FinalizationRegistry((id) => NativeStatement.release(id))

/** The native statement behind one `Statement`; every call goes to `NativeStatement` with the id. */
class NativeStatementHandle {
  /** The id the native functions know the statement by. */
  id = -1

  /** Whether the statement returns rows, as it was prepared (better-sqlite3's `reader`). */
  reader = false

  /** How many values fill the parameters by position (-1: named ones are needed). */
  get positionalParams() {
    return NativeStatement.positionalParams(this.id)
  }

  /** Whether INTEGER columns are read as bigint. */
  get safeIntegers() {
    return NativeStatement.safeIntegers(this.id)
  }

  /** The SQL text. */
  get source() {
    return NativeStatement.source(this.id)
  }

  /** Whether the statement never writes. */
  get readonly() {
    return NativeStatement.readonly(this.id)
  }

  /** Whether an iterator is open on it (or a call on it has not returned). */
  get busy() {
    return NativeStatement.busy(this.id)
  }

  /** The number of parameters (the highest index). */
  get paramsCount() {
    return NativeStatement.paramsCount(this.id)
  }

  /** Whether `finalize()` was called (or the connection closed). */
  get isFinalized() {
    return NativeStatement.isFinalized(this.id)
  }

  /** Binds `params` (an array) for good. */
  bind(params) {
    NativeStatement.bindParams(this.id, params)
  }

  /** Binds `params` (an array) for the calls without values (bun:sqlite's `db.prepare(sql, params)`). */
  bindValues(params) {
    NativeStatement.bindValues(this.id, params)
  }

  /** Reads INTEGER columns as bigint when `on`. */
  setSafeIntegers(on) {
    NativeStatement.setSafeIntegers(this.id, on)
  }

  /** Throws while a user-defined function of the connection runs JS. */
  requireConnectionIdle() {
    NativeStatement.requireConnectionIdle(this.id)
  }

  /** The result column names. */
  columnNames() {
    return NativeStatement.columnNames(this.id)
  }

  /** Column metadata: `{ name, column, table, database, type }` per column. */
  columns() {
    return NativeStatement.columns(this.id)
  }

  /** bun:sqlite's `columnTypes`. */
  columnTypes() {
    return NativeStatement.columnTypes(this.id)
  }

  /** Finalizes the SQLite statement now. */
  finalize() {
    NativeStatement.finalize(this.id)
  }

  /** The SQL with the values bound now written in. */
  expandedSql() {
    return NativeStatement.expandedSql(this.id)
  }

  /** Binds `params` for the logged call that comes next and returns the SQL to log (src/verbose.rs). */
  bindForLog(forRun, params) {
    return NativeStatement.bindForLog(this.id, forRun, params)
  }

  /** Ends the logged call. */
  endLoggedCall() {
    NativeStatement.endLoggedCall(this.id)
  }
}

/**
 * Prepares `sql` on `native` (a `NativeDatabase` or `NativeTenantDb`, whose
 * `prepare(sql, handle)` follows the handle and returns the id) and returns its handle.
 */
function prepareHandle(native, sql) {
  const handle = new NativeStatementHandle()
  return adopt(handle, native.prepare(sql, handle))
}

/**
 * Gives `handle` the id of the statement just prepared for it, which is released
 * once the handle is collected, and whether it returns rows: the native side
 * left that in the scratch buffer, which saves a call per `prepare` (0.3 µs on
 * Bun, 2026-11-30).
 */
function adopt(handle, id) {
  handle.id = id
  handle.reader = ints[PREPARED_READER] !== 0
  released.register(handle, id)
  return handle
}

module.exports = { NativeStatementHandle, prepareHandle, adopt }
