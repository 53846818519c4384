'use strict'
/**
 * `db.backup(destination, { attached, progress, overwrite })`, as better-sqlite3's:
 * the native job copies `rate` pages per event-loop turn (100 by default; the
 * `progress` callback may return another number, 0 pausing), then verifies the
 * copy and renames it into place (src/backup.rs).
 */
const { translate, typeError } = require('./errors')
const { describe, checkOptions } = require('./arguments')
const { wrap } = require('./statement')

/** Pages copied per turn unless `progress` returns another number. */
const DEFAULT_RATE = 100

/**
 * Checks `destination` and the options against `known` (option name to JS type), as
 * better-sqlite3 checks them; returns `{ path, checked }` (the trimmed path, the options).
 */
function checkBackupArguments(destination, options, known) {
  if (typeof destination !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the backup destination to be a file path (a string), got ${describe(destination)}`)
  }
  const checked = checkOptions(options, known, 'backup')
  const path = destination.trim()
  if (!path) throw typeError('HARDENED_INVALID_ARGUMENT', 'The backup destination cannot be an empty string; pass a path such as "backups/app.db"')
  if (path === ':memory:') throw typeError('HARDENED_INVALID_ARGUMENT', 'Invalid backup destination ":memory:"; pass a file path such as "backups/app.db"')
  if (path.includes('\0')) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `The backup destination ${describe(path)} contains a NUL character; pass a file path`)
  }
  return { path, checked }
}

/** Checks the arguments and starts the job; a promise of `{ totalPages, remainingPages }` (plus non-enumerable `path`, `bytes`). */
async function backup(native, destination, options) {
  const { path, checked } = checkBackupArguments(destination, options, { attached: 'string', progress: 'function', overwrite: 'boolean' })
  if (checked.attached === '') {
    throw typeError('HARDENED_INVALID_ARGUMENT', 'The "attached" option cannot be an empty string; pass "main" (the default) or the name of an attached database')
  }
  const job = wrap(() => native.startBackup(path, { attached: checked.attached, overwrite: checked.overwrite }))
  return run(job, checked.progress ?? null)
}

/**
 * The pages per step after the progress callback returned `returned`: `rate`
 * when it returned `undefined`, else the number rounded and clamped to
 * 0..2147483647 (`0` pauses); anything else is a `TypeError`.
 */
function nextRate(returned, rate) {
  if (returned === undefined) return rate
  if (typeof returned !== 'number' || Number.isNaN(returned)) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the progress callback to return a number of pages or undefined, got ${describe(returned)}`)
  }
  return Math.max(0, Math.min(0x7fffffff, Math.round(returned)))
}

/** Steps `job` once per turn (better-sqlite3's loop); `handler` may change the rate or abort by throwing. */
function run(job, handler) {
  let rate = 0
  let useDefault = true
  return new Promise((resolve, reject) => {
    setImmediate(function step() {
      try {
        const progress = job.transfer(rate)
        if (job.done) {
          resolve(result(job.finish()))
          return
        }
        if (useDefault) {
          useDefault = false
          rate = DEFAULT_RATE
        }
        if (handler) rate = nextRate(handler(progress), rate)
        setImmediate(step)
      } catch (error) {
        job.close()
        reject(translate(error))
      }
    })
  })
}

/** better-sqlite3's result object; `path` and `bytes` stay readable without changing its shape. */
function result({ totalPages, remainingPages, path, bytes }) {
  return Object.defineProperties({ totalPages, remainingPages }, { path: { value: path }, bytes: { value: bytes } })
}

module.exports = { backup, checkBackupArguments, nextRate, result, DEFAULT_RATE }
