// Worker: reads the counter and the log repeatedly, some reads held open.
// argv: dbPath, reads. Exits 1 on any error or on a counter that disagrees with the log.
'use strict'
const { HardenedDb } = require('../..')

const [path, reads] = process.argv.slice(2)
const db = new HardenedDb(path, { readonly: true })
const snapshot = db.transaction(() => [
  db.prepare('SELECT value FROM counter WHERE id = 1').pluck().get(),
  db.prepare('SELECT count(*) FROM log').pluck().get(),
]).deferred
let errors = 0
for (let i = 0; i < Number(reads); i++) {
  try {
    const [value, logged] = snapshot()
    if (value !== logged) errors++
  } catch (error) {
    console.error(error.code, error.message)
    errors++
  }
}
db.close()
console.log(JSON.stringify({ errors }))
process.exit(errors === 0 ? 0 : 1)
