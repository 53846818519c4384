'use strict'
/**
 * `await db.transaction(async (tx) => ...)`: the writer is held for the whole
 * callback (other writes queue behind it, never interleave), `BEGIN IMMEDIATE`
 * waits for the file's write lock with the fair busy handler on a pool thread,
 * `{ retries }` retries on SQLITE_BUSY as the sync API does, a throw or a
 * rejection rolls back, `tx.transaction()` nests with savepoints, and a
 * callback that has not settled after `transactionTimeout` milliseconds (a
 * missing `await`, a promise that never settles) is rolled back with
 * `HARDENED_TRANSACTION_TIMEOUT`.
 */
const { HardenedDbError, typeError } = require('../errors')
const { describe } = require('../arguments')
const { request, cursorStep, resultOf, rowsOf } = require('./request')
const { AsyncStatement } = require('./statement')
// The sync transaction()'s rules: the same option check and the same retryable codes.
const { retryCount, RETRYABLE } = require('../transaction')
const { runInside, checkNotNested } = require('./context')

let savepoints = 0

/** The requests whose SQL goes to the `verbose` logger (`describe`, the later cursor steps and savepoints do not). */
const LOGGED = new Set(['get', 'all', 'run', 'exec', 'cursor:open'])

function finishedError() {
  return new HardenedDbError(
    'This transaction has already ended (committed, rolled back or timed out); a call on tx after the callback returned is usually a missing await',
    'HARDENED_TRANSACTION_FINISHED',
  )
}

function timeoutError(ms) {
  return new HardenedDbError(
    `The transaction callback did not settle within ${ms} ms and the transaction was rolled back: look for a missing await, ` +
      'a promise that never settles, or a write through db instead of tx inside the callback (it queues behind the transaction); ' +
      'raise the transactionTimeout option of openAsync() for longer transactions',
    'HARDENED_TRANSACTION_TIMEOUT',
  )
}

/** The `tx` object given to a transaction callback: requests run on the writer, in order. */
class AsyncTransaction {
  #state
  #finished = false

  /** (internal) `state`: `{ db, writer, tail, controller, safeIntegers, log }`, shared with nested transactions. */
  constructor(state) {
    this.#state = state
  }

