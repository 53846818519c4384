'use strict'
/**
 * What `stmt.native` gives on the bun face: an object shaped like bun:sqlite's
 * native statement for the parts apps and Bun's tests read (`columns`,
 * `columnsCount`, `paramsCount`, `columnTypes`, `declaredTypes`,
 * `safeIntegers`, `isFinalized`, `readonly`, `finalize()`, `toString()`), each
 * read from the statement it belongs to. bun:sqlite's internal `run`/`get`
 * entry points, which take Bun's private arguments, are not part of it.
 */
class NativeStatementView {
  #statement

  /** @internal `stmt.native` makes one per statement. */
  constructor(statement) {
    this.#statement = statement
  }

  /** The result column names. */
  get columns() {
    return this.#statement.columnNames
  }

  /** How many result columns. */
  get columnsCount() {
    return this.#statement.columnNames.length
  }

  /** How many parameters the statement takes. */
  get paramsCount() {
    return this.#statement.paramsCount
  }

  /** The storage class of each column in the first row (see `stmt.columnTypes`). */
  get columnTypes() {
    return this.#statement.columnTypes
  }

  /** Each column's declared type, or `null` for an expression. */
  get declaredTypes() {
    return this.#statement.declaredTypes
  }

  /** Whether INTEGER columns come back as bigint. */
  get safeIntegers() {
    return this.#statement.safeIntegers()
  }

  /** Whether the statement was finalized. */
  get isFinalized() {
    return this.#statement.isFinalized
  }

  /** Whether the statement never writes. */
  get readonly() {
    return this.#statement.readonly
  }

  /** Finalizes the statement. */
  finalize() {
    this.#statement.finalize()
  }

  /** The statement's SQL with its bound values. */
  toString() {
    return this.#statement.toString()
  }
}

module.exports = { NativeStatementView }
