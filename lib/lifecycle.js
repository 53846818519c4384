'use strict'
/**
 * The open sequence and the close of a connection, shared by both faces
 * (lib/better-sqlite3/database.js and lib/bun/database.js): the native hardened open, file
 * mode warnings, migrations at open, `verbose`, exit tracking, `healthCheck`,
 * `closeOnSignal` and `checkpointInterval`.
 */
const { NativeDatabase } = require('../binding.js')
const { translate } = require('./errors')
const { wrap } = require('./statement')
const { closeConnectionsAtExit } = require('./shutdown')
const { emitFileModeWarnings } = require('./permissions')
const signals = require('./signals')
const { assertHealthy } = require('./health')
const { startCheckpointer } = require('./checkpointer')
const { startVerbose } = require('./verbose')

/**
 * Opens `path` (or the serialized `image`) for `owner` with the options
 * `normalizeOptions` returned (`checked`) and the caller's `options`; `face`
 * (if given) sets the native binding rules before any statement is prepared.
 * `adopt(state)` is called as soon as the connection is open, before the
 * migrations and the health check (which use the owner's methods), with the
 * connection's state: `{ native, migrations, verbose, stopCheckpointer }`,
 * which is also returned. On failure nothing stays open.
 */
function openConnection(owner, path, image, options, checked, face, adopt) {
  const { native: nativeOptions, migrations } = checked
  const given = anyKey(nativeOptions) ? nativeOptions : undefined
  const native = wrap(() => (image ? NativeDatabase.fromSerialized(image, given) : new NativeDatabase(path, given)))
  emitFileModeWarnings(native.takeModeWarnings())
  const state = { native, migrations, verbose: null, stopCheckpointer: null }
  adopt(state)
  try {
    if (face !== undefined) native.setFace(face)
    if (migrations.source !== undefined) native.migrate(migrations.source, migrations.flags)
  } catch (error) {
    try {
      native.close()
    } catch {
      // The first error is the one to report.
    }
    throw translate(error)
  }
  if (typeof options?.verbose === 'function') state.verbose = startVerbose(native, options.verbose)
  // Process exit closes it if close() was not called (the native side keeps the list).
  closeConnectionsAtExit(NativeDatabase.closeAllAtExit)
  if (options?.healthCheck === true) {
    try {
      assertHealthy(owner.health(), owner.filename ?? owner.name)
    } catch (error) {
      closeConnection(owner, state, false)
      throw error
    }
  }
  if (options?.closeOnSignal === true) signals.register(owner)
  if (options?.checkpointInterval > 0) state.stopCheckpointer = startCheckpointer(native, options.checkpointInterval)
  return state
}

/**
 * Whether `options` has an own key. Without options the native side takes the
 * defaults without reading the 17 fields of an empty object one by one through
 * Node-API (26,000 instructions per open, a sixteenth of it, counted with callgrind).
 */
function anyKey(options) {
  for (const key in options) if (Object.hasOwn(options, key)) return true
  return false
}

/** Closes the connection of `owner` (idempotent); `force` even with an iterator open. */
function closeConnection(owner, state, force) {
  wrap(() => state.native.close(force))
  state.stopCheckpointer?.()
  signals.unregister(owner)
}

module.exports = { openConnection, closeConnection }