  /**
   * Queues one request (`mode`, or a cursor step `cursor:open|next|close`) after
   * every earlier one of this transaction. A statement of the caller (not a
   * savepoint of ours) goes to the `verbose` logger first.
   */
  #enqueue(mode, sql, args, signal, safeIntegers = this.#state.safeIntegers, internal = false) {
    if (this.#finished && mode !== 'cursor:close') return Promise.reject(finishedError())
    const state = this.#state
    if (state.log !== null && !internal && LOGGED.has(mode)) {
      try {
        state.log(sql, mode)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const signals = signal ? AbortSignal.any([state.controller.signal, signal]) : state.controller.signal
    const flags = { reader: false, inTransaction: true, safeIntegers, signal: signals }
    const run = state.tail.then(() => mode.startsWith('cursor:')
      ? cursorStep(state.writer, mode.slice(7), sql, args, flags)
      : request(state.writer, mode, sql, args, flags))
    state.tail = run.then(() => undefined, () => undefined)
    return run
  }

  /**
   * `stmt.iterate()` inside the transaction: batches fetched on the writer in
   * turn with the transaction's other requests. One iteration at a time: a
   * second one finalizes the first (whose next batch then fails).
   */
  async * #iterate(sql, args, flags) {
    let open = true
    const state = this.#state
    try {
      let outcome = await this.#enqueue('cursor:open', sql, args, flags.signal, flags.safeIntegers)
      state.cursorOpen = true
      for (;;) {
        if (outcome.done) open = false
        yield * rowsOf(outcome)
        if (!open) break
        outcome = await this.#enqueue('cursor:next', sql, [], flags.signal, flags.safeIntegers)
      }
    } catch (error) {
      open = false
      throw error
    } finally {
      if (open && state.cursorOpen) await this.#enqueue('cursor:close', sql, [], undefined).catch(() => {})
      state.cursorOpen = false
    }
  }

  /** (internal) Finalizes an iteration left open, before COMMIT or ROLLBACK. */
  async closeCursor() {
    if (this.#state.cursorOpen) await this.#enqueue('cursor:close', '', [], undefined).catch(() => {})
    this.#state.cursorOpen = false
  }

  /** Ends this (nested) transaction object: later calls on it fail with HARDENED_TRANSACTION_FINISHED. */
  finish() {
    this.#finished = true
  }

  /** Resolves once every request queued so far has settled. */
  async settle() {
    let tail
    do {
      tail = this.#state.tail
      await tail
    } while (tail !== this.#state.tail)
  }

  /** Resolves to the first row of `sql` (or `undefined`). */
  async get(sql, ...params) {
    return resultOf('get', await this.#enqueue('get', sql, params))
  }

  /** Resolves to every row of `sql`. */
  async all(sql, ...params) {
    return resultOf('all', await this.#enqueue('all', sql, params))
  }

  /** Runs `sql`; resolves to `{ changes, lastInsertRowid }`. */
  async run(sql, ...params) {
    return resultOf('run', await this.#enqueue('run', sql, params))
  }

  /** Runs every statement of `sql`. */
  async exec(sql) {
    await this.#enqueue('exec', sql, [])
  }

  /** Prepares `sql` on the writer; its calls run inside this transaction. */
  async prepare(sql) {
    const description = await this.#enqueue('describe', sql, [])
    const runner = (mode, source, args, flags) => this.#enqueue(mode, source, args, flags.signal, flags.safeIntegers)
    const iterator = (source, args, flags) => this.#iterate(source, args, flags)
    return new AsyncStatement(this.#state.db, runner, sql, description, this.#state.safeIntegers, undefined, iterator)
  }

  /** A nested transaction: a savepoint, rolled back to if `fn` throws or rejects. */
  async transaction(fn) {
    if (typeof fn !== 'function') throw typeError('HARDENED_INVALID_ARGUMENT', `Expected a function, got ${describe(fn)}`)
    const name = `hardened_async_${++savepoints}`
    await this.#enqueue('run', `SAVEPOINT ${name}`, [], undefined, undefined, true)
    const inner = new AsyncTransaction(this.#state)
    try {
      const value = await fn(inner)
      await inner.settle()
      inner.finish()
      await this.#enqueue('run', `RELEASE ${name}`, [], undefined, undefined, true)
      return value
    } catch (error) {
      inner.finish()
      await inner.settle()
      await this.#enqueue('run', `ROLLBACK TO ${name}`, [], undefined, undefined, true)
        .then(() => this.#enqueue('run', `RELEASE ${name}`, [], undefined, undefined, true))
        .catch(() => {})
      throw error
    }
  }
}

/** One attempt: BEGIN IMMEDIATE, the callback under the timeout, COMMIT or ROLLBACK. */
async function attempt(db, pool, writer, fn, timeoutMs, safeIntegers, log) {
  const flags = { reader: false, inTransaction: true, safeIntegers }
  await request(writer, 'run', 'BEGIN IMMEDIATE', [], flags)
  const state = { db, writer, tail: Promise.resolve(), controller: new AbortController(), safeIntegers, log }
  const tx = new AsyncTransaction(state)
  let timer
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const error = timeoutError(timeoutMs)
      // A request of the transaction still running is interrupted, so the rollback does not wait for it.
      state.controller.abort(error)
      reject(error)
    }, timeoutMs)
  })
  // The callback runs marked as holding this pool's writer (lib/async/context.js).
  const inside = runInside(pool, () => Promise.resolve().then(() => fn(tx)))
  try {
    const value = await Promise.race([inside.value, timedOut])
    await Promise.race([tx.settle(), timedOut])
    tx.finish()
    await tx.closeCursor()
    await request(writer, 'run', 'COMMIT', [], { ...flags, inTransaction: false })
    return value
  } catch (error) {
    tx.finish()
    await tx.settle()
    await tx.closeCursor()
    await request(writer, 'run', 'ROLLBACK', [], { ...flags, inTransaction: false }).catch(() => {})
    throw error
  } finally {
    inside.end()
    clearTimeout(timer)
  }
}

/**
 * Runs `fn(tx)` in a transaction on the writer of `pool`, retrying on SQLITE_BUSY
 * up to `options.retries` times; `log` is the `verbose` logger (or null).
 */
async function runTransaction(db, pool, fn, options, timeoutMs, safeIntegers, log = null) {
  if (typeof fn !== 'function') throw typeError('HARDENED_INVALID_ARGUMENT', `Expected a function, got ${describe(fn)}`)
  const retries = retryCount(options)
  checkNotNested(pool)
  for (let tries = 0; ; tries++) {
    try {
      return await pool.withWriter(undefined, (writer) => attempt(db, pool, writer, fn, timeoutMs, safeIntegers, log))
    } catch (error) {
      if (tries >= retries || !RETRYABLE.has(error?.code)) throw error
      // Jittered backoff as in the sync API: about 2, 4, 8 ... ms, at most 100 ms.
      const delay = Math.min(100, 2 ** (tries + 1)) * (0.5 + Math.random())
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}

module.exports = { runTransaction, AsyncTransaction }
