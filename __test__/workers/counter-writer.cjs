// Worker: runs read-then-write transactions on a shared counter.
// argv: dbPath, writerId, transactions. Prints a JSON summary; exits 1 on any error.
'use strict'
const { HardenedDb } = require('../..')

const [path, id, count] = process.argv.slice(2)
const errors = {}
const db = new HardenedDb(path)
const read = db.prepare('SELECT value FROM counter WHERE id = 1').pluck()
const write = db.prepare('UPDATE counter SET value = ? WHERE id = 1')
const log = db.prepare('INSERT INTO log (writer, seq) VALUES (?, ?)')
const increment = db.transaction((seq) => {
  const value = read.get()
  write.run(value + 1)
  log.run(Number(id), seq)
})
for (let seq = 0; seq < Number(count); seq++) {
  try {
    increment(seq)
  } catch (error) {
    errors[error.code || error.message] = (errors[error.code || error.message] || 0) + 1
  }
}
db.close()
console.log(JSON.stringify({ id: Number(id), errors }))
process.exit(Object.keys(errors).length === 0 ? 0 : 1)
