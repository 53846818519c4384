// Cold start: N processes (half Node, half Bun) open a database file that does
// not exist yet at the same moment, create a table, insert one row and close;
// then the same on a file whose writer was killed (so the first opener runs WAL
// recovery). Prints per case: processes that failed (by error code), open-to-close
// latency p50/max, and the CPU time the processes burnt on it. Bounded in time.
//
//   node bench/stress/cold-start.mjs            # 16 processes
//   COLD_PROCESSES=8 node bench/stress/cold-start.mjs
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const PROCESSES = Number(process.env.COLD_PROCESSES ?? 16)
const TIME_LIMIT_MS = 60_000
const BUN = join(root, 'node_modules', '.bin', 'bun')
/** The machine's own Node (see run.mjs). */
const NODE = process.env.PATH.split(':')
  .filter((dir) => dir && !dir.includes('node_modules'))
  .map((dir) => join(dir, 'node'))
  .find((candidate) => existsSync(candidate)) ?? process.execPath

/** One process: waits for the common start, then open, create, insert, close; prints { ms, cpuUs, error }. */
const WORKER = `
const { HardenedDb } = require(${JSON.stringify(root)})
const [path, startAt, id] = process.argv.slice(-3)
while (Date.now() < Number(startAt)) {}
const cpu0 = process.cpuUsage(); const t0 = process.hrtime.bigint()
let error = null
try {
  const db = new HardenedDb(path)
  db.exec('CREATE TABLE IF NOT EXISTS arrivals (worker INTEGER PRIMARY KEY, pid INTEGER)')
  db.prepare('INSERT INTO arrivals VALUES (?, ?)').run(Number(id), process.pid)
  db.close()
} catch (e) { error = e.code || e.message }
const cpu = process.cpuUsage(cpu0)
process.stdout.write(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuUs: cpu.user + cpu.system, error }) + '\\n')
`

function run(runtime, args) {
  return new Promise((resolve) => {
    const child = spawn(runtime, ['-e', WORKER, '--', ...args.map(String)], { cwd: root })
    let stdout = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS)
    child.stdout.on('data', (c) => (stdout += c))
    child.on('close', (code) => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      } catch {
        resolve({ ms: NaN, cpuUs: NaN, error: `exit ${code}` })
      }
    })
  })
}

async function coldStart(name, prepare) {
  const dir = mkdtempSync(join(tmpdir(), 'hs-cold-'))
  const path = join(dir, 'cold.db')
  prepare(path)
  const startAt = Date.now() + 150 * PROCESSES
  const results = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => run(i % 2 ? NODE : BUN, [path, startAt, i])))
  rmSync(dir, { recursive: true, force: true })
  const ms = results.map((r) => r.ms).sort((a, b) => a - b)
  const errors = {}
  for (const r of results) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1
  const cpuMs = results.reduce((sum, r) => sum + r.cpuUs, 0) / 1000
  console.log(`| ${name} | ${PROCESSES - Object.values(errors).reduce((a, b) => a + b, 0)} / ${PROCESSES} | ` +
    `${Object.entries(errors).map(([c, n]) => `${c} × ${n}`).join(', ') || '0'} | ${ms[Math.floor(ms.length / 2)].toFixed(1)} | ${ms[ms.length - 1].toFixed(1)} | ${cpuMs.toFixed(0)} |`)
}

/** Leaves a WAL file with committed frames behind, as a killed writer does. */
function killedWriter(path) {
  const code = `const { HardenedDb } = require(${JSON.stringify(root)}); const db = new HardenedDb(process.argv[1]);
    db.exec('CREATE TABLE arrivals (worker INTEGER PRIMARY KEY, pid INTEGER); INSERT INTO arrivals VALUES (-1, 0)');
    process.kill(process.pid, 'SIGKILL')`
  spawnSync(NODE, ['-e', code, path], { timeout: TIME_LIMIT_MS })
}

console.log(`| case | processes done | errors | open-to-close p50 ms | max ms | CPU ms, all processes |`)
console.log('| --- | --- | --- | --- | --- | --- |')
await coldStart('new file', () => {})
await coldStart('after a killed writer (WAL recovery)', killedWriter)
