// `npm run bench`: hardened-sqlite against the fastest SQLite drivers of each
// runtime and a native baseline, in interleaved rounds with every driver in a
// fresh process per round. Prints the machine, the versions, a markdown table
// of median ops/s and the medians of paired ratios, and a memory check.
//
// Environment (all optional):
//   BENCH_QUICK=1            2 rounds, short timings, a tenth of the memory calls
//   BENCH_ROUNDS=5           rounds
//   BENCH_WARMUP_MS=150      warm-up per workload per process
//   BENCH_TIME_MS=400        timed run per workload per process
//   BENCH_DRIVERS=a,b        only these drivers (ids below)
//   BENCH_WORKLOADS=get,all  only these workloads
//   BENCH_MEMORY=0           skip the memory check
//   BENCH_CLOCK=cpu          ops per second of CPU time, not wall time (for a shared machine)
//   BENCH_MEMORY_GETS=1000000, BENCH_MEMORY_ALLS=100000  calls in the memory check
//   BENCH_MEMORY_CYCLES=100000  prepare + run + drop cycles in the memory check
//   BENCH_MEMORY_PEERS=1     the memory check also runs better-sqlite3 and bun:sqlite (when selected)
//   BENCH_ROWS=10000         rows in the read table
//   BENCH_OUT=file.md        also write the report there
//   BENCH_JSON=file.json     also write every round's ops/s there
//   BENCH_NODE, BENCH_NODE22, BENCH_BUN   runtime binaries
//   NAPI_RS_NATIVE_LIBRARY_PATH           the hardened-sqlite .node to load
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LABELS, ROWS, SCHEMA, WORKLOADS, rowValues } from './workloads.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..')
const env = process.env
const quick = env.BENCH_QUICK === '1'
const config = {
  rounds: Number(env.BENCH_ROUNDS ?? (quick ? 2 : 5)),
  warmupMs: Number(env.BENCH_WARMUP_MS ?? (quick ? 50 : 150)),
  timeMs: Number(env.BENCH_TIME_MS ?? (quick ? 150 : 400)),
  memoryGets: Number(env.BENCH_MEMORY_GETS ?? (quick ? 100_000 : 1_000_000)),
  memoryAlls: Number(env.BENCH_MEMORY_ALLS ?? (quick ? 10_000 : 100_000)),
  memoryCycles: Number(env.BENCH_MEMORY_CYCLES ?? (quick ? 10_000 : 100_000)),
  memory: env.BENCH_MEMORY !== '0',
  workloads: env.BENCH_WORKLOADS ? env.BENCH_WORKLOADS.split(',') : WORKLOADS,
}

/** The first executable `name` on PATH outside any node_modules (npm puts the `node` package's first). */
function systemBinary(name) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir.includes('node_modules')) continue
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

const runtimes = {
  node: env.BENCH_NODE ?? systemBinary('node'),
  node22: env.BENCH_NODE22 ?? join(ROOT, 'node_modules/node/bin/node'),
  bun: env.BENCH_BUN ?? join(ROOT, 'node_modules/.bin/bun'),
}
const NATIVE_BIN = join(HERE, 'native/target/release/hardened-sqlite-bench-native')

function runtimeVersion(bin) {
  if (!bin || !existsSync(bin)) return undefined
  const out = spawnSync(bin, ['-e', 'console.log(process.versions.bun ? "Bun " + process.versions.bun : "Node " + process.versions.node)'], { encoding: 'utf8' })
  return out.status === 0 ? out.stdout.trim() : undefined
}
const versions = Object.fromEntries(Object.entries(runtimes).map(([k, bin]) => [k, runtimeVersion(bin)]))

