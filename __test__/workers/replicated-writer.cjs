// Worker: writes `count` transactions of one row each to a database that
// Litestream replicates (option replication: "litestream"), printing each id
// once its commit has returned, then exits 0. With count 0 it writes until killed.
// argv: dbPath, writer (a name), count, pauseMs (between transactions, default 0).
'use strict'
const fs = require('node:fs')
const { HardenedDb } = require('../..')

const [path, writer, count, pause = '0'] = process.argv.slice(2)
const nap = new Int32Array(new SharedArrayBuffer(4))
const db = new HardenedDb(path, { replication: 'litestream', closeOnSignal: true })
db.exec('CREATE TABLE IF NOT EXISTS acked (writer TEXT NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (writer, seq))')
const insert = db.prepare('INSERT INTO acked (writer, seq, payload) VALUES (?, ?, randomblob(256))')
const write = db.transaction((seq) => insert.run(writer, seq))
const total = Number(count)

/**
 * Writes `line` to stdout before returning: `process.stdout` would queue it in this
 * process when the parent has not drained the pipe, until the event loop runs, which
 * this loop never lets it do; then the acknowledgements would lag behind the commits.
 */
function ack(line) {
  const bytes = Buffer.from(line)
  for (let offset = 0; offset < bytes.length;) {
    try {
      offset += fs.writeSync(1, bytes, offset)
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error
      Atomics.wait(nap, 0, 0, 1) // the pipe is full: the parent reads it soon
    }
  }
}

for (let seq = 1; total === 0 || seq <= total; seq++) {
  write(seq)
  ack(`${writer}:${seq}\n`)
  if (pause !== '0') Atomics.wait(nap, 0, 0, Number(pause))
}
db.close()
