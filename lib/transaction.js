'use strict'
/**
 * `db.transaction(fn)`: better-sqlite3's transaction functions, with the
 * hardened default behaviour IMMEDIATE. A deferred transaction that reads and
 * then writes fails with SQLITE_BUSY as soon as another connection wrote in
 * between, whatever the busy timeout; taking the write lock at BEGIN waits
 * for it instead.
 */
const { translate, typeError } = require('./errors')

const BEHAVIOURS = ['deferred', 'immediate', 'exclusive']
const SAVEPOINT = '"\thardened_savepoint"'

/** Statements a connection needs to run transactions, prepared once. */
function controlStatements(prepare) {
  const statements = {
    commit: prepare('COMMIT'),
    rollback: prepare('ROLLBACK'),
    savepoint: prepare(`SAVEPOINT ${SAVEPOINT}`),
    release: prepare(`RELEASE ${SAVEPOINT}`),
    rollbackTo: prepare(`ROLLBACK TO ${SAVEPOINT}`),
  }
  for (const behaviour of BEHAVIOURS) statements[behaviour] = prepare(`BEGIN ${behaviour.toUpperCase()}`)
  return statements
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function'
}

/**
 * Wraps `fn` so that each call runs inside a transaction (or a savepoint
 * when one is already open), committing on return and rolling back on throw.
 */
function makeTransaction(db, fn, statements, defaultBehaviour) {
  if (typeof fn !== 'function') {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'Expected the first argument of transaction() to be a function')
  }
  if (fn.constructor && fn.constructor.name === 'AsyncFunction') {
    throw typeError(
      'HARDENED_ASYNC_TRANSACTION',
      'Transaction functions cannot be async: the transaction would commit at the first await; do the async work before or after',
    )
  }
  const variants = {}
  for (const behaviour of BEHAVIOURS) {
    variants[behaviour] = function transaction(...args) {
      const nested = db.inTransaction
      const { begin, commit, rollback } = nested
        ? { begin: statements().savepoint, commit: statements().release, rollback: statements().rollbackTo }
        : { begin: statements()[behaviour], commit: statements().commit, rollback: statements().rollback }
      begin.run()
      let result
      try {
        result = fn.apply(this, args)
        if (isThenable(result)) {
          throw typeError(
            'HARDENED_ASYNC_TRANSACTION',
            'Transaction function returned a Promise; it would have committed before the promise settled, so it was rolled back',
          )
        }
        commit.run()
      } catch (error) {
        if (db.inTransaction) {
          rollback.run()
          if (nested) statements().release.run()
        }
        throw translate(error)
      }
      return result
    }
  }
  const main = variants[defaultBehaviour]
  for (const behaviour of BEHAVIOURS) {
    Object.defineProperty(main, behaviour, { value: variants[behaviour], enumerable: true })
  }
  Object.defineProperty(main, 'default', { value: main, enumerable: true })
  return main
}

module.exports = { makeTransaction, controlStatements }
