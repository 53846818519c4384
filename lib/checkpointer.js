'use strict'
/**
 * The periodic checkpoint of option `checkpointInterval`: every interval a
 * PASSIVE checkpoint (never waits, never blocks readers or writers), and when
 * it copied every WAL frame back into the database, a TRUNCATE attempted
 * with no busy wait, so `-wal` shrinks to zero bytes whenever no reader pins it.
 */

const BUSY = /^SQLITE_BUSY/

/** One round: PASSIVE, then TRUNCATE if nothing is left behind. Returns what happened. */
function checkpointOnce(db) {
  if (!db.open || db.inTransaction) return 'skipped'
  const passive = db.checkpoint('PASSIVE')
  if (passive.busy || passive.walFrames === 0 || passive.checkpointedFrames < passive.walFrames) return 'passive'
  // A reader still reading the WAL must not stall this event loop: no busy wait.
  return db.checkpoint('TRUNCATE', { timeout: 0 }).busy ? 'passive' : 'truncated'
}

/** Starts the timer; returns the function that stops it. The timer never keeps the process alive. */
function startCheckpointer(db, intervalMs) {
  let warned = false
  const timer = setInterval(() => {
    try {
      if (!db.open) return clearInterval(timer)
      checkpointOnce(db)
    } catch (error) {
      if (BUSY.test(error.code) || warned) return
      warned = true
      process.emitWarning(`Periodic checkpoint of ${db.name} failed: ${error.message}`, { code: 'HARDENED_CHECKPOINT' })
    }
  }, intervalMs)
  timer.unref?.()
  return () => clearInterval(timer)
}

module.exports = { startCheckpointer, checkpointOnce }
