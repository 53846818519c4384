// Worker: inserts rows forever (some alone, some in batches) and prints each
// id once its commit has returned. The parent kills it with SIGKILL.
// argv: dbPath, firstId.
'use strict'
const { HardenedDb } = require('../..')

const [path, first] = process.argv.slice(2)
const db = new HardenedDb(path)
db.exec('CREATE TABLE IF NOT EXISTS acked (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)')
const insert = db.prepare('INSERT INTO acked (id, payload) VALUES (?, randomblob(512))')
const batch = db.transaction((ids) => { for (const id of ids) insert.run(id) })
for (let id = Number(first); ; ) {
  if (id % 3 === 0) {
    const ids = [id, id + 1, id + 2, id + 3]
    batch(ids)
    process.stdout.write(ids.join('\n') + '\n')
    id += ids.length
  } else {
    insert.run(id)
    process.stdout.write(`${id}\n`)
    id += 1
  }
}
