'use strict'
/**
 * The `verbose` option: better-sqlite3's logger. The native side records the
 * text of every statement as SQLite starts running it, parameters expanded
 * (src/verbose.rs); the function gets each one, `this` undefined, as soon as
 * the call that ran it returns or throws.
 */

/** Starts the native trace of `native`; returns the function that hands what it recorded to `verbose`. */
function startVerbose(native, verbose) {
  native.traceStatements()
  return function report() {
    for (const sql of native.takeTracedStatements()) verbose(sql)
  }
}

/** The statement methods that run SQL, each reporting when it returns. */
const RUNNING = ['run', 'get', 'all', 'values']

/** Makes the methods of `statement` that run SQL call `report` when they return or throw. */
function traceStatement(statement, report) {
  for (const name of RUNNING) {
    const method = statement[name]
    Object.defineProperty(statement, name, {
      value: function traced(...params) {
        try {
          return method.apply(this, params)
        } finally {
          report()
        }
      },
      writable: true,
      configurable: true,
    })
  }
  const iterate = statement.iterate
  Object.defineProperty(statement, 'iterate', {
    value: function traced(...params) {
      return new TracedIterator(iterate.apply(this, params), report)
    },
    writable: true,
    configurable: true,
  })
  return statement
}

/** A statement iterator whose `next()` calls `report` when it returns or throws. */
class TracedIterator {
  #rows
  #report

  constructor(rows, report) {
    this.#rows = rows
    this.#report = report
  }

  /** The next row, then the statements it ran are reported. */
  next() {
    try {
      return this.#rows.next()
    } finally {
      this.#report()
    }
  }

  /** Ends the iteration early. */
  return() {
    return this.#rows.return()
  }

  /** The iterator itself. */
  [Symbol.iterator]() {
    return this
  }
}

module.exports = { startVerbose, traceStatement }
