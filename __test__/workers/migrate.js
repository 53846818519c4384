// One process of the concurrent-migration test: waits until the shared start
// time, opens the database with the migrations directory, and prints what it
// what it saw as JSON ({ ok: true, again, current } or { ok: false, code, message }).
'use strict'
const { HardenedDb } = require('../..')

const [dbPath, migrationsDir, startAtText] = process.argv.slice(2)
const startAt = Number(startAtText)

// Sleep (not spin) until just before the start time, then spin the last milliseconds
// so every process calls the constructor at the same moment.
const sleeper = new Int32Array(new SharedArrayBuffer(4))
if (startAt - Date.now() > 5) Atomics.wait(sleeper, 0, 0, startAt - Date.now() - 5)
while (Date.now() < startAt) {
  // spin
}

let result
try {
  const db = new HardenedDb(dbPath, { migrations: migrationsDir })
  // The constructor migrated; a second, explicit migrate() must find nothing to do.
  const again = db.migrate().applied.length
  result = { ok: true, again, current: db.pragma('user_version', { simple: true }) }
  db.close()
} catch (error) {
  result = { ok: false, code: error.code, message: error.message }
}
process.stdout.write(JSON.stringify(result) + '\n')
process.exitCode = result.ok ? 0 : 1
