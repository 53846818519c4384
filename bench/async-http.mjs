// Issue 15 (b): an HTTP server answering a 100-row query per request under a
// loopback load generator, while another process writes, for the sync face,
// the async face and better-sqlite3 (bun:sqlite under Bun): requests/s and p99 latency.
// Run: node bench/async-http.mjs [seconds]   (servers run under Node `http`, and under `Bun.serve`
// when a bun binary is given as BUN=/path/to/bun). Roles: `server <driver> <db> <port>`, `writer <db>`.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const SELF = fileURLToPath(import.meta.url)
const QUERY = 'SELECT id, name, score FROM items WHERE id > ? ORDER BY id LIMIT 100'

async function handlerFor(driver, path) {
  if (driver === 'async') {
    const db = await require('../index.js').openAsync(path, { readers: 2 })
    const stmt = await db.prepare(QUERY)
    return async (n) => JSON.stringify(await stmt.all(n))
  }
  if (driver === 'bun:sqlite') {
    const { Database } = await import('bun:sqlite')
    const db = new Database(path)
    db.exec('PRAGMA busy_timeout = 5000')
    const stmt = db.prepare(QUERY)
    return (n) => JSON.stringify(stmt.all(n))
  }
  const Database = driver === 'bs3' ? require('better-sqlite3') : require('../index.js')
  const db = new Database(path)
  if (driver === 'bs3') db.pragma('busy_timeout = 5000')
  const stmt = db.prepare(QUERY)
  return (n) => JSON.stringify(stmt.all(n))
}

async function serve(driver, path, port) {
  const handle = await handlerFor(driver, path)
  const answer = async (url) => handle(Number(new URL(url, 'http://x').searchParams.get('n') ?? 0))
  if (typeof Bun !== 'undefined') {
    Bun.serve({ port, fetch: async (req) => new Response(await answer(req.url), { headers: { 'content-type': 'application/json' } }) })
  } else {
    http.createServer(async (req, res) => {
      const body = await answer(req.url)
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    }).listen(port)
  }
  console.log('ready')
}

function writer(path) {
  const db = new (require('../index.js'))(path)
  const insert = db.prepare('INSERT INTO log (at) VALUES (?)')
  const burst = db.transaction(() => { for (let i = 0; i < 50; i++) insert.run(Date.now()) })
  const tick = () => { burst(); setTimeout(tick, 2) }
  tick()
  console.log('ready')
}

function start(runtime, args) {
  const child = spawn(runtime, [SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ready = new Promise((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()))
  return { child, ready }
}

async function load(port, seconds, connections = 32) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const latencies = []
  const end = Date.now() + seconds * 1000
  const get = (n) => new Promise((resolve, reject) => {
    http.get({ port, path: `/?n=${n}`, agent }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject)
  })
  await Promise.all(Array.from({ length: connections }, async (_, c) => {
    for (let i = 0; Date.now() < end && i < 1_000_000; i++) {
      const t = performance.now()
      await get((c * 97 + i * 13) % 9000)
      latencies.push(performance.now() - t)
    }
  }))
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return { rps: latencies.length / seconds, p99: latencies[Math.floor(latencies.length * 0.99)] }
}

async function main() {
  const seconds = Number(process.argv[2] ?? 3)
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-http-'))
  const path = join(dir, 'bench.db')
  const setup = new (require('../index.js'))(path)
  setup.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL); CREATE TABLE log (id INTEGER PRIMARY KEY, at INTEGER)')
  const insert = setup.prepare('INSERT INTO items (name, score) VALUES (?, ?)')
  setup.transaction(() => { for (let i = 0; i < 10_000; i++) insert.run(`item-${i}`, i / 3) })()
  setup.close()
  const runtimes = [['node http', process.execPath], ...(process.env.BUN ? [['Bun.serve', process.env.BUN]] : [])]
  const w = start(process.execPath, ['writer', path])
  await w.ready
  console.log(`100-row query per request, 32 keep-alive connections, ${seconds} s each, another process writing:`)
  let port = 38000 + (process.pid % 1000)
  for (const [label, runtime] of runtimes) {
    // better-sqlite3 does not load in Bun: bun:sqlite is the peer there.
    for (const driver of ['sync', 'async', label === 'Bun.serve' ? 'bun:sqlite' : 'bs3']) {
      port++
      const s = start(runtime, ['server', driver, path, String(port)])
      await s.ready
      const { rps, p99 } = await load(port, seconds)
      s.child.kill()
      console.log(`  ${label.padEnd(9)} ${driver.padEnd(10)} ${rps.toFixed(0).padStart(6)} req/s  p99 ${p99.toFixed(1)} ms`)
    }
  }
  w.child.kill()
  rmSync(dir, { recursive: true, force: true })
}

const [role, ...rest] = process.argv.slice(2)
if (role === 'server') await serve(rest[0], rest[1], Number(rest[2]))
else if (role === 'writer') writer(rest[0])
else await main()
