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

/** Closes the sync connections still open (see `closeConnectionsAtExit`). */
let closeConnections = null

function closeAll() {
  if (closeConnections !== null) {
    try {
      closeConnections()
    } catch {
      // Exiting: nothing is left to report to.
    }
  }
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

function hook() {
  if (!hooked) {
    process.once('exit', closeAll)
    hooked = true
  }
}

/**
 * Makes process exit call `closeAll()`, which closes the connections of both
 * sync faces still open: the native side keeps them (src/exit_close.rs), not a
 * `WeakRef` per connection as `track` does. Creating a `WeakRef` keeps its target
 * alive until the current job ends, so a loop that opened and closed connections
 * without yielding kept every one for the collector to walk (8 µs of CPU per
 * open + close on Node 20).
 */
function closeConnectionsAtExit(closeAll) {
  hook()
  closeConnections = closeAll
}

/** Tracks `db` (the async handle; closed at exit by `db[FORCE_CLOSE]()`) until `forget` is called; returns its handle for `forget`. */
function track(db) {
  hook()
  const ref = new WeakRef(db)
  open.add(ref)
  return ref
}

/** Stops tracking a closed connection. */
function forget(ref) {
  open.delete(ref)
}

module.exports = { track, forget, closeConnectionsAtExit, FORCE_CLOSE }
