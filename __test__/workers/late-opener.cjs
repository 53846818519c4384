// Worker that opens a database another process holds locked, reads one row
// and prints one JSON line: { outcome: 'ok' | error code, waitedMs }.
// argv: dbPath, busyTimeout, readonly ('readonly' or 'readwrite').
'use strict'
const { HardenedDb } = require('../..')

const [path, busyTimeout, mode] = process.argv.slice(2)
const started = Date.now()
let outcome = 'ok'
try {
  const db = new HardenedDb(path, { busyTimeout: Number(busyTimeout), readonly: mode === 'readonly' })
  db.prepare('SELECT count(*) FROM marks').pluck().get()
  db.close()
} catch (error) {
  outcome = error.code
}
process.stdout.write(JSON.stringify({ outcome, waitedMs: Date.now() - started }) + '\n')
