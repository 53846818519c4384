'use strict'
/**
 * A first-in first-out lock over one connection (the writer) or a set of
 * connections (the readers): callers wait their turn, and a caller whose
 * `AbortSignal` fires while it waits leaves the queue without running.
 */
const { abortedError } = require('./abort')

/** FIFO lock over the connections in `items`; `acquire()` resolves to one of them. */
class Lane {
  #idle
  #waiting = []

  /** A lane over `items` (one item: a mutual exclusion lock). */
  constructor(items) {
    this.#idle = [...items]
  }

  /** Resolves to an idle item once every earlier caller got one; rejects with HARDENED_ABORTED on `signal`. */
  acquire(signal) {
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason, 'while it waited for a connection'))
    if (this.#idle.length > 0 && this.#waiting.length === 0) return Promise.resolve(this.#idle.pop())
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, signal, onAbort: null }
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiting.indexOf(waiter)
          if (i !== -1) this.#waiting.splice(i, 1)
          reject(abortedError(signal.reason, 'while it waited for a connection'))
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#waiting.push(waiter)
    })
  }

  /** Gives `item` back: to the first waiter, else to the idle set. */
  release(item) {
    const next = this.#waiting.shift()
    if (next === undefined) {
      this.#idle.push(item)
      return
    }
    if (next.onAbort) next.signal.removeEventListener('abort', next.onAbort)
    next.resolve(item)
  }

  /** Callers waiting now. */
  get waiting() {
    return this.#waiting.length
  }
}

module.exports = { Lane }
