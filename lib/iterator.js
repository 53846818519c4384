'use strict'
/**
 * `StatementIterator`: what `stmt.iterate()` returns, as in better-sqlite3 an
 * iterator object (`next()`, `return()`, `[Symbol.iterator]()`, no `throw()`),
 * not a generator. `iterate()` has already bound the parameters and opened the
 * iteration; rows are read ahead in batches (1, then 8, then 64 per native
 * call), each built at once since the loop body may run other statements. The
 * iteration stays open, keeping the connection busy, until `next()` reports
 * the end or `return()` is called, even after its last rows were read ahead.
 */

const { inCallback } = require('./rows')

const EMPTY = []

/** The iterator of one `iterate()` call. */
class StatementIterator {
  #statement
  #read
  #end
  #check
  #rows = EMPTY
  #index = 0
  #last = false
  #open = true

  /**
   * @internal Use `stmt.iterate()`. `read(rows, iterator)` pushes the next
   * batch onto `rows` and returns whether it held the last rows;
   * `end(iterator)` resets the statement; `check()` throws while a
   * user-defined function of the connection runs.
   */
  constructor(statement, read, end, check) {
    this.#statement = statement
    this.#read = read
    this.#end = end
    this.#check = check
  }

  /** The next row as `{ value, done: false }`, or `{ value: undefined, done: true }` at the end. */
  next() {
    const rows = this.#rows
    if (this.#index < rows.length) {
      // Inside a user-defined function, a row read ahead is refused as SQLite's next row
      // would be, when the function is one of this connection's (better-sqlite3's busy rule).
      if (inCallback()) this.#check()
      return { value: rows[this.#index++], done: false }
    }
    return this.#advance()
  }

  /** Ends the iteration early (what `break` calls): the statement and the connection are free again. */
  return() {
    if (this.#open) this.#close()
    return { value: undefined, done: true }
  }

  /** The iterator itself, so `for (const row of stmt.iterate())` works. */
  [Symbol.iterator]() {
    return this
  }

  /** Reads the next batch, or ends the iteration when there is none. */
  #advance() {
    if (!this.#open) return { value: undefined, done: true }
    if (this.#last) {
      this.#close()
      return { value: undefined, done: true }
    }
    const rows = []
    try {
      this.#last = this.#read(rows, this)
    } catch (error) {
      // A SQLite error ends the iteration (the native side reset it); a refusal
      // (the connection busy in a user-defined function) leaves it open.
      if (!this.#statement.busy) this.#forget()
      throw error
    }
    this.#rows = rows
    this.#index = 0
    if (rows.length === 0) {
      this.#close()
      return { value: undefined, done: true }
    }
    return { value: rows[this.#index++], done: false }
  }

  /** Resets the statement (refused, and left open, while the connection is busy in a user-defined function). */
  #close() {
    this.#end(this)
    this.#forget()
  }

  #forget() {
    this.#open = false
    this.#rows = EMPTY
    this.#index = 0
  }
}

module.exports = { StatementIterator }
