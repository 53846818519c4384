// Worker that takes an EXCLUSIVE lock on the database file and keeps it
// (`locking_mode = EXCLUSIVE` under unsafeMode(), then a write), says "holding", and lets go when
// stdin closes. argv: dbPath.
'use strict'
const { readSync } = require('node:fs')
const { HardenedDb } = require('../..')

const db = new HardenedDb(process.argv[2])
db.unsafeMode() // EXCLUSIVE locking is refused otherwise (HARDENED_WEAKER_PRAGMA); here it is the point
db.pragma('locking_mode = EXCLUSIVE')
db.exec("INSERT INTO marks VALUES ('holder')")
process.stdout.write('holding\n')
const buffer = Buffer.alloc(16)
while (readSync(0, buffer, 0, buffer.length, null) > 0) {
  // Keep the lock until the test closes stdin.
}
db.close()
