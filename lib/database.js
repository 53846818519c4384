'use strict'
/**
 * `HardenedDb`: a SQLite connection opened through the hardened open sequence
 * with better-sqlite3's API.
 */
const { NativeDatabase } = require('../binding.js')
const { translate, typeError } = require('./errors')
const { describe, rangeError, checkOptions } = require('./arguments')
const { normalizeOptions, checkMigrationSource } = require('./options')
const { Statement, wrap } = require('./statement')
const { makeTransaction, controlStatements } = require('./transaction')
const { track, forget, FORCE_CLOSE } = require('./shutdown')
const { upgradeStatement, upgradeScript } = require('./begin')
const { emitFileModeWarnings } = require('./permissions')
const signals = require('./signals')
const { health, assertHealthy } = require('./health')
const maintenance = require('./maintenance')
const { backup } = require('./backup')
const io = require('./io')
const { startCheckpointer } = require('./checkpointer')
const { openTenant } = require('./tenant')
const { startVerbose, traceStatement } = require('./verbose')
const { defineFunction, defineAggregate } = require('./functions')
const { defineTable } = require('./table')

/**
 * `busy_timeout`, `busy_timeout = N` or `busy_timeout(N)` (optionally `schema.`), as given to
 * `db.pragma()`; group 1 or 2 is the value as written. Every form is caught, so a value the fair
 * handler cannot take is refused instead of reaching SQLite, which would swap in its own handler.
 */
const BUSY_TIMEOUT_PRAGMA = /^\s*(?:\w+\s*\.\s*)?busy_timeout\s*(?:=\s*(.*?)|\(\s*(.*?)\s*\))?\s*;?\s*$/is

