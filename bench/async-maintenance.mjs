// Async handle figures (issue 15): how long backup() and VACUUM take, and the
// worst event-loop delay meanwhile (a 1 ms setInterval), sync against async, on
// a database of about 40 MB (20,000 rows of a 2,000-byte BLOB).
// Run: node bench/async-maintenance.mjs   or   bun bench/async-maintenance.mjs
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const HardenedDb = require('../index.js')
const dir = mkdtempSync(join(tmpdir(), 'hs-bench-upkeep-'))
const path = join(dir, 'bench.db')

const setup = new HardenedDb(path)
setup.exec('CREATE TABLE t (b BLOB); WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c LIMIT 20000) INSERT INTO t SELECT randomblob(2000) FROM c')

/** Runs `fn`; prints its wall time and the longest gap between two ticks of a 1 ms timer, the end included. */
async function measure(label, fn) {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 1)
  const started = performance.now()
  await fn()
  const took = performance.now() - started
  worst = Math.max(worst, performance.now() - last)
  clearInterval(timer)
  console.log(`${label.padEnd(20)} ${took.toFixed(0).padStart(5)} ms, worst event-loop delay ${worst.toFixed(1)} ms`)
}

await measure('sync backup()', () => setup.backup(join(dir, 'sync-copy.db')))
await measure('sync exec("VACUUM")', async () => setup.exec('VACUUM'))
setup.close()
const db = await HardenedDb.openAsync(path)
await measure('async backup()', () => db.backup(join(dir, 'async-copy.db')))
await measure('async vacuum()', () => db.vacuum())
await db.close()
rmSync(dir, { recursive: true, force: true })
