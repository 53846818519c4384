// Worker: takes the write lock with a sync handle, prints "locked", holds it
// for holdMs (blocking its own thread), then commits one row and exits.
// argv: dbPath, holdMs.
'use strict'
const { HardenedDb } = require('../..')

const [path, holdMs] = process.argv.slice(2)
const db = new HardenedDb(path)
db.exec('BEGIN IMMEDIATE')
db.prepare("INSERT INTO t (v) VALUES ('holder')").run()
console.log('locked')
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs))
db.exec('COMMIT')
db.close()
