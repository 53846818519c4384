'use strict'
/**
 * `closeOnSignal: true`: on SIGINT or SIGTERM, close those connections (the
 * last one checkpoints and removes `-wal`), then let the process end as it
 * would have: with no other listener for the signal, it is raised again with
 * the default action; with other listeners, they decide.
 */
const { FORCE_CLOSE } = require('./shutdown')

const SIGNALS = ['SIGINT', 'SIGTERM']
const registered = new Set()
let listening = false

function closeRegistered() {
  for (const db of registered) {
    try {
      // Even with an iterator open: nothing will finish it now.
      db[FORCE_CLOSE]()
    } catch {
      // Shutting down: the other connections still deserve their close.
    }
  }
  registered.clear()
}

function onSignal(signal) {
  closeRegistered()
  stopListening()
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function stopListening() {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal)
  listening = false
}

/** Closes `db` on SIGINT/SIGTERM until `unregister(db)`. */
function register(db) {
  registered.add(db)
  if (!listening) {
    for (const signal of SIGNALS) process.on(signal, onSignal)
    listening = true
  }
}

/** Stops watching `db` (it was closed); the last one removes the listeners. */
function unregister(db) {
  if (registered.delete(db) && registered.size === 0 && listening) stopListening()
}

module.exports = { register, unregister }
