'use strict'
/**
 * Which transaction callback of the async handle the running code belongs to
 * (`AsyncLocalStorage`, which follows `await`, timers and callbacks started
 * inside it). `db.transaction()` called inside a transaction callback of the
 * same handle would queue behind the transaction that holds the writer, which
 * (awaited) could only end at `transactionTimeout`: it fails at once with
 * `HARDENED_ASYNC_DEADLOCK` instead, as a sync write does in the same case.
 */
const { AsyncLocalStorage } = require('node:async_hooks')
const { HardenedDbError } = require('../errors')

let storage = null

/** Transaction callbacks running now, in every handle of the process. */
let running = 0

/**
 * Runs `fn()` as the callback of a transaction holding the writer of `pool`;
 * returns `{ value, end }`: what `fn()` returned, and `end()`, called once when
 * the transaction ends (code it started that runs later is outside it then).
 * The storage is enabled only while a callback runs: under Node 20 an enabled
 * `AsyncLocalStorage` tracks every promise of the process: left enabled after a
 * transaction, it raised an async `get()` from about 26 µs to 39 µs and more
 * (Node 20, a loaded 2-core machine); disabled again, it stays at about 26 µs.
 */
function runInside(pool, fn) {
  storage ??= new AsyncLocalStorage()
  const marker = { pool, active: true }
  running++
  let value
  try {
    value = storage.run(marker, fn)
  } catch (error) {
    value = Promise.reject(error)
  }
  const end = () => {
    if (!marker.active) return
    marker.active = false
    if (--running === 0) storage.disable()
  }
  return { value, end }
}

/** Whether the running code is inside a transaction callback (still running) that holds the writer of `pool`. */
function insideTransactionOf(pool) {
  const marker = storage?.getStore()
  return marker !== undefined && marker.active && marker.pool === pool
}

/** Throws `HARDENED_ASYNC_DEADLOCK` when `db.transaction()` is called inside a transaction callback holding the writer of `pool`. */
function checkNotNested(pool) {
  if (!insideTransactionOf(pool)) return
  throw new HardenedDbError(
    'db.transaction() was called inside a db.transaction() callback of the same handle: it needs the writer connection, ' +
      'which the running transaction holds until its callback ends, so it could only wait until transactionTimeout; ' +
      'use tx.transaction(fn) for a nested transaction (a savepoint), or start this one after the outer one ends',
    'HARDENED_ASYNC_DEADLOCK',
  )
}

module.exports = { runInside, checkNotNested }
