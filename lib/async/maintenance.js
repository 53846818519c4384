'use strict'
/**
 * Maintenance of the async handle, off the event loop, with the sync API's
 * argument checks and results: `checkpoint()`, `incrementalVacuum()`, `vacuum()`
 * and `optimize()` on the writer (in turn with writes), `integrityCheck()` on a
 * reader (it reads the whole file, and writes go on meanwhile).
 */
const { translate, typeError } = require('../errors')
const { describe, rangeError, checkOptions } = require('../arguments')
const { healthOptions } = require('../health')

/** Runs `job` on the connection `where` (`writer` or `reader`) of `pool`. */
function maintain(pool, where, job, mode, quick, pages, timeout) {
  const run = async (connection) => {
    const outcome = await connection.maintain(job, mode, quick, pages, timeout)
    if (outcome instanceof Error) throw translate(outcome)
    return outcome
  }
  return where === 'writer' ? pool.withWriter(undefined, run) : pool.withReader(undefined, run)
}

/**
 * `await db.checkpoint(mode, { timeout })`: `{ busy, walFrames, checkpointedFrames }`; FULL,
 * RESTART and TRUNCATE wait for readers at most `timeout` ms, as in the sync API.
 */
async function checkpoint(pool, mode = 'PASSIVE', options = undefined) {
  if (typeof mode !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the checkpoint mode to be a string such as "TRUNCATE", got ${describe(mode)}`)
  }
  const checked = checkOptions(options, { timeout: 'number' }, 'checkpoint')
  return (await maintain(pool, 'writer', 'checkpoint', mode, undefined, undefined, checked.timeout)).checkpoint
}

/** `await db.integrityCheck({ quick })`: the problems found, empty when sound. */
async function integrityCheck(pool, options) {
  const checked = checkOptions(options, { quick: 'boolean' }, 'integrityCheck')
  return (await maintain(pool, 'reader', 'integrityCheck', undefined, checked.quick ?? false)).problems
}

/** `await db.incrementalVacuum(pages)`: how many free pages were released. */
async function incrementalVacuum(pool, pages) {
  if (pages !== undefined && typeof pages !== 'number') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `incrementalVacuum(pages) takes a number of pages (omit it to free every page), got ${describe(pages)}`)
  }
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 1 || pages > 0xffffffff)) {
    throw rangeError('HARDENED_INVALID_ARGUMENT', `incrementalVacuum(pages) takes a whole number of pages from 1 to 4294967295 (omit it to free every page), got ${describe(pages)}`)
  }
  return (await maintain(pool, 'writer', 'incrementalVacuum', undefined, undefined, pages)).pages
}

/**
 * `await db.vacuum()`: `VACUUM` on the writer, after every write queued before it
 * (writes queued after it wait for it); resolves to how many pages the database shrank by.
 */
async function vacuum(pool) {
  return (await maintain(pool, 'writer', 'vacuum')).pages
}

/** `await db.optimize()`: `PRAGMA optimize`. */
async function optimize(pool) {
  await maintain(pool, 'writer', 'optimize')
}

/**
 * `await db.health(options)`: the sync `health()` report, built on the writer;
 * `migrations` is `{ source, flags }` of the `migrations` option, if given.
 */
async function health(pool, options, migrations) {
  const { integrity } = healthOptions(options)
  return pool.withWriter(undefined, async (writer) => {
    const outcome = await writer.health(integrity, migrations?.source, migrations?.flags)
    if (outcome instanceof Error) throw translate(outcome)
    return outcome.health
  })
}

module.exports = { checkpoint, integrityCheck, incrementalVacuum, vacuum, optimize, health }
