// Worker: async transactions that each insert one row, printing the row's id
// once its transaction was acknowledged (the promise resolved); runs until killed
// or `limit` transactions. argv: dbPath, limit.
'use strict'
const { HardenedDb } = require('../..')

const [path, limit] = process.argv.slice(2)

async function main() {
  const db = await HardenedDb.openAsync(path, { readers: 1 })
  for (let i = 1; i <= Number(limit); i++) {
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO acked (id, pad) VALUES (?, randomblob(2000))', i)
      // Work inside the transaction after the write, so a kill often lands mid-transaction.
      await tx.get('SELECT count(*) FROM acked')
    })
    process.stdout.write(`${i}\n`)
  }
  await db.close()
}
main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
