'use strict'
/**
 * The periodic checkpoint of option `checkpointInterval`: every interval a
 * PASSIVE checkpoint (never waits, never blocks readers or writers), and when
 * it copied every WAL frame back into the database, a TRUNCATE attempted
 * with no busy wait, so `-wal` shrinks to zero bytes whenever no reader pins it.
 */

const maintenance = require('./maintenance')

const BUSY = /^SQLITE_BUSY/

/**
 * One round on the native connection: PASSIVE, then TRUNCATE if nothing is
 * left behind. Returns what happened.
 */
function checkpointOnce(native) {
  if (!native.open || native.inTransaction) return 'skipped'
  const passive = maintenance.checkpoint(native, 'PASSIVE')
  if (passive.busy || passive.walFrames === 0 || passive.checkpointedFrames < passive.walFrames) return 'passive'
  // A reader still reading the WAL must not stall this event loop: no busy wait.
  return maintenance.checkpoint(native, 'TRUNCATE', { timeout: 0 }).busy ? 'passive' : 'truncated'
}

/**
 * Starts the timer on the native connection (of either face); returns the
 * function that stops it. The timer never keeps the process alive.
 */
function startCheckpointer(native, intervalMs) {
  let warned = false
  const timer = setInterval(() => {
    try {
      if (!native.open) return clearInterval(timer)
      checkpointOnce(native)
    } catch (error) {
      if (BUSY.test(error.code) || warned) return
      warned = true
      process.emitWarning(`Periodic checkpoint of ${native.name} failed: ${error.message}`, { code: 'HARDENED_CHECKPOINT' })
    }
  }, intervalMs)
  timer.unref?.()
  return () => clearInterval(timer)
}

module.exports = { startCheckpointer, checkpointOnce }
