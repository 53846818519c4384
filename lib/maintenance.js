'use strict'
/**
 * Argument checks for the maintenance methods of `HardenedDb`: checkpoint,
 * backup, integrityCheck, incrementalVacuum, optimize, walSize.
 */
const { typeError } = require('./errors')
const { wrap } = require('./statement')

function rangeError(message) {
  const error = new RangeError(message)
  error.code = 'HARDENED_INVALID_ARGUMENT'
  return error
}

/** Rejects keys of `options` other than `known`, and a non-object. */
function checkOptions(options, known, what) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the ${what} options to be an object, got ${typeof options}`)
  }
  for (const [key, value] of Object.entries(options)) {
    if (!(key in known)) {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Unknown ${what} option "${key}"; valid options are ${Object.keys(known).join(', ')}`)
    }
    if (value !== undefined && typeof value !== known[key]) {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Option "${key}" of ${what} must be a ${known[key]}, got ${typeof value}`)
    }
  }
  return options
}

/** `db.checkpoint(mode)`: `{ busy, walFrames, checkpointedFrames }`. */
function checkpoint(native, mode = 'PASSIVE') {
  if (typeof mode !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the checkpoint mode to be a string such as "TRUNCATE", got ${typeof mode}`)
  }
  return wrap(() => native.checkpoint(mode))
}

/** `db.backup(destination, { overwrite })`: a promise of `{ totalPages, remainingPages, path, bytes }`. */
async function backup(native, destination, options) {
  if (typeof destination !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the backup destination to be a file path, got ${typeof destination}`)
  }
  const checked = checkOptions(options, { overwrite: 'boolean' }, 'backup')
  return wrap(() => native.backup(destination, { overwrite: checked.overwrite }))
}

/** `db.integrityCheck({ quick })`: the problems found, empty when sound. */
function integrityCheck(native, options) {
  const checked = checkOptions(options, { quick: 'boolean' }, 'integrityCheck')
  return wrap(() => native.integrityCheck(checked.quick ?? false))
}

/** `db.incrementalVacuum(pages)`: how many free pages were released. */
function incrementalVacuum(native, pages) {
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 1 || pages > 0xffffffff)) {
    throw rangeError(`incrementalVacuum(pages) takes a whole number of pages from 1 to 4294967295 (omit it to free every page), got ${pages}`)
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

module.exports = { checkpoint, backup, integrityCheck, incrementalVacuum, optimize, walSize }
