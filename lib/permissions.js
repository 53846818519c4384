'use strict'
/**
 * Reports database files whose mode is wider than `fileMode` (the default
 * `permissions: "warn"`) through `process.emitWarning`, so it shows up in the
 * logs of every process that opens the database.
 */

/** Emits one `HARDENED_FILE_MODE` warning per message. */
function emitFileModeWarnings(messages) {
  for (const message of messages) {
    process.emitWarning(message, { type: 'HardenedDbWarning', code: 'HARDENED_FILE_MODE' })
  }
}

module.exports = { emitFileModeWarnings }
