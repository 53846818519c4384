'use strict'
/**
 * `db.transaction(fn)`: better-sqlite3's transaction functions, with the
 * hardened default behaviour IMMEDIATE. A deferred transaction that reads and
 * then writes fails with SQLITE_BUSY as soon as another connection wrote in
 * between, whatever the busy timeout; taking the write lock at BEGIN waits
 * for it instead.
 */
const { translate, typeError } = require('./errors')
const { describe, isOptionsObject } = require('./arguments')

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

/** Codes after which re-running the whole transaction can succeed. */
const RETRYABLE = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT'])

/** `options.retries` of `transaction(fn, options)` (0 when `options` is undefined), checked. */
function retryCount(options) {
  if (options === undefined) return 0
  if (!isOptionsObject(options)) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the options of transaction() to be an object such as { retries: 3 }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (key !== 'retries') throw typeError('HARDENED_INVALID_OPTION', `Unknown transaction option "${key}"; the only one is "retries"`)
  }
  const retries = options.retries ?? 0
  if (!Number.isInteger(retries) || retries < 0) {
    throw typeError('HARDENED_INVALID_OPTION', `Transaction option "retries" must be a whole number >= 0, got ${describe(retries)}`)
  }
  return retries
}

/** Jittered exponential backoff: about 2, 4, 8 ... ms, capped at 100 ms. */
function backoffMs(attempt) {
  const cap = Math.min(100, 2 ** (attempt + 1))
  return cap / 2 + Math.random() * (cap / 2)
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** Blocks this thread for `ms` (the transaction API is synchronous). */
function sleep(ms) {
  Atomics.wait(sleeper, 0, 0, ms)
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function'
}

/**
 * Wraps `fn` so that each call runs inside a transaction (or a savepoint
 * when one is already open), committing on return and rolling back on throw.
 * `shapeError` gives a thrown native error its face's class (lib/errors.js's
 * `translate` for the main face).
 */
function makeTransaction(db, fn, statements, defaultBehaviour, options = {}, shapeError = translate) {
  const retries = retryCount(options)
  if (typeof fn !== 'function') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the first argument of transaction() to be a function, got ${describe(fn)}`)
  }
  if (fn.constructor && fn.constructor.name === 'AsyncFunction') {
    throw typeError(
      'HARDENED_ASYNC_TRANSACTION',
      'Transaction functions cannot be async: the transaction would commit at the first await; do the async work before or after',
    )
  }
  const variants = {}
  for (const behaviour of BEHAVIOURS) {
    const once = function transactionOnce(self, args) {
      const nested = db.inTransaction
      const control = statements()
      const { begin, commit, rollback } = nested
        ? { begin: control.savepoint, commit: control.release, rollback: control.rollbackTo }
        : { begin: control[behaviour], commit: control.commit, rollback: control.rollback }
      begin.run()
      let result
      try {
        result = fn.apply(self, args)
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
          if (nested) control.release.run()
        }
        throw shapeError(error)
      }
      return result
    }
    variants[behaviour] = function transaction(...args) {
      for (let attempt = 0; ; attempt++) {
        try {
          return once(this, args)
        } catch (error) {
          // Only a whole transaction can be retried, and only from the top level.
          if (attempt >= retries || db.inTransaction || !RETRYABLE.has(error && error.code)) throw error
          sleep(backoffMs(attempt))
        }
      }
    }
  }
  const main = variants[defaultBehaviour]
  // As in better-sqlite3, every variant carries all of them and its database.
  for (const variant of Object.values(variants)) {
    for (const behaviour of BEHAVIOURS) {
      if (variant[behaviour] === undefined) Object.defineProperty(variant, behaviour, { value: variants[behaviour], enumerable: true })
    }
    Object.defineProperty(variant, 'default', { value: main, enumerable: true })
    Object.defineProperty(variant, 'database', { value: db, enumerable: true })
  }
  return main
}

module.exports = { makeTransaction, controlStatements, retryCount, RETRYABLE }
