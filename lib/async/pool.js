'use strict'
/**
 * The connections of the async handle and where each request goes: reads to
 * an idle reader (never behind a write), writes first-in first-out to the one
 * writer, `exec()` and transactions to the writer. A statement's kind is
 * learned on a reader the first time (`sqlite3_stmt_readonly`) and remembered.
 */
const { Lane } = require('./lane')
const { request, cursorStep, rowsOf } = require('./request')

/** Statements whose kind (read or write) is remembered. */
const KNOWN_LIMIT = 1000

/** The writer, the readers, their lanes, and the requests in flight. */
class Pool {
  #known = new Map()
  #inFlight = new Set()

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
  async withWriter(signal, fn) {
    const writer = await this.writerLane.acquire(signal)
    try {
      return await fn(writer)
    } finally {
      this.writerLane.release(writer)
    }
  }

  /** Runs `fn(reader)` on an idle reader. */
  async withReader(signal, fn) {
    const reader = await this.readerLane.acquire(signal)
    try {
      return await fn(reader)
    } finally {
      this.readerLane.release(reader)
    }
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
   * the loop early finalizes the statement and gives the connection back.
   */
  async * iterate(sql, args, flags, readonly) {
    const lane = readonly ? this.readerLane : this.writerLane
    const connection = await lane.acquire(flags.signal)
    let open = true
    try {
      let outcome = await cursorStep(connection, 'open', sql, args, flags)
      for (;;) {
        if (outcome.done) open = false
        yield * rowsOf(outcome)
        if (!open) break
        outcome = await cursorStep(connection, 'next', sql, [], flags)
      }
    } catch (error) {
      open = false
      throw error
    } finally {
      if (open) await cursorStep(connection, 'close', sql, [], flags).catch(() => {})
      lane.release(connection)
    }
  }

  #remember(sql, readonly) {
    if (this.#known.size >= KNOWN_LIMIT && !this.#known.has(sql)) this.#known.delete(this.#known.keys().next().value)
    this.#known.set(sql, readonly)
  }
}

module.exports = { Pool }
