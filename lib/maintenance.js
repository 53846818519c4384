'use strict'
/**
 * Argument checks for the maintenance methods of `HardenedDb`: checkpoint,
 * integrityCheck, incrementalVacuum, optimize, walSize.
 */
const { typeError } = require('./errors')
const { describe, rangeError, checkOptions } = require('./arguments')
const { wrap } = require('./statement')

/**
 * `db.checkpoint(mode, { timeout })`: `{ busy, walFrames, checkpointedFrames }`. FULL, RESTART
 * and TRUNCATE wait for readers at most `timeout` ms (default 1000, capped by the busy timeout;
 * always 0 with option `replication`), holding the write lock meanwhile; then they report busy.
 */
function checkpoint(native, mode = 'PASSIVE', options = undefined) {
  if (typeof mode !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the checkpoint mode to be a string such as "TRUNCATE", got ${describe(mode)}`)
  }
  const checked = checkOptions(options, { timeout: 'number' }, 'checkpoint')
  return wrap(() => native.checkpoint(mode, checked.timeout))
}

/** `db.integrityCheck({ quick })`: the problems found, empty when sound. */
function integrityCheck(native, options) {
  const checked = checkOptions(options, { quick: 'boolean' }, 'integrityCheck')
  return wrap(() => native.integrityCheck(checked.quick ?? false))
}

/** `db.incrementalVacuum(pages)`: how many free pages were released. */
function incrementalVacuum(native, pages) {
  if (pages !== undefined && typeof pages !== 'number') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `incrementalVacuum(pages) takes a number of pages (omit it to free every page), got ${describe(pages)}`)
  }
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 1 || pages > 0xffffffff)) {
    throw rangeError(
      'HARDENED_INVALID_ARGUMENT',
      `incrementalVacuum(pages) takes a whole number of pages from 1 to 4294967295 (omit it to free every page), got ${describe(pages)}`,
    )
  }
  return wrap(() => native.incrementalVacuum(pages))
}

/** `db.optimize()`: `PRAGMA optimize`. */
function optimize(native) {
  wrap(() => native.optimize())
}

/** `db.walSize()`: bytes in `-wal`. */
function walSize(native) {
  return wrap(() => native.walSize())
}

module.exports = { checkpoint, integrityCheck, incrementalVacuum, optimize, walSize }
