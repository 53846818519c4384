// Worker: waits for a shared start time, then opens a database that may not
// exist yet and inserts one row. argv: dbPath, startAtMs, workerId.
'use strict'
const { HardenedDb } = require('../..')

const [path, startAt, id] = process.argv.slice(2)
while (Date.now() < Number(startAt)) {
  // Spin: every process should open at the same moment.
}
const db = new HardenedDb(path)
db.exec('CREATE TABLE IF NOT EXISTS arrivals (worker INTEGER PRIMARY KEY, pid INTEGER)')
db.prepare('INSERT INTO arrivals VALUES (?, ?)').run(Number(id), process.pid)
db.close()
