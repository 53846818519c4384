// Worker: inserts rows as one tenant through db.forTenant(), reading back after each insert.
// argv: dbPath, tenantId, rows. Prints a JSON summary; exits 1 on any error or any foreign row seen.
'use strict'
const { HardenedDb } = require('../..')

const [path, tenantId, count] = process.argv.slice(2)
const db = new HardenedDb(path)
const tenant = db.forTenant(tenantId)
const insert = tenant.prepare('INSERT INTO notes (body) VALUES (?)')
const seen = tenant.prepare('SELECT DISTINCT tenant_id FROM notes').pluck()
const errors = {}
let foreign = 0
for (let i = 0; i < Number(count); i++) {
  try {
    insert.run(`${tenantId}-${i}`)
    for (const id of seen.all()) if (id !== tenantId) foreign++
  } catch (error) {
    errors[error.code || error.message] = (errors[error.code || error.message] || 0) + 1
  }
}
const own = tenant.prepare('SELECT count(*) FROM notes').pluck().get()
tenant.close()
db.close()
console.log(JSON.stringify({ tenantId, own, foreign, errors }))
process.exit(Object.keys(errors).length === 0 && foreign === 0 ? 0 : 1)
