'use strict'
/**
 * `AsyncHardenedDb`: the asynchronous handle (`await HardenedDb.openAsync(path,
 * options)`, docs/async.md). One writer and N reader connections, each opened
 * by the hardened open sequence on a libuv pool thread; migrations run once, on
 * the writer, before the promise resolves. Every SQLite call runs off the event
 * loop; JS only schedules (lib/async/pool.js) and builds rows.
 */
const os = require('node:os')
const { NativeAsyncConnection, openAsyncConnection } = require('../../binding.js')
const { translate, typeError } = require('../errors')
const { describe, rangeError, checkSql } = require('../arguments')
const { normalizeOptions } = require('../options')
const { Pool } = require('./pool')
const { request, resultOf } = require('./request')
const { AsyncStatement } = require('./statement')
const { runTransaction } = require('./transaction')
const { track, forget, FORCE_CLOSE } = require('../shutdown')
const signals = require('../signals')
const { assertHealthy } = require('../health')
const maintenance = require('./maintenance')
const { backup } = require('./backup')
const { logger } = require('./verbose')

/** Options only the async handle takes, and their JS types. */
const ASYNC_OPTIONS = { readers: 'number', transactionTimeout: 'number' }

/**
 * The reader count used when `readers` is not given: the cores, at most 3, so
 * that readers busy with long queries leave one of libuv's 4 pool threads
 * (its default size) to the writer and to file-system work.
 */
function defaultReaders() {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  return Math.max(1, Math.min(cores, 3))
}

function checkAsyncOptions(options) {
  if (options?.defaultTransaction !== undefined && options.defaultTransaction !== 'immediate') {
    throw typeError('HARDENED_INVALID_OPTION', 'Async transactions are always BEGIN IMMEDIATE (they hold the writer); remove option "defaultTransaction"')
  }
  const readers = options?.readers ?? defaultReaders()
  if (!Number.isInteger(readers) || readers < 1 || readers > 64) {
    throw rangeError('HARDENED_INVALID_OPTION', `Option "readers" must be a whole number from 1 to 64, got ${describe(readers)}`)
  }
  const transactionTimeout = options?.transactionTimeout ?? 30000
  if (!Number.isInteger(transactionTimeout) || transactionTimeout < 1 || transactionTimeout > 2 ** 31 - 1) {
    throw rangeError('HARDENED_INVALID_OPTION', `Option "transactionTimeout" must be a whole number of milliseconds above 0, got ${describe(transactionTimeout)}`)
  }
  return { readers, transactionTimeout }
}

/** Opens one pooled connection, or throws the error the open sequence gave. */
async function openOne(path, nativeOptions, reader) {
  let opened
  try {
    opened = await openAsyncConnection(path, nativeOptions, reader)
  } catch (error) {
    throw translate(error)
  }
  if (!(opened instanceof NativeAsyncConnection)) throw translate(opened)
  return opened
}

/** Closes `connections` (errors ignored: an earlier error is being reported). */
async function closeQuietly(connections) {
  await Promise.allSettled(connections.map((c) => c.close()))
}

function notOpen() {
  return typeError('HARDENED_NOT_OPEN', 'The database connection is not open (close() was called)')
}

/** The asynchronous handle: every method returns a promise and runs SQLite off the event loop. */
class AsyncHardenedDb {
  #pool
  #open = true
  #closing = null
  #safeIntegers
  #transactionTimeout
  #readonly
  #migrations
  #tracked
  #checkpointer = null
  #source
  #backups = new Set()
  #log

  /** (internal) Use `await HardenedDb.openAsync(path, options)`. */
  constructor(token, pool, settings) {
    if (token !== OPEN) throw typeError('HARDENED_INVALID_ARGUMENT', 'Use await HardenedDb.openAsync(path, options) to open an async handle')
    this.#pool = pool
    this.#safeIntegers = settings.safeIntegers
    this.#transactionTimeout = settings.transactionTimeout
    this.#readonly = settings.readonly
    this.#migrations = settings.migrations
    this.#source = settings.source
    this.#log = settings.log
    // Closed at process exit if close() was not awaited, so the last connection removes -wal.
    this.#tracked = track(this)
  }

