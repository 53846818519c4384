'use strict'
/**
 * Which transaction callback of the async handle the running code belongs to
 * (`AsyncLocalStorage`, which follows `await`, timers and callbacks started
 * inside it). A call through `db` that needs the writer while the caller's own
 * transaction holds it (a nested `db.transaction()`, a write, maintenance on
 * the writer) could only wait until `transactionTimeout`: it fails at once with
 * `HARDENED_ASYNC_DEADLOCK` instead, as a sync write does in the same case.
 */
const { AsyncLocalStorage } = require('node:async_hooks')
const { HardenedDbError } = require('../errors')

let storage = null

/**
 * Runs `fn()` as the callback of a transaction holding the writer of `pool`;
 * returns `{ value, end }`: what `fn()` returned, and `end()`, called when the
 * transaction ends (code it started that runs later is outside it then).
 */
function runInside(pool, fn) {
  storage ??= new AsyncLocalStorage()
  const marker = { pool, active: true }
  return { value: storage.run(marker, fn), end: () => (marker.active = false) }
}

/** Whether the running code is inside a transaction callback (still running) that holds the writer of `pool`. */
function insideTransactionOf(pool) {
  const marker = storage?.getStore()
  return marker !== undefined && marker.active && marker.pool === pool
}

/** The error of `what`, called inside a transaction callback of the same handle. */
function deadlockError(what, fix) {
  return new HardenedDbError(
    `${what} was called inside a db.transaction() callback of the same handle: it needs the writer connection, ` +
      `which this transaction holds until the callback ends, so it could only wait until transactionTimeout; ${fix}`,
    'HARDENED_ASYNC_DEADLOCK',
  )
}

/** Throws `HARDENED_ASYNC_DEADLOCK` when the caller's own transaction holds the writer of `pool`. */
function checkWriterFree(pool, what = 'A call that writes (through db, not tx)', fix = 'write through tx inside the callback (tx.run, tx.prepare, tx.exec), or after the transaction') {
  if (insideTransactionOf(pool)) throw deadlockError(what, fix)
}

module.exports = { runInside, insideTransactionOf, checkWriterFree }