/** Every driver: its library, the runtime it runs on, and a short column label. */
const major = (version) => (version ?? '').replace(/\.\d+\.\d+$/, '')
const ALL_DRIVERS = [
  { id: 'native', library: 'native (Rust, rusqlite)', runtime: null, label: 'native' },
  { id: 'hardened-node', library: 'hardened-sqlite', runtime: 'node', module: 'hardened', label: `hardened (${major(versions.node)})` },
  { id: 'better-sqlite3', library: 'better-sqlite3', runtime: 'node', module: 'better-sqlite3', label: `better-sqlite3 (${major(versions.node)})` },
  { id: 'hardened-bun', library: 'hardened-sqlite', runtime: 'bun', module: 'hardened', label: 'hardened (Bun)' },
  { id: 'bun-sqlite', library: 'bun:sqlite', runtime: 'bun', module: 'bun-sqlite', label: 'bun:sqlite' },
  { id: 'hardened-bun-face', library: 'hardened-sqlite/bun', runtime: 'bun', module: 'hardened-bun-face', label: 'hardened/bun (Bun)' },
  { id: 'hardened-node22', library: 'hardened-sqlite', runtime: 'node22', module: 'hardened', label: `hardened (${major(versions.node22)})` },
  { id: 'node-sqlite', library: 'node:sqlite', runtime: 'node22', module: 'node-sqlite', label: `node:sqlite (${major(versions.node22)})` },
]
const wanted = env.BENCH_DRIVERS ? new Set(env.BENCH_DRIVERS.split(',')) : null
const drivers = ALL_DRIVERS.filter((d) => (wanted ? wanted.has(d.id) : true) && (d.runtime === null || versions[d.runtime]))

/** The comparisons the issue sets targets for: [ours, theirs, { workload: target }]. */
const TARGETS = [
  ['hardened-node', 'better-sqlite3', { get: 1.0, all: 1.5, iterate: 1.5, insert: 1.0, insert100: 1.0, open: 0.8 }],
  ['hardened-bun', 'bun-sqlite', { get: 0.8, all: 0.8, iterate: 0.8, insert: 0.8, insert100: 0.8, open: 0.8 }],
  ['hardened-bun-face', 'bun-sqlite', { get: 0.9, all: 0.9, iterate: 0.9, insert: 0.9, insert100: 0.9 }],
  ['hardened-node22', 'node-sqlite', {}],
]

const log = (...args) => console.error('[bench]', ...args)

function buildNative() {
  log('building the native baseline (cargo build --release --manifest-path bench/native/Cargo.toml)')
  const built = spawnSync('cargo', ['build', '--release', '--quiet', '--manifest-path', join(HERE, 'native/Cargo.toml')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (built.status !== 0) throw new Error('building bench/native failed; see the cargo output above')
}

function seed(path) {
  const require = createRequire(import.meta.url)
  const { HardenedDb } = require('../index.js')
  const db = new HardenedDb(path)
  db.exec(SCHEMA)
  const insert = db.prepare('INSERT INTO items (id, n, r, t, b, z) VALUES (?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run(i, ...rowValues(i))
  })()
  db.close()
}

function spawnJson(command, args) {
  const out = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 16 << 20, timeout: 600_000 })
  if (out.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${out.status}:\n${out.stderr}`)
  }
  const line = out.stdout.trim().split('\n').pop()
  return JSON.parse(line)
}

function runDriver(driver, path, workloads) {
  const timing = [String(config.warmupMs), String(config.timeMs), ...workloads]
  if (driver.runtime === null) return spawnJson(NATIVE_BIN, [path, ...timing])
  const flags = driver.runtime === 'node22' ? ['--disable-warning=ExperimentalWarning'] : []
  return spawnJson(runtimes[driver.runtime], [...flags, join(HERE, 'worker.mjs'), driver.module, path, ...timing])
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function formatOps(x) {
  if (!Number.isFinite(x)) return 'n/a'
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (x >= 1e4) return `${Math.round(x / 1e3)}k`
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`
  return x.toFixed(0)
}

