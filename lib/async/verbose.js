'use strict'
/**
 * The `verbose` option of the async handle: `verbose(sql)`, `this` undefined,
 * on the JS thread, for each statement the caller runs, when it is called
 * (before it is queued, so before it runs); each statement of an `exec()`
 * script separately, with the text the sync face logs (src/async/script.rs).
 * A throw rejects the call with what was thrown, and nothing of it runs.
 * Parameters are not written into the text: the statement is bound on a pool
 * thread, after the logger ran (docs/async.md).
 */
const { splitScript } = require('../../binding.js')

/** The logger of `verbose`: `log(sql, mode)`, where `mode` `exec` means a script. */
function logger(verbose) {
  return (sql, mode) => {
    if (mode !== 'exec') {
      verbose.call(undefined, sql)
      return
    }
    for (const statement of splitScript(sql)) verbose.call(undefined, statement)
  }
}

module.exports = { logger }
