'use strict'
/**
 * The hardened helpers both faces offer, defined once on each face's
 * prototype: `health`, `checkpoint`, `backup`, `migrate`, `migrationStatus`,
 * `integrityCheck`, `incrementalVacuum`, `optimize`, `walSize`.
 */
const { typeError } = require('./errors')
const { checkMigrationSource } = require('./options')
const { wrap } = require('./statement')
const { health } = require('./health')
const maintenance = require('./maintenance')
const { backup } = require('./backup')

/**
 * Defines the helpers on `prototype`; `stateOf(db)` returns the connection
 * state of `openConnection` (lib/lifecycle.js): `{ native, migrations }`.
 */
function installHardenedMethods(prototype, stateOf) {
  const methods = {
    /**
     * Checks every promise of the open sequence and the files; returns
     * `{ status, checks, sqliteVersion, journalMode, walBytes, userVersion,
     * pendingMigrations, files }`. `{ integrity: "quick" | "full" }` adds
     * `quick_check` or `integrity_check`.
     */
    health(options = undefined) {
      const { native, migrations } = stateOf(this)
      const status = migrations.source === undefined ? null : () => this.migrationStatus()
      return health(native, options, status)
    },

    /**
     * Runs `PRAGMA wal_checkpoint(mode)`; returns `{ busy, walFrames, checkpointedFrames }`.
     * FULL, RESTART and TRUNCATE wait for readers at most `{ timeout }` ms (default 1000, capped
     * by the busy timeout; 0 with option `replication`), then report busy.
     */
    checkpoint(mode = undefined, options = undefined) {
      return maintenance.checkpoint(stateOf(this).native, mode, options)
    },

    /**
     * Copies the database to `destination` a few pages per event-loop turn
     * (`{ attached, progress, overwrite }`), then verifies the copy and renames it
     * into place (mode `fileMode`); resolves to `{ totalPages, remainingPages }`.
     */
    backup(destination, options = undefined) {
      return backup(stateOf(this).native, destination, options)
    },

    /**
     * Applies every pending migration of `source` (default: the `migrations`
     * option), each in its own `BEGIN IMMEDIATE` transaction; returns
     * `{ from, to, applied: [{ version, name, ms }] }`.
     */
    migrate(source = undefined) {
      const { native, migrations } = stateOf(this)
      const checked = migrationSource(migrations, source)
      return wrap(() => native.migrate(checked, migrations.flags))
    },

    /**
     * Where the schema stands against `source` (default: the `migrations`
     * option): `{ current, latest, pending: [{ version, name }] }`. Changes nothing.
     */
    migrationStatus(source = undefined) {
      const { native, migrations } = stateOf(this)
      const checked = migrationSource(migrations, source)
      return wrap(() => native.migrationStatus(checked, migrations.flags))
    },

    /** `quick_check` (`{ quick: true }`) or `integrity_check`: the problems, empty when sound. */
    integrityCheck(options = undefined) {
      return maintenance.integrityCheck(stateOf(this).native, options)
    },

    /** Releases up to `pages` free pages (all by default); returns how many. */
    incrementalVacuum(pages = undefined) {
      return maintenance.incrementalVacuum(stateOf(this).native, pages)
    },

    /** Runs `PRAGMA optimize`. */
    optimize() {
      maintenance.optimize(stateOf(this).native)
      return this
    },

    /** Size of the `-wal` file in bytes. */
    walSize() {
      return maintenance.walSize(stateOf(this).native)
    },
  }
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true, enumerable: false })
  }
}

/**
 * Defines read-only getters on `prototype` that read the native connection
 * `nativeOf(db)`: `names` maps each getter's name in the face to the native
 * property (`{ filename: "name" }`): `name`, `open`, `inTransaction`, `readonly`, `memory`.
 */
function installConnectionGetters(prototype, nativeOf, names) {
  for (const [name, property] of Object.entries(names)) {
    Object.defineProperty(prototype, name, {
      get() {
        return nativeOf(this)[property]
      },
      configurable: true,
      enumerable: false,
    })
  }
}

/** The migration source to use: `source`, else the `migrations` option's. */
function migrationSource(migrations, source) {
  if (source === undefined) source = migrations.source
  if (source === undefined) {
    throw typeError(
      'HARDENED_INVALID_ARGUMENT',
      'No migrations given: pass a directory path or an array of { version, name, sql }, or open the database with the "migrations" option',
    )
  }
  return checkMigrationSource(source, 'The migrations argument', 'HARDENED_INVALID_ARGUMENT')
}

module.exports = { installHardenedMethods, installConnectionGetters }
