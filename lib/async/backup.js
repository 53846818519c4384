'use strict'
/**
 * `await db.backup(destination, { progress, overwrite })` of the async handle:
 * the sync backup's job (src/backup.rs: destination checks, a temporary file
 * with `fileMode`, fsync, `integrity_check`, an atomic rename) stepped on the
 * thread pool, `rate` pages per step (100 by default; `progress` may return
 * another number, 0 pausing), from a read-only connection of its own
 * (src/async/backup.rs), so the pool keeps serving reads and writes meanwhile.
 */
const { NativeAsyncBackup } = require('../../binding.js')
const { translate } = require('../errors')
const { checkBackupArguments, nextRate, result, DEFAULT_RATE } = require('../backup')

/** Throws the error a native backup task resolved to, or returns its outcome. */
function settled(outcome) {
  if (outcome instanceof Error) throw translate(outcome)
  return outcome
}

/**
 * Backs up the database at `source.path` (opened with `source.native`) to
 * `destination`; `running` is a set the job is kept in while it runs (for
 * `abortNow()` at process exit). Resolves to `{ totalPages, remainingPages }`
 * (plus non-enumerable `path` and `bytes`), as the sync `backup()`.
 */
async function backup(source, destination, options, running) {
  const { path, checked } = checkBackupArguments(destination, options, { progress: 'function', overwrite: 'boolean' })
  const handler = checked.progress ?? null
  const job = new NativeAsyncBackup()
  running.add(job)
  try {
    settled(await job.start(source.path, source.native, path, checked.overwrite))
    // As the sync loop: a first step of no page reads the page count, then DEFAULT_RATE pages per step.
    let rate = 0
    let useDefault = true
    let progress = null
    for (;;) {
      if (rate > 0 || progress === null) progress = settled(await job.step(rate))
      else await new Promise((resolve) => setImmediate(resolve)) // paused (rate 0): one turn, then ask again
      if (progress.done) return result(settled(await job.finish()))
      if (useDefault) {
        useDefault = false
        rate = DEFAULT_RATE
      }
      if (handler) rate = nextRate(handler({ totalPages: progress.totalPages, remainingPages: progress.remainingPages }), rate)
    }
  } catch (error) {
    await job.abort()
    throw error
  } finally {
    running.delete(job)
  }
}

module.exports = { backup }
