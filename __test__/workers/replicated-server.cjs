// Worker: the app of docs/replication.md's recipe, started by `litestream replicate -exec`.
// Opens $APP_DB as the recipe does, prints "ready <rows already there>", then writes one
// row every 5 ms and prints "app:<seq>" once each commit returns, until SIGTERM
// (closeOnSignal closes the connection, then the signal ends the process) or 3000 rows.
'use strict'
const { HardenedDb } = require('../..')

const db = new HardenedDb(process.env.APP_DB, {
  replication: 'litestream',
  migrations: process.env.APP_MIGRATIONS,
  closeOnSignal: true,
  healthCheck: true,
})
db.exec('CREATE TABLE IF NOT EXISTS acked (writer TEXT NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (writer, seq))')
let seq = db.prepare('SELECT count(*) FROM acked').pluck().get()
process.stdout.write(`ready ${seq}\n`)
const insert = db.prepare("INSERT INTO acked (writer, seq, payload) VALUES ('app', ?, randomblob(256))")
const last = seq + 3000
const timer = setInterval(() => {
  if (!db.open || seq >= last) return clearInterval(timer)
  seq += 1
  insert.run(seq)
  process.stdout.write(`app:${seq}\n`)
}, 5)
