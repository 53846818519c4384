// Stress: N writer and M reader processes on one database file, for
// hardened-sqlite (under Node and under Bun) and better-sqlite3 (under Node,
// default settings plus the same pragmas). Bounded in operations and time.
//
//   npm run stress                      # 8 writers, 4 readers (one holding long reads), 300 ops each
//   STRESS_WRITERS=4 STRESS_OPS=100 npm run stress
//   STRESS_THINK_US=500 npm run stress    # µs of work between read and write (default 200)
//   STRESS_SQLITE_HANDLER=1 npm run stress # hardened-sqlite with SQLite's own busy handler, for comparison
//
// Prints one comparison table: completed operations, errors by code, write
// latency p50/p99/max, CPU time the writers burnt (their work plus their
// waiting: a waiter that polls burns more), final -wal size, and whether the acknowledged rows are
// exactly the rows present and integrity_check is ok.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const WRITERS = Number(process.env.STRESS_WRITERS ?? 8)
const READERS = Number(process.env.STRESS_READERS ?? 4)
const OPS = Number(process.env.STRESS_OPS ?? 300)
const TIME_LIMIT_MS = Number(process.env.STRESS_TIME_LIMIT_MS ?? 120_000)
const BUN = join(root, 'node_modules', '.bin', 'bun')
/**
 * The machine's own Node: under `npm run`, node_modules/.bin (with the newer
 * Node of the devDependency `node`) comes first on PATH, but better-sqlite3
 * was built for the Node that ran `npm ci`.
 */
const NODE = process.env.PATH.split(':')
  .filter((dir) => dir && !dir.includes('node_modules'))
  .map((dir) => join(dir, 'node'))
  .find((candidate) => existsSync(candidate)) ?? process.execPath

const scenarios = [
  { name: 'hardened-sqlite (Node)', driver: 'hardened', runtime: NODE },
  { name: 'hardened-sqlite (Bun)', driver: 'hardened', runtime: BUN },
  { name: 'better-sqlite3 (Node)', driver: 'better-sqlite3', runtime: NODE },
]

function runWorker(runtime, args) {
  return new Promise((resolve) => {
    const child = spawn(runtime, [join(here, 'worker.cjs'), ...args.map(String)], { cwd: root })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS)
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('close', (code) => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      } catch {
        resolve({ role: 'crashed', errors: { [`exit ${code}: ${stderr.trim().split('\n').pop()}`]: 1 }, latenciesUs: [], acked: [] })
      }
    })
  })
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function runScenario({ name, driver, runtime }) {
  const dir = mkdtempSync(join(tmpdir(), 'hs-stress-'))
  const path = join(dir, 'stress.db')
  const { HardenedDb } = require(root)
  const setup = new HardenedDb(path)
  setup.exec(`CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);
              INSERT INTO counter VALUES (1, 0);
              CREATE TABLE items (writer INTEGER, seq INTEGER, payload BLOB, PRIMARY KEY (writer, seq));`)
  setup.close()

  const startAt = Date.now() + 300 * (WRITERS + READERS) // all processes loaded by then, on 2 cores too
  const started = Date.now()
  const jobs = []
  for (let i = 0; i < WRITERS; i++) jobs.push(runWorker(runtime, [driver, 'writer', path, OPS, i, startAt]))
  for (let i = 0; i < READERS; i++) jobs.push(runWorker(runtime, [driver, i === 0 ? 'long-reader' : 'reader', path, OPS, i, startAt]))
  const results = await Promise.all(jobs)
  const seconds = (Date.now() - started) / 1000
  const walBytes = existsSync(path + '-wal') ? statSync(path + '-wal').size : 0

  const errors = {}
  let completed = 0
  let attempted = 0
  const latencies = []
  const acked = new Set()
  let writerCpuUs = 0
  for (const r of results) {
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n
    attempted += r.ops ?? 0
    completed += (r.ops ?? 0) - Object.values(r.errors).reduce((a, b) => a + b, 0)
    latencies.push(...r.latenciesUs)
    if (r.role === 'writer') for (const seq of r.acked) acked.add(`${r.id}:${seq}`)
    if (r.role === 'writer') writerCpuUs += r.cpuUs ?? NaN
  }
  latencies.sort((a, b) => a - b)

  const check = new HardenedDb(path)
  const present = new Set(check.prepare('SELECT writer, seq FROM items').raw().all().map(([w, s]) => `${w}:${s}`))
  const exact = present.size === acked.size && [...acked].every((k) => present.has(k))
  const integrity = check.pragma('integrity_check', { simple: true })
  check.close()
  rmSync(dir, { recursive: true, force: true })

  return { name, attempted, completed, errors, seconds, walBytes, exact, integrity, writerCpuUs,
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN }
}

const fmtMs = (us) => (us / 1000).toFixed(us < 10_000 ? 2 : 0)
console.log(`stress: ${WRITERS} writers + ${READERS} readers (1 holding 20 ms reads), ${OPS} ops each; ` +
  `writers alternate single inserts and read-then-write transactions ` +
  `(${process.env.STRESS_THINK_US ?? 200} µs of work between read and write)`)
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${process.platform} ${process.arch}; workers on ${NODE} and ${BUN}`)
const rows = []
for (const scenario of scenarios) rows.push(await runScenario(scenario))

console.log('\n| driver | ops done / tried | errors | write p50 ms | write p99 ms | write max ms | writer CPU s | final -wal | acknowledged rows exact | integrity |')
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const r of rows) {
  const errors = Object.entries(r.errors).map(([c, n]) => `${c} × ${n}`).join(', ') || '0'
  console.log(`| ${r.name} | ${r.completed} / ${r.attempted} | ${errors} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(r.max)} | ${(r.writerCpuUs / 1e6).toFixed(2)} | ${(r.walBytes / 1024).toFixed(0)} KiB | ${r.exact ? 'yes' : 'NO'} | ${r.integrity} |`)
}
const base = rows.find((r) => r.name.startsWith('better-sqlite3'))
for (const r of rows.filter((r) => r !== base)) {
  console.log(`${r.name}: max write latency ${(r.max / base.max).toFixed(2)}× better-sqlite3's, p99 ${(r.p99 / base.p99).toFixed(2)}×`)
}
const bad = rows.filter((r) => !r.exact || r.integrity !== 'ok')
process.exit(bad.length === 0 ? 0 : 1)
