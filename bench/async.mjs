// Async handle figures (issue 15): (c) per-call overhead of an async get()
// against the sync one, one at a time and 32 in flight; (a) throughput of an
// analytical query (about 10 ms) sync against async with 2 readers.
// Run: node bench/async.mjs   or   bun bench/async.mjs
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const HardenedDb = require('../index.js')
const dir = mkdtempSync(join(tmpdir(), 'hs-bench-async-'))
const path = join(dir, 'bench.db')

const setup = new HardenedDb(path)
setup.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)')
const insert = setup.prepare('INSERT INTO t (name, score) VALUES (?, ?)')
setup.transaction(() => { for (let i = 0; i < 200_000; i++) insert.run(`name-${i}`, i * 0.5) })()
const LOOKUP = 'SELECT id, name, score FROM t WHERE id = ?'
const REPORT = 'SELECT count(*) AS n, avg(score) AS a, max(length(name)) AS m FROM t WHERE name LIKE ?'

function usPerCall(ms, calls) { return ((ms * 1000) / calls).toFixed(2) }
const now = () => performance.now()

const sync = setup.prepare(LOOKUP)
const db = await HardenedDb.openAsync(path, { readers: 2 })
const stmt = await db.prepare(LOOKUP)

const calls = 20_000
for (let i = 0; i < 2000; i++) sync.get(1 + (i % 1000))
let t = now()
for (let i = 0; i < calls; i++) sync.get(1 + (i % 1000))
const syncMs = now() - t

for (let i = 0; i < 2000; i++) await stmt.get(1 + (i % 1000))
t = now()
for (let i = 0; i < calls; i++) await stmt.get(1 + (i % 1000))
const asyncSeqMs = now() - t

t = now()
for (let i = 0; i < calls; i += 32) await Promise.all(Array.from({ length: 32 }, (_, j) => stmt.get(1 + ((i + j) % 1000))))
const asyncBatchMs = now() - t

const reportSync = setup.prepare(REPORT)
reportSync.get('%1%')
t = now()
const reports = 60
for (let i = 0; i < reports; i++) reportSync.get('%1%')
const reportSyncMs = now() - t
const reportAsync = await db.prepare(REPORT)
await reportAsync.get('%1%')
const cpu0 = process.cpuUsage()
t = now()
await Promise.all(Array.from({ length: reports }, () => reportAsync.get('%1%')))
const reportAsyncMs = now() - t
const cpu = process.cpuUsage(cpu0)
const coresUsed = (cpu.user + cpu.system) / 1000 / reportAsyncMs

await db.close()
setup.close()
rmSync(dir, { recursive: true, force: true })

const runtime = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`
console.log(`${runtime}, ${calls} primary-key lookups (1 row, 3 columns):`)
console.log(`  sync get():                ${usPerCall(syncMs, calls)} µs/call`)
console.log(`  await get(), one at a time: ${usPerCall(asyncSeqMs, calls)} µs/call`)
console.log(`  get(), 32 in flight:        ${usPerCall(asyncBatchMs, calls)} µs/call`)
console.log(`${reports} report queries (${(reportSyncMs / reports).toFixed(1)} ms each, sync):`)
console.log(`  sync: ${(reports / (reportSyncMs / 1000)).toFixed(1)}/s, async with 2 readers: ${(reports / (reportAsyncMs / 1000)).toFixed(1)}/s (${(reportSyncMs / reportAsyncMs).toFixed(2)}x; the process used ${coresUsed.toFixed(2)} cores meanwhile)`)