function machine() {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} vCPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`
}

function main() {
  if (drivers.some((d) => d.runtime === null)) buildNative()
  const dir = mkdtempSync(join(os.tmpdir(), 'hs-bench-'))
  const path = join(dir, 'bench.db')
  const report = []
  const out = (line = '') => {
    report.push(line)
    console.log(line)
  }
  try {
    seed(path)
    const addon = env.NAPI_RS_NATIVE_LIBRARY_PATH ?? join(ROOT, 'hardened-sqlite.linux-x64-gnu.node')
    log(`hardened-sqlite binary: ${addon}${existsSync(addon) ? ` (built ${statSync(addon).mtime.toISOString()})` : ''}`)
    log(`${config.rounds} rounds × ${drivers.length} drivers; ${config.warmupMs} ms warm-up + ${config.timeMs} ms per workload`)

    // results[driverId][workload] = ops/s per round; info[driverId] = versions.
    const results = Object.fromEntries(drivers.map((d) => [d.id, Object.fromEntries(config.workloads.map((w) => [w, []]))]))
    const info = {}
    for (let round = 0; round < config.rounds; round++) {
      const order = drivers.map((_, i) => drivers[(i + round) % drivers.length])
      for (const driver of order) {
        let result
        try {
          result = runDriver(driver, path, config.workloads)
        } catch (error) {
          log(`${driver.id} failed in round ${round + 1}: ${error.message}`)
          for (const w of config.workloads) results[driver.id][w][round] = NaN
          continue
        }
        info[driver.id] = result
        for (const w of config.workloads) results[driver.id][w][round] = result.results[w]
      }
      log(`round ${round + 1}/${config.rounds} done`)
    }

    if (env.BENCH_JSON) writeFileSync(env.BENCH_JSON, `${JSON.stringify({ config, versions, info, results }, null, 1)}\n`)
    const med = (id, w) => median(results[id]?.[w] ?? [])
    const ratios = (a, b, w) => (results[a]?.[w] ?? []).map((x, i) => x / results[b][w][i]).filter(Number.isFinite)
    const ratio = (a, b, w) => median(ratios(a, b, w))
    const spread = (a, b, w) => {
      const r = ratios(a, b, w)
      return r.length > 1 ? ` [${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}]` : ''
    }
    const ran = drivers.filter((d) => info[d.id])

    out(`Date: ${new Date().toISOString().slice(0, 10)}  `)
    out(`Machine: ${machine()}  `)
    out(`Method: ${config.rounds} interleaved rounds, each driver in a fresh process per round; per workload ${config.warmupMs} ms warm-up then at least ${config.timeMs} ms timed${env.BENCH_CLOCK === 'cpu' ? ' (ops per second of the process\'s CPU time, BENCH_CLOCK=cpu)' : ''}; ${ROWS} rows. Figures are median ops/s (in brackets: share of the native baseline, median of per-round ratios); ratios are medians of the per-round paired ratios, [lowest–highest] round, then the target.`)
    out()
    out('| Column | Library | Runtime | SQLite |')
    out('|---|---|---|---|')
    for (const d of ran) {
      const runtime = d.runtime === null ? rustcVersion() : versions[d.runtime]
      const builtIn = d.module === 'bun-sqlite' || d.module === 'node-sqlite'
      const library = d.runtime === null ? `Rust, ${info[d.id].version}` : builtIn ? `${d.library} (built in)` : `${d.library} ${info[d.id].version}`
      out(`| ${d.label} | ${library} | ${runtime} | ${info[d.id].sqliteVersion} |`)
    }
    out()
    const nativeRan = Boolean(info.native)
    out(`| Workload | ${ran.map((d) => d.label).join(' | ')} |`)
    out(`|---|${ran.map(() => '---:').join('|')}|`)
    for (const w of config.workloads) {
      const cells = ran.map((d) => {
        const ops = med(d.id, w)
        if (d.id === 'native' || !nativeRan) return formatOps(ops)
        return `${formatOps(ops)} (${Math.round(ratio(d.id, 'native', w) * 100)}%)`
      })
      out(`| ${LABELS[w]} | ${cells.join(' | ')} |`)
    }
    out()

    const pairs = TARGETS.filter(([a, b]) => info[a] && info[b])
    if (pairs.length > 0) {
      const name = (id) => drivers.find((d) => d.id === id).label
      out(`| Workload | ${pairs.map(([a, b]) => `${name(a)} ÷ ${name(b)}`).join(' | ')} |`)
      out(`|---|${pairs.map(() => '---:').join('|')}|`)
      for (const w of config.workloads) {
        const cells = pairs.map(([a, b, targets]) => {
          const r = ratio(a, b, w)
          const target = targets[w]
          const shown = `**${r.toFixed(2)}×**${spread(a, b, w)}`
          if (target === undefined) return shown
          return `${shown} ≥ ${target.toFixed(1)}: ${r >= target ? 'met' : 'missed'}`
        })
        out(`| ${LABELS[w]} | ${cells.join(' | ')} |`)
      }
      out()
    }

    if (config.memory) memoryCheck(path, out)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, `${report.join('\n')}\n`)
}

function rustcVersion() {
  const out = spawnSync('rustc', ['--version'], { encoding: 'utf8' })
  return out.status === 0 ? out.stdout.trim().split(' ').slice(0, 2).join(' ') : 'rustc unknown'
}

/**
 * Memory over 1,000,000 `get`, 100,000 `all` and 100,000 prepare cycles per
 * hardened-sqlite face and runtime (see memory.mjs): every selected hardened
 * driver (and peer, with BENCH_MEMORY_PEERS=1), and the bun face under Node too
 * when `hardened-node` is selected. A
 * phase is flat when the memory outside the JS heap grew by at most 4 MiB from
 * its first tenth to its end.
 */
function memoryCheck(path, out) {
  const peers = env.BENCH_MEMORY_PEERS === '1' ? ['better-sqlite3', 'bun-sqlite'] : []
  const targets = drivers.filter((d) => d.module === 'hardened' || d.module === 'hardened-bun-face' || peers.includes(d.module))
  if (drivers.some((d) => d.id === 'hardened-node')) {
    targets.push({ id: 'hardened-bun-face-node', runtime: 'node', module: 'hardened-bun-face', label: `hardened/bun (${major(versions.node)})` })
  }
  if (targets.length === 0) return
  out(
    'Memory (MiB): RSS sampled ten times per phase, RSS after a forced full GC at its end, and the memory outside the JS heap ' +
      '(RSS minus the heap the engine reserved) from the first tenth of the phase to its end, which a native leak would grow; ' +
      'flat = it grew by at most 4 MiB. A prepare cycle prepares a statement on its own SQL text, runs it once and drops it ' +
      '(let go for the garbage collector, or `finalize()` on the bun face), in a loop that never yields, then in one that ' +
      'lets the event loop turn every 1,000 cycles.',
  )
  out()
  out('| Driver | Phase | RSS: start | 10% | 50% | end | after GC | outside JS heap | |')
  out('|---|---|---:|---:|---:|---:|---:|---:|---|')
  const names = {
    get: '`get`',
    all: '`all`',
    prepare: '`prepare` + `get`, let go',
    finalize: '`prepare` + `get` + `finalize()`',
    prepareYielding: '`prepare` + `get`, let go, a turn of the event loop every 1,000',
  }
  for (const driver of targets) {
    log(`memory check: ${driver.id}`)
    const flags = driver.runtime === 'bun' ? [] : ['--expose-gc']
    if (driver.runtime === 'node22') flags.push('--disable-warning=ExperimentalWarning')
    let m
    try {
      const counts = [String(config.memoryGets), String(config.memoryAlls), String(config.memoryCycles)]
      m = spawnJson(runtimes[driver.runtime], [...flags, join(HERE, 'memory.mjs'), driver.module, path, ...counts])
    } catch (error) {
      log(`memory check of ${driver.id} failed: ${error.message}`)
      continue
    }
    for (const [name, p] of Object.entries(m.phases)) {
      if (p.calls === 0) continue
      const growth = p.outside[1] - p.outside[0]
      const rss = p.rss
      out(
        `| ${driver.label} | ${p.calls.toLocaleString('en-US')} × ${names[name]} | ${rss[0]} | ${rss[1]} | ${rss[5]} | ${rss[rss.length - 1]} | ${p.afterGc} | ${p.outside[0]} → ${p.outside[1]} | ${growth <= 4 ? 'flat' : 'GROWING'} |`,
      )
    }
  }
  out()
}

main()
