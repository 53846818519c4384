'use strict'
/**
 * The `verbose` option: better-sqlite3's logger. As in better-sqlite3, the
 * function gets the text of each statement, `this` undefined, after its
 * parameters were bound and just before it runs (an iteration: before its
 * first row), so a logger that throws stops the statement and the call throws
 * what it threw. SQLite writes the parameters in (`sqlite3_expanded_sql`,
 * cutting a string or BLOB after 32 bytes: `SQLITE_TRACE_SIZE_LIMIT`, see
 * .cargo/config.toml). Only statements of a connection opened with `verbose`
 * go through here.
 */

const { Statement } = require('./statement')
const { NativeStatementHandle, adopt } = require('./native-statement')
const { translate } = require('./errors')

/** The statement methods that run SQL: `run` binds as a writer, the others as a reader. */
const RUNNING = ['run', 'get', 'all', 'values']

/**
 * The logger of one connection: `statement(statement, native, anyMethodRuns)`
 * makes a new statement log before it runs (`anyMethodRuns`: the bun face,
 * whose `get()`/`all()`/`values()` also run a statement that returns no rows); `exec(script, database)` runs a script one
 * statement at a time, logging each (as better-sqlite3's `exec()` does).
 */
function startVerbose(native, verbose) {
  const statement = (stmt, nativeStatement, anyMethodRuns = false) => traceStatement(stmt, nativeStatement, verbose, anyMethodRuns)
  const exec = (script, database) => {
    let rest = script
    for (;;) {
      const handle = new NativeStatementHandle()
      const leading = call(() => native.prepareLeading(rest, handle))
      if (leading === null) return
      rest = leading.rest
      adopt(handle, leading.id)
      statement(new Statement(handle, database), handle).run()
    }
  }
  return { statement, exec }
}

/** Makes the methods of `statement` that run SQL hand its text to `verbose` first. */
function traceStatement(statement, native, verbose, anyMethodRuns) {
  // A statement that returns no rows binds as a writer whichever method runs it (bun face).
  const runsAsWriter = (name) => name === 'run' || (anyMethodRuns && !native.reader)
  for (const name of RUNNING) {
    const method = statement[name]
    Object.defineProperty(statement, name, {
      value: function logged(...params) {
        const sql = call(() => native.bindForLog(runsAsWriter(name), params))
        try {
          verbose.call(undefined, sql)
          // The values stay bound for this one call.
          return method.call(this)
        } finally {
          native.endLoggedCall()
        }
      },
      writable: true,
      configurable: true,
    })
  }
  // The bun face's iterate() of a statement without rows calls run(), logged above.
  if (anyMethodRuns && !native.reader) return statement
  const iterate = statement.iterate
  Object.defineProperty(statement, 'iterate', {
    value: function logged(...params) {
      return new LoggedIterator(iterate.apply(this, params), native, verbose)
    },
    writable: true,
    configurable: true,
  })
  return statement
}

/** A statement iterator that hands the statement's text to `verbose` before its first row. */
class LoggedIterator {
  #rows
  #native
  #verbose

  constructor(rows, native, verbose) {
    this.#rows = rows
    this.#native = native
    this.#verbose = verbose
  }

  /** The next row; before the first, the statement is logged (a throwing logger ends the iteration). */
  next() {
    const verbose = this.#verbose
    if (verbose !== null) {
      this.#verbose = null
      try {
        verbose.call(undefined, call(() => this.#native.expandedSql()))
      } catch (error) {
        this.#rows.return()
        throw error
      }
    }
    return this.#rows.next()
  }

  /** Ends the iteration early. */
  return() {
    this.#verbose = null
    return this.#rows.return()
  }

  /** The iterator itself. */
  [Symbol.iterator]() {
    return this
  }
}

/** Runs a native call, its error translated to the package's classes. */
function call(fn) {
  try {
    return fn()
  } catch (error) {
    throw translate(error)
  }
}

module.exports = { startVerbose }