  /**
   * Opens `path` with the options of `new HardenedDb()` plus `readers` (reader
   * connections, default: the cores, at most 3) and `transactionTimeout`
   * (milliseconds, default 30000). Resolves once every connection is open and
   * the migrations ran.
   */
  static async open(path, options) {
    if (typeof path !== 'string' || path === '') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `openAsync() takes the path of a database file, got ${describe(path)}`)
    }
    const checked = normalizeOptions(options, ASYNC_OPTIONS)
    const { readers: readerCount, transactionTimeout } = checkAsyncOptions(options)
    const writer = await openOne(path, checked.native, false)
    const readers = []
    try {
      const { source, flags } = checked.migrations
      if (source !== undefined) {
        const migrated = await writer.migrate(source, flags, options?.readonly === true)
        if (migrated instanceof Error) throw translate(migrated)
      }
      const opening = Array.from({ length: readerCount }, () => openOne(path, checked.native, true))
      const settled = await Promise.allSettled(opening)
      for (const result of settled) if (result.status === 'fulfilled') readers.push(result.value)
      const failed = settled.find((result) => result.status === 'rejected')
      if (failed) throw failed.reason
    } catch (error) {
      await closeQuietly([...readers, writer])
      throw error
    }
    const db = new AsyncHardenedDb(OPEN, new Pool(writer, readers), {
      safeIntegers: checked.native.safeIntegers === true,
      transactionTimeout,
      readonly: options?.readonly === true,
      migrations: checked.migrations.source === undefined ? undefined : checked.migrations,
      source: { path, native: checked.native },
      log: typeof options?.verbose === 'function' ? logger(options.verbose) : null,
    })
    if (options?.healthCheck === true) {
      try {
        assertHealthy(await db.health(), path)
      } catch (error) {
        await db.close()
        throw error
      }
    }
    if (options?.closeOnSignal === true) signals.register(db)
    if (options?.checkpointInterval > 0) db.#startCheckpointer(options.checkpointInterval)
    return db
  }

  /** `checkpointInterval`: a PASSIVE checkpoint on the writer every `ms` (it never waits for a lock). */
  #startCheckpointer(ms) {
    this.#checkpointer = setInterval(() => {
      if (this.#open) this.checkpoint('PASSIVE').catch(() => {})
    }, ms)
    this.#checkpointer.unref?.()
  }

  /** Stops what runs beside the connections (exit tracking, signals, the checkpointer). */
  #stopWatching() {
    forget(this.#tracked)
    signals.unregister(this)
    if (this.#checkpointer !== null) clearInterval(this.#checkpointer)
  }

  /** Counts a call as in flight (close() drains these), or rejects once closed. */
  #enter(start) {
    if (!this.#open) return Promise.reject(notOpen())
    return this.#pool.track(start())
  }

  #runner = (mode, sql, args, flags, readonly) => {
    if (!this.#open) return Promise.reject(notOpen())
    try {
      this.#log?.(sql, mode)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#enter(() => this.#pool.route(mode, sql, args, { inTransaction: false, ...flags }, readonly))
  }

  #iterator = (sql, args, flags, readonly) => {
    if (!this.#open) throw notOpen()
    return this.#pool.iterate(sql, args, { ...flags, log: this.#log }, readonly)
  }

  #call(mode, sql, params) {
    try {
      checkSql(sql)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#runner(mode, sql, params, { safeIntegers: this.#safeIntegers }).then((outcome) => resultOf(mode, outcome))
  }

  /** Resolves to the first row of `sql` (or `undefined`); a read runs on a reader. */
  get(sql, ...params) {
    return this.#call('get', sql, params)
  }

  /** Resolves to every row of `sql`. */
  all(sql, ...params) {
    return this.#call('all', sql, params)
  }

  /** Runs one statement; resolves to `{ changes, lastInsertRowid }`. A write waits its turn on the writer. */
  run(sql, ...params) {
    return this.#call('run', sql, params)
  }

  /** Runs every statement of `sql` on the writer. */
  async exec(sql) {
    checkSql(sql)
    await this.#runner('exec', sql, [], { safeIntegers: this.#safeIntegers })
    return this
  }

  /** Prepares `sql` (compiled on a reader, off the event loop); resolves to an `AsyncStatement`. */
  async prepare(sql) {
    checkSql(sql)
    const description = await this.#enter(() =>
      this.#pool.withReader(undefined, (reader) => request(reader, 'describe', sql, [], { reader: false, inTransaction: false, safeIntegers: false })))
    return new AsyncStatement(this, this.#runner, sql, description, this.#safeIntegers, undefined, this.#iterator)
  }

  /** Runs `fn(tx)` in a transaction holding the writer (see lib/async/transaction.js); resolves to what `fn` resolved to. */
  transaction(fn, options) {
    return this.#enter(() => runTransaction(this, this.#pool, fn, options, this.#transactionTimeout, this.#safeIntegers, this.#log))
  }

  /**
   * `PRAGMA wal_checkpoint(mode)` on the writer: `{ busy, walFrames, checkpointedFrames }`; FULL,
   * RESTART and TRUNCATE wait for readers at most `{ timeout }` ms (as the sync `checkpoint()`).
   */
  checkpoint(mode, options) {
    return this.#enter(() => maintenance.checkpoint(this.#pool, mode, options))
  }

  /** `PRAGMA integrity_check` (`quick_check` with `{ quick: true }`) on a reader: the problems, empty when sound. */
  integrityCheck(options) {
    return this.#enter(() => maintenance.integrityCheck(this.#pool, options))
  }

  /** `PRAGMA incremental_vacuum(pages)` on the writer: the free pages released. */
  incrementalVacuum(pages) {
    return this.#enter(() => maintenance.incrementalVacuum(this.#pool, pages))
  }

  /** The sync `health()` report (`{ integrity: "quick" | "full" }`), built on the writer off the event loop. */
  health(options) {
    return this.#enter(() => maintenance.health(this.#pool, options, this.#migrations))
  }

  /**
   * `VACUUM` on the writer, in turn with writes (FIFO): rewrites the file without
   * its free pages; resolves to how many pages the database shrank by.
   */
  vacuum() {
    return this.#enter(() => maintenance.vacuum(this.#pool))
  }

  /**
   * Copies the database to `destination` off the event loop, from a read-only
   * connection of its own (`{ progress, overwrite }` as the sync `backup()`), then
   * verifies the copy and renames it into place (mode `fileMode`); resolves to
   * `{ totalPages, remainingPages }` (plus non-enumerable `path` and `bytes`).
   */
  backup(destination, options) {
    return this.#enter(() => backup(this.#source, destination, options, this.#backups))
  }

  /** `PRAGMA optimize` on the writer. */
  optimize() {
    return this.#enter(() => maintenance.optimize(this.#pool))
  }

  /**
   * Stops taking calls, waits for every call already made (queued ones included),
   * then closes the readers and, last, the writer (which checkpoints). Idempotent.
   */
  close() {
    if (this.#closing) return this.#closing
    this.#open = false
    if (this.#checkpointer !== null) clearInterval(this.#checkpointer)
    const pool = this.#pool
    this.#closing = (async () => {
      // for await loops are ended, not waited for: one may be suspended forever, or be the caller of close().
      await pool.endLoops()
      await pool.drain()
      const results = await Promise.all(pool.readers.map((reader) => reader.close()))
      results.push(await pool.writer.close())
      this.#stopWatching()
      const failed = results.find((result) => result instanceof Error)
      if (failed) throw translate(failed)
    })()
    return this.#closing
  }

  /** (internal) At process exit: closes every connection at once, the writer last. */
  [FORCE_CLOSE]() {
    this.#open = false
    this.#stopWatching()
    for (const job of this.#backups) job.abortNow()
    for (const reader of this.#pool.readers) reader.closeNow()
    this.#pool.writer.closeNow()
  }

  /** `await using db = await HardenedDb.openAsync(...)` closes it. */
  [Symbol.asyncDispose]() {
    return this.close()
  }

  /** Whether calls are accepted (false once `close()` was called). */
  get open() {
    return this.#open
  }

  /** The path as opened. */
  get name() {
    return this.#pool.writer.name
  }

  /** Whether writes are rejected (`readonly: true`). */
  get readonly() {
    return this.#readonly
  }

  /** The number of reader connections. */
  get readers() {
    return this.#pool.readers.length
  }
}

const OPEN = Symbol('AsyncHardenedDb.open')

/** `HardenedDb.openAsync(path, options)`. */
function openAsync(path, options) {
  return AsyncHardenedDb.open(path, options)
}

module.exports = { AsyncHardenedDb, openAsync }
