'use strict'
/**
 * `StatementIterator`: what `stmt.iterate()` returns, as in better-sqlite3 an
 * iterator object (`next()`, `return()`, `[Symbol.iterator]()`, no `throw()`),
 * not a generator. `iterate()` has already bound the parameters and opened the
 * iteration; rows are read ahead in batches (1, then 16, then 128 per native
 * call), each built at once since the loop body may run other statements. The
 * iteration stays open, keeping the connection busy, until `next()` reports
 * the end or `return()` is called, even after its last rows were read ahead.
 */

const { inCallback } = require('./rows')

const EMPTY = []

/** Ends an iteration for good: its `next()` throws from then on (the bun face's rule when the statement runs again). */
const INVALIDATE = Symbol('invalidate')

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
  #face
  /** Once the iteration was ended from outside: makes the error `next()` throws. */
  #invalid = null

  /**
   * @internal Use `stmt.iterate()`. `read(rows, iterator)` pushes the next
   * batch onto `rows` and returns whether it held the last rows;
   * `end(iterator)` resets the statement; `check()` throws while a
   * user-defined function of the connection runs; both throw in the face's
   * shape. `face`, for the bun face (lib/bun/statement.js), gives rows their
   * prototype at batch boundaries, so a row costs no more than here, and hears
   * of the end: `{ prototype, ended(iterator), invalidated() }`.
   */
  constructor(statement, read, end, check, face = null) {
    this.#statement = statement
    this.#read = read
    this.#end = end
    this.#check = check
    this.#face = face
  }

  /** The next row as `{ value, done: false }`, or `{ value: undefined, done: true }` at the end. */
  next() {
    const rows = this.#rows
    if (this.#index < rows.length) {
      // Inside a user-defined function, a row read ahead is refused as SQLite's next row
      // would be, when the function is one of this connection's (better-sqlite3's busy rule).
      if (inCallback()) this.#checkIdle()
      return { value: rows[this.#index++], done: false }
    }
    return this.#advance()
  }

  /** Ends the iteration early (what `break` calls): the statement and the connection are free again. */
  return() {
    if (this.#open) this.#close()
    if (this.#face !== null) this.#face.ended(this)
    return { value: undefined, done: true }
  }

  /**
   * @internal Ends the iteration; `next()` throws the face's `invalidated()`
   * error from now on, or `error()`'s when given (a finalized statement's).
   */
  [INVALIDATE](error = null) {
    this.#invalid = error ?? this.#face.invalidated
    this.return()
  }

  /** The iterator itself, so `for (const row of stmt.iterate())` works. */
  [Symbol.iterator]() {
    return this
  }

  /** Reads the next batch, or ends the iteration when there is none. */
  #advance() {
    if (this.#invalid !== null) throw this.#invalid()
    if (!this.#open) return this.#done()
    if (this.#last) {
      this.#close()
      return this.#done()
    }
    const rows = []
    try {
      this.#last = this.#read(rows, this)
    } catch (error) {
      // A SQLite error ends the iteration (the native side reset it); a refusal
      // (the connection busy in a user-defined function) leaves it open.
      if (!this.#statement.busy) this.#forget()
      throw this.#failed(error)
    }
    this.#rows = rows
    this.#index = 0
    if (rows.length === 0) {
      this.#close()
      return this.#done()
    }
    const prototype = this.#face === null ? null : this.#face.prototype
    if (prototype !== null) for (let k = 0; k < rows.length; k++) Object.setPrototypeOf(rows[k], prototype)
    return { value: rows[this.#index++], done: false }
  }

  /** The end of the rows (the face hears of it). */
  #done() {
    if (this.#face !== null) this.#face.ended(this)
    return { value: undefined, done: true }
  }

  /** `check()`; the face hears of its error. */
  #checkIdle() {
    try {
      this.#check()
    } catch (error) {
      throw this.#failed(error)
    }
  }

  /** `error`, once the face heard that the iteration ended. */
  #failed(error) {
    if (this.#face !== null) this.#face.ended(this)
    return error
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

module.exports = { StatementIterator, INVALIDATE }
