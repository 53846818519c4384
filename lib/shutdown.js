'use strict'
/**
 * Closes every connection still open when the process exits, so the last
 * connection checkpoints the WAL and removes `-wal` and `-shm`.
 */
const open = new Set()

/**
 * The method that closes a connection even with an iterator open (`close()`
 * refuses then, as in better-sqlite3): at exit, or on a signal, nothing will
 * finish the iterator.
 */
const FORCE_CLOSE = Symbol('hardened-sqlite.forceClose')
let hooked = false

function closeAll() {
  for (const ref of open) {
    const db = ref.deref()
    if (db !== undefined && db.open) {
      try {
        db[FORCE_CLOSE]()
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

module.exports = { track, forget, FORCE_CLOSE }