/** A value of `PRAGMA busy_timeout = ...`: digits, optionally signed or quoted. */
const BUSY_TIMEOUT_VALUE = /^(['"]?)([+-]?\d+)\1$/

class HardenedDb {
  #native
  #defaultTransaction
  #control = null
  #tracked
  #migrations
  #upgradeBegin
  #stopCheckpointer = null
  /** With the `verbose` option: hands the statements run so far to it. */
  #report = null

  /**
   * Opens (and if needed creates) the database at `path`: a file path, a
   * `file:` URL, `":memory:"`, or `""` (the default, also for `null`): a
   * private temporary database, as in better-sqlite3.
   */
  constructor(path = '', options = undefined) {
    if (path === null) path = ''
    // A Buffer (what serialize() returns) opens an in-memory copy of it, as in better-sqlite3.
    const image = io.bufferOf(path)
    if (image === undefined && typeof path !== 'string') {
      throw typeError('HARDENED_INVALID_PATH', `Expected the database path to be a string, got ${describe(path)}`)
    }
    const { native, defaultTransaction, upgradeDeferredBegin, migrations } = normalizeOptions(options)
    this.#native = wrap(() => (image ? NativeDatabase.fromSerialized(image, native) : new NativeDatabase(path, native)))
    emitFileModeWarnings(this.#native.takeModeWarnings())
    this.#defaultTransaction = defaultTransaction
    this.#upgradeBegin = upgradeDeferredBegin
    this.#migrations = migrations
    if (migrations.source !== undefined) {
      try {
        this.#native.migrate(migrations.source, migrations.flags)
      } catch (error) {
        try {
          this.#native.close()
        } catch {
          // The migration error is the one to report.
        }
        throw translate(error)
      }
    }
    if (typeof options?.verbose === 'function') this.#report = startVerbose(this.#native, options.verbose)
    this.#tracked = track(this)
    if (options?.healthCheck === true) this.#checkHealthAtOpen()
    if (options?.closeOnSignal === true) signals.register(this)
    if (options?.checkpointInterval > 0) this.#stopCheckpointer = startCheckpointer(this, options.checkpointInterval)
  }

  /**
   * Checks every promise of the open sequence and the files; returns
   * `{ status, checks, sqliteVersion, journalMode, walBytes, userVersion,
   * pendingMigrations, files }`. `{ integrity: "quick" | "full" }` adds
   * `quick_check` or `integrity_check`.
   */
  health(options = undefined) {
    const status = this.#migrations.source === undefined ? null : () => this.migrationStatus()
    return health(this.#native, options, status)
  }

  /**
   * Runs `PRAGMA wal_checkpoint(mode)`; returns `{ busy, walFrames, checkpointedFrames }`.
   * FULL, RESTART and TRUNCATE wait for readers at most `{ timeout }` ms (default 1000, capped
   * by the busy timeout; 0 with option `replication`), then report busy.
   */
  checkpoint(mode = undefined, options = undefined) {
    return maintenance.checkpoint(this.#native, mode, options)
  }

  /**
   * Copies the database to `destination` a few pages per event-loop turn
   * (`{ attached, progress, overwrite }`), then verifies the copy and renames it
   * into place (mode `fileMode`); resolves to `{ totalPages, remainingPages }`.
   */
  backup(destination, options = undefined) {
    return backup(this.#native, destination, options)
  }

  /** The database (or `{ attached }` schema) as a Buffer that `new HardenedDb(buffer)` opens. */
  serialize(options = undefined) {
    return io.serialize(this.#native, options)
  }

  /** Loads the native SQLite extension at `path`: it runs with this process's rights. */
  loadExtension(path, entryPoint = undefined) {
    io.loadExtension(this.#native, path, entryPoint)
    return this
  }

  /** `quick_check` (`{ quick: true }`) or `integrity_check`: the problems, empty when sound. */
  integrityCheck(options = undefined) {
    return maintenance.integrityCheck(this.#native, options)
  }

  /** Releases up to `pages` free pages (all by default); returns how many. */
  incrementalVacuum(pages = undefined) {
    return maintenance.incrementalVacuum(this.#native, pages)
  }

  /** Runs `PRAGMA optimize`. */
  optimize() {
    maintenance.optimize(this.#native)
    return this
  }

  /** Size of the `-wal` file in bytes. */
  walSize() {
    return maintenance.walSize(this.#native)
  }

  #checkHealthAtOpen() {
    try {
      assertHealthy(this.health(), this.name)
    } catch (error) {
      this.close()
      throw error
    }
  }

  /** Prepares one SQL statement (a deferred `BEGIN` begins IMMEDIATE: option `upgradeDeferredBegin`). */
  prepare(sql) {
    if (typeof sql !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the SQL to be a string, got ${describe(sql)}`)
    }
    return this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql)
  }

  /** Prepares `sql` exactly as given. */
  #prepare(sql) {
    try {
      const statement = new Statement(this.#native.prepare(sql), this)
      return this.#report === null ? statement : traceStatement(statement, this.#report)
    } catch (error) {
      throw translate(error)
    }
  }

  /** Runs one or more SQL statements (no parameters, rows discarded). */
  exec(sql) {
    if (typeof sql !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the SQL to be a string, got ${describe(sql)}`)
    }
    const script = this.#upgradeBegin ? upgradeScript(sql) : sql
    try {
      wrap(() => this.#native.exec(script))
    } finally {
      this.#report?.()
    }
    return this
  }

  /**
   * Runs `PRAGMA source`; returns every row, or with `{ simple: true }` the
   * first column of the first row.
   */
  pragma(source, options = undefined) {
    if (typeof source !== 'string') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the pragma to be a string, got ${describe(source)}`)
    }
    const checked = checkOptions(options, { simple: 'boolean' }, 'pragma')
    if ('simple' in checked && typeof checked.simple !== 'boolean') {
      // better-sqlite3 refuses { simple: undefined } too: the key is there, so a boolean was meant.
      throw typeError('HARDENED_INVALID_ARGUMENT', `Option "simple" of pragma must be a boolean, got ${describe(checked.simple)}; leave the key out for false`)
    }
    const simple = checked.simple === true
    // As in better-sqlite3: no pragma while an iterator of the connection is open (unless unsafeMode()).
    wrap(() => this.#native.requireNoIterators())
    const busy = BUSY_TIMEOUT_PRAGMA.exec(source)
    if (busy) return this.#busyTimeoutPragma(busy[1] ?? busy[2], simple)
    const statement = this.prepare(`PRAGMA ${source}`)
    if (!statement.reader) {
      statement.run()
      return simple ? undefined : []
    }
    return simple ? statement.pluck().get() : statement.all()
  }

  /**
   * Wraps `fn` in a transaction function: IMMEDIATE by default (see the
   * `defaultTransaction` option), with `.deferred`, `.immediate` and
   * `.exclusive` variants; nested calls use savepoints. `{ retries: N }`
   * re-runs the whole of `fn` up to N times after SQLITE_BUSY*, so `fn` must
   * have no side effects outside the database.
   */
  transaction(fn, options) {
    if (!this.open) throw typeError('HARDENED_NOT_OPEN', 'The database connection is not open')
    return makeTransaction(this, fn, () => this.#controlStatements(), this.#defaultTransaction, options)
  }

  /**
   * Applies every pending migration of `source` (default: the `migrations`
   * option), each in its own `BEGIN IMMEDIATE` transaction; returns
   * `{ from, to, applied: [{ version, name, ms }] }`.
   */
  migrate(source = undefined) {
    const checked = this.#migrationSource(source)
    return wrap(() => this.#native.migrate(checked, this.#migrations.flags))
  }

  /**
   * Where the schema stands against `source` (default: the `migrations`
   * option): `{ current, latest, pending: [{ version, name }] }`. Changes nothing.
   */
  migrationStatus(source = undefined) {
    const checked = this.#migrationSource(source)
    return wrap(() => this.#native.migrationStatus(checked, this.#migrations.flags))
  }

  #migrationSource(source) {
    if (source === undefined) source = this.#migrations.source
    if (source === undefined) {
      throw typeError(
        'HARDENED_INVALID_ARGUMENT',
        'No migrations given: pass a directory path or an array of { version, name, sql }, or open the database with the "migrations" option',
      )
    }
    return checkMigrationSource(source, 'The migrations argument', 'HARDENED_INVALID_ARGUMENT')
  }

  /**
   * A handle of the same API on its own connection to this file whose SQL sees
   * and writes only the rows of `tenantId` (a string or an integer) in every
   * table having the column `options.column` (default `"tenant_id"`); tables
   * in `options.shared` are readable by every tenant. See docs/security.md.
   */
  forTenant(tenantId, options = undefined) {
    const settings = { upgradeBegin: this.#upgradeBegin, defaultTransaction: this.#defaultTransaction }
    return openTenant(this.#native, tenantId, options, settings)
  }

  /**
   * Registers the SQL function `name` calling `fn` (better-sqlite3's
   * `function()`): options `varargs`, `deterministic`, `directOnly`,
   * `safeIntegers`, and `innocuous` (callable from views and triggers).
   */
  function(name, options, fn) {
    wrap(() => defineFunction(this.#native, name, options, fn))
    return this
  }

  /**
   * Registers the SQL aggregate `name` (better-sqlite3's `aggregate()`):
   * `{ start, step, inverse, result }` and the options of `function()`;
   * with `inverse` it is a window function too.
   */
  aggregate(name, options) {
    wrap(() => defineAggregate(this.#native, name, options))
    return this
  }

  /**
   * Registers the virtual table `name` (better-sqlite3's `table()`): a
   * definition `{ columns, rows, parameters, safeIntegers, directOnly,
   * innocuous }` makes a table-valued function, a factory returning one a
   * module for CREATE VIRTUAL TABLE. Rows come from the `rows` generator.
   */
  table(name, definition) {
    wrap(() => defineTable(this.#native, name, definition))
    return this
  }

  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle = true) {
    if (typeof toggle !== 'boolean') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `defaultSafeIntegers(toggle) takes true or false, got ${describe(toggle)}`)
    }
    this.#native.setDefaultSafeIntegers(toggle)
    return this
  }

  /**
   * Turns SQLite's defensive mode off (`unsafeMode()`, `unsafeMode(true)`) or
   * back on (`unsafeMode(false)`), as better-sqlite3's does: with it off, SQL
   * may use `PRAGMA writable_schema`, `journal_mode=OFF` and other ways to
   * corrupt the file. It never lifts `readonly`.
   */
  unsafeMode(unsafe = true) {
    if (typeof unsafe !== 'boolean') {
      throw typeError('HARDENED_INVALID_ARGUMENT', `unsafeMode() expects a boolean, got ${typeof unsafe}`)
    }
    wrap(() => this.#native.setUnsafeMode(unsafe))
    return this
  }

  /**
   * Closes the connection (idempotent); statements become unusable. Refused
   * (`HARDENED_DATABASE_BUSY`) while an iterator of the connection is open.
   */
  close() {
    return this.#close(false)
  }

  /** @internal Closes even with an iterator open: the process is exiting or was signalled. */
  [FORCE_CLOSE]() {
    return this.#close(true)
  }

  #close(force) {
    wrap(() => this.#native.close(force))
    this.#stopCheckpointer?.()
    this.#control = null
    forget(this.#tracked)
    signals.unregister(this)
    return this
  }

  /** `using db = new HardenedDb(...)` closes it at the end of the scope. */
  [Symbol.dispose]() {
    this.close()
  }

  /** The path the database was opened with. */
  get name() {
    return this.#native.name
  }

  /** Whether the connection is open. */
  get open() {
    return this.#native.open
  }

  /** Whether a transaction is active. */
  get inTransaction() {
    return this.#native.inTransaction
  }

  /** Whether the connection rejects writes (`readonly: true`). */
  get readonly() {
    return this.#native.readonly
  }

  /** Whether it is an in-memory database. */
  get memory() {
    return this.#native.memory
  }

  /**
   * `PRAGMA busy_timeout` as the fair busy handler sees it: SQLite itself
   * reads 0 once a custom handler is installed, and setting it through SQL
   * would swap the fair handler for SQLite's own.
   */
  #busyTimeoutPragma(value, simple) {
    if (value !== undefined) {
      const digits = BUSY_TIMEOUT_VALUE.exec(value)?.[2]
      const ms = digits === undefined ? NaN : Number(digits)
      if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
        throw rangeError(
          'HARDENED_INVALID_ARGUMENT',
          `PRAGMA busy_timeout takes a whole number of milliseconds from 0 to 2147483647 (like the busyTimeout option), got ${describe(value)}`,
        )
      }
      wrap(() => this.#native.setBusyTimeout(ms))
    }
    const ms = wrap(() => this.#native.busyTimeout)
    return simple ? ms : [{ timeout: ms }]
  }

  #controlStatements() {
    // As given: `.deferred` stays deferred whatever `upgradeDeferredBegin` says.
    // With upgradeDeferredBegin, `.deferred` takes the write lock at BEGIN too: it is what ORMs ask for by default.
    if (this.#control === null) this.#control = controlStatements((sql) => this.#prepare(this.#upgradeBegin ? upgradeStatement(sql) : sql))
    return this.#control
  }
}

module.exports = { HardenedDb }
