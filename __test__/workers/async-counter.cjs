// Worker: read-then-write transactions of the async handle on a shared counter.
// argv: dbPath, writerId, transactions. Prints a JSON summary; exits 1 on any error.
'use strict'
const { HardenedDb } = require('../..')

const [path, id, count] = process.argv.slice(2)

async function main() {
  const errors = {}
  const db = await HardenedDb.openAsync(path, { readers: 1 })
  for (let seq = 0; seq < Number(count); seq++) {
    try {
      await db.transaction(async (tx) => {
        const { value } = await tx.get('SELECT value FROM counter WHERE id = 1')
        await tx.run('UPDATE counter SET value = ? WHERE id = 1', value + 1)
        await tx.run('INSERT INTO log (writer, seq) VALUES (?, ?)', Number(id), seq)
      })
    } catch (error) {
      errors[error.code || error.message] = (errors[error.code || error.message] || 0) + 1
    }
  }
  await db.close()
  console.log(JSON.stringify({ id: Number(id), errors }))
  process.exitCode = Object.keys(errors).length === 0 ? 0 : 1
}
main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
