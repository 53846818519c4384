// Worker: while another process holds the write lock, queues one async write
// (it waits for the lock on a pool thread) and serves `reads` async reads,
// measuring the event loop's delay with a 5 ms setInterval.
// argv: dbPath, reads. Prints { reads, maxDelayMs, writeDone, elapsedMs }.
'use strict'
const { HardenedDb } = require('../..')

const [path, reads] = process.argv.slice(2)

async function main() {
  const db = await HardenedDb.openAsync(path, { readers: 2 })
  const started = Date.now()
  let last = Date.now()
  let maxDelayMs = 0
  const tick = setInterval(() => {
    const now = Date.now()
    maxDelayMs = Math.max(maxDelayMs, now - last - 5)
    last = now
  }, 5)
  let writeDone = false
  const write = db.run("INSERT INTO t (v) VALUES ('async')").then(() => (writeDone = true))
  let served = 0
  const stmt = await db.prepare('SELECT count(*) AS n FROM t WHERE v IS NOT NULL')
  for (let i = 0; i < Number(reads); i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => stmt.get()))
    served += batch.filter((row) => typeof row.n === 'number').length
  }
  const writeDoneBeforeReads = writeDone
  await write
  clearInterval(tick)
  await db.close()
  console.log(JSON.stringify({ reads: served, maxDelayMs, writeDoneBeforeReads, writeDone, elapsedMs: Date.now() - started }))
}
main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
