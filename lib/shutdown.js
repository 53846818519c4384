'use strict'
/**
 * Closes every connection still open when the process exits, so the last
 * connection checkpoints the WAL and removes `-wal` and `-shm`.
 */
const open = new Set()
let hooked = false

function closeAll() {
  for (const ref of open) {
    const db = ref.deref()
    if (db !== undefined && db.open) {
      try {
        db.close()
      } catch {
        // Exiting: nothing is left to report to.
      }
    }
  }
  open.clear()
}

/** Tracks `db` until `forget` is called; returns its handle for `forget`. */
function track(db) {
  if (!hooked) {
    process.once('exit', closeAll)
    hooked = true
  }
  const ref = new WeakRef(db)
  open.add(ref)
  return ref
}

/** Stops tracking a closed connection. */
function forget(ref) {
  open.delete(ref)
}

module.exports = { track, forget }
