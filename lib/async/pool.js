'use strict'
/**
 * The connections of the async handle and where each request goes: reads to
 * an idle reader (never behind a write), writes first-in first-out to the one
 * writer, `exec()` and transactions to the writer. A statement's kind is
 * learned on a reader the first time (`sqlite3_stmt_readonly`) and remembered.
 */
const { Lane } = require('./lane')
const { request, cursorStep, rowsOf } = require('./request')
const { typeError } = require('../errors')

/** Statements whose kind (read or write) is remembered. */
const KNOWN_LIMIT = 1000

/** The error a `for await` loop gets at its next row once `close()` was called. */
function closedWhileIterating() {
  return typeError(
    'HARDENED_NOT_OPEN',
    'The database was closed (db.close()) while this for await loop was reading: its statement was finalized and the ' +
      'rows after the ones already given were not read; let the loop end before calling close()',
  )
}

/** The writer, the readers, their lanes, the requests in flight and the open `iterate()` loops. */
class Pool {
  #known = new Map()
  #inFlight = new Set()
  #loops = new Set()
  #closing = false

  /** A pool over the open `writer` and `readers` (NativeAsyncConnection objects). */
  constructor(writer, readers) {
    this.writer = writer
    this.readers = readers
    this.writerLane = new Lane([writer])
    this.readerLane = new Lane(readers)
  }

  /** Counts `promise` as in flight until it settles (`close()` waits for these). */
  track(promise) {
    this.#inFlight.add(promise)
    const settled = () => this.#inFlight.delete(promise)
    promise.then(settled, settled)
    return promise
  }

  /** Resolves once every request in flight has settled. */
  async drain() {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Runs `fn(writer)` holding the writer, after every earlier writer request. */
  withWriter(signal, fn) {
    return holding(this.writerLane, signal, fn)
  }

  /** Runs `fn(reader)` on an idle reader. */
  withReader(signal, fn) {
    return holding(this.readerLane, signal, fn)
  }

  /**
   * Runs `mode` of `sql` where it belongs; `readonly` is the statement's kind
   * when known (a prepared statement), else it is learned on a reader. A write
   * takes its place in the writer's queue when it is called, even while a
   * reader is learning its kind, so writes run in call order.
   */
  async route(mode, sql, args, flags, readonly = this.#known.get(sql)) {
    if (mode === 'exec' || readonly === false) {
      return this.withWriter(flags.signal, (writer) => request(writer, mode, sql, args, { ...flags, reader: false }))
    }
    const ticket = readonly === true ? null : this.writerLane.acquire(flags.signal)
    // Handled at once: an abort may reject the ticket while the reader works.
    ticket?.catch(() => {})
    let outcome
    try {
      outcome = await this.withReader(flags.signal, (reader) => request(reader, mode, sql, args, { ...flags, reader: true }))
    } catch (error) {
      ticket?.then((writer) => this.writerLane.release(writer), () => {})
      throw error
    }
    if (outcome.kind !== 'reroute') {
      ticket?.then((writer) => this.writerLane.release(writer), () => {})
      this.#remember(sql, true)
      return outcome
    }
    this.#remember(sql, false)
    // A statement learned as a read may write after a schema change: it waits its turn from here.
    const writer = await (ticket ?? this.writerLane.acquire(flags.signal))
    try {
      return await request(writer, mode, sql, args, { ...flags, reader: false })
    } finally {
      this.writerLane.release(writer)
    }
  }

  /**
   * `for await (const row of stmt.iterate())`: holds a reader (the writer for a
   * statement that writes) for the whole loop, fetching rows in batches; leaving
   * the loop early finalizes the statement and gives the connection back. Once
   * `close()` was called, the loop's next row throws `HARDENED_NOT_OPEN` (see `endLoops()`).
   */
  async * iterate(sql, args, flags, readonly) {
    // The `verbose` logger, before the first row (as the sync iterate()).
    flags.log?.(sql)
    const lane = readonly ? this.readerLane : this.writerLane
    const connection = await lane.acquire(flags.signal)
    // open: the statement may still be open on the connection (until a batch says done).
    const loop = { connection, lane, open: true, ended: false, busy: null, finishing: null }
    if (this.#closing) {
      lane.release(connection)
      throw closedWhileIterating()
    }
    this.#loops.add(loop)
    try {
      let outcome = await this.#step(loop, 'open', sql, args, flags)
      for (;;) {
        for (const row of rowsOf(outcome)) {
          if (loop.ended) throw closedWhileIterating()
          yield row
        }
        if (!loop.open) break
        if (loop.ended) throw closedWhileIterating()
        outcome = await this.#step(loop, 'next', sql, [], flags)
      }
    } finally {
      this.#loops.delete(loop)
      await this.#finishLoop(loop)
    }
  }

  /**
   * Runs one batch step of `loop`; `loop.open` turns false once the statement
   * has no more rows. After a failed step it stays true: a step refused before it
   * ran (an abort between batches) leaves the statement open, so it is closed.
   */
  #step(loop, step, sql, args, flags) {
    loop.busy = cursorStep(loop.connection, step, sql, args, flags).then((outcome) => {
      if (outcome.done) loop.open = false
      return outcome
    })
    return loop.busy
  }

  /**
   * Once `loop`'s running step (if any) ended: finalizes its statement if still
   * open and gives its connection back. Once only, whoever asks first (the loop
   * ending, or `close()`).
   */
  #finishLoop(loop) {
    loop.finishing ??= (async () => {
      await loop.busy?.catch(() => {})
      if (loop.open) await cursorStep(loop.connection, 'close', '', [], {}).catch(() => {})
      loop.open = false
      loop.lane.release(loop.connection)
    })()
    return loop.finishing
  }

  /**
   * For `close()`: ends every open `for await` loop without waiting for it to
   * ask for its next row (it may be suspended, or be the code awaiting close()):
   * the batch being read finishes, the statement is finalized and the connection
   * given back, and the loop's next row throws `HARDENED_NOT_OPEN`. Loops that
   * start later fail at once.
   */
  async endLoops() {
    this.#closing = true
    await Promise.all([...this.#loops].map((loop) => {
      loop.ended = true
      return this.#finishLoop(loop)
    }))
  }

  #remember(sql, readonly) {
    if (this.#known.size >= KNOWN_LIMIT && !this.#known.has(sql)) this.#known.delete(this.#known.keys().next().value)
    this.#known.set(sql, readonly)
  }
}

/** Runs `fn(connection)` with a connection of `lane` (lib/async/lane.js), giving it back however `fn` ends. */
async function holding(lane, signal, fn) {
  const connection = await lane.acquire(signal)
  try {
    return await fn(connection)
  } finally {
    lane.release(connection)
  }
}

module.exports = { Pool }
