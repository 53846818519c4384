// `npm run bench:replication`: write throughput and the longest single write with
// Litestream attached (file replica), with option `replication: "litestream"` on and
// off, against no replication. Each case runs in a fresh writer process for a fixed
// time; halfway through, another process asks for a TRUNCATE checkpoint (what an ops
// script or `hardened-sqlite vacuum` does), which is where the option matters most.
// Needs .tmp/venv (bash scripts/install-replication-tools.sh).
//
// Environment (all optional): BENCH_TIME_MS=4000 per case, BENCH_ROUNDS=2, BENCH_OUT=file.md
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const LITESTREAM = join(ROOT, '.tmp/venv/bin/litestream')
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 4000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)

/** The writer: one-row transactions of 1 KiB for `ms`, a TRUNCATE asked for by another process at half time. */
const WRITER = `
const { HardenedDb } = require(${JSON.stringify(ROOT)});
const { spawn } = require('node:child_process');
const [path, options, ms, checkpointOptions] = [process.argv[1], JSON.parse(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const db = new HardenedDb(path, options);
db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO t (payload) VALUES (randomblob(1024))');
const start = performance.now();
let count = 0, max = 0, asked = false, checkpoint = null;
const slow = []; // [epoch ms at the write's start, its ms] of writes over 10 ms
while (performance.now() - start < ms) {
  if (!asked && performance.now() - start > ms / 2) {
    asked = true;
    const code = "const { HardenedDb } = require(" + JSON.stringify(${JSON.stringify(ROOT)}) + "); const db = new HardenedDb(process.argv[1], JSON.parse(process.argv[2])); const t = performance.now(); const r = db.checkpoint('TRUNCATE', JSON.parse(process.argv[3])); console.log(JSON.stringify({ busy: r.busy, ms: performance.now() - t, start: performance.timeOrigin + t }))";
    checkpoint = spawn(process.execPath, ['-e', code, path, JSON.stringify(options), checkpointOptions], { stdio: ['ignore', 'pipe', 'inherit'] });
    checkpoint.out = ''; checkpoint.stdout.on('data', (d) => (checkpoint.out += d));
  }
  const t = performance.now();
  insert.run();
  const took = performance.now() - t;
  if (took > max) max = took;
  if (took > 10) slow.push([performance.timeOrigin + t, took]);
  count++;
}
const elapsed = performance.now() - start;
db.close();
const report = () => {
  const ck = checkpoint && JSON.parse(checkpoint.out || 'null');
  // The longest write that overlapped the checkpoint call (10 ms when none was longer).
  const during = ck ? Math.max(10, ...slow.filter(([at, ms]) => at < ck.start + ck.ms && at + ms > ck.start).map(([, ms]) => ms)) : null;
  console.log(JSON.stringify({ opsPerSec: count / (elapsed / 1000), maxMs: max, duringMs: during, checkpoint: ck }));
};
if (checkpoint && checkpoint.exitCode === null) checkpoint.on('exit', report); else report();
`

const CASES = [
  { name: 'no replication (defaults)', litestream: false, options: {} },
  { name: 'Litestream attached, option off (defaults: TRUNCATE waits at most 1,000 ms)', litestream: true, options: {} },
  { name: 'Litestream attached, option off, TRUNCATE waiting the 5,000 ms busy timeout (as before the option)', litestream: true, options: {}, checkpoint: { timeout: 5000 } },
  { name: 'Litestream attached, replication: "litestream"', litestream: true, options: { replication: 'litestream' } },
]

async function runCase(c) {
  const dir = mkdtempSync(join(os.tmpdir(), 'hs-bench-repl-'))
  const db = join(dir, 'app.db')
  let litestream
  try {
    spawnSync(process.execPath, ['-e', `const { HardenedDb } = require(${JSON.stringify(ROOT)}); new HardenedDb(process.argv[1]).exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)').close()`, db])
    if (c.litestream) {
      const config = join(dir, 'litestream.yml')
      writeFileSync(config, JSON.stringify({ dbs: [{ path: db, replicas: [{ type: 'file', path: join(dir, 'replica') }] }] }))
      litestream = spawn('sh', ['-c', 'umask 077 && exec "$0" replicate -config "$1"', LITESTREAM, config], { stdio: 'ignore' })
      for (let i = 0; i < 100 && !existsSync(join(dir, '.app.db-litestream')); i++) await new Promise((r) => setTimeout(r, 100))
      await new Promise((r) => setTimeout(r, 1500)) // its first sync: the read transaction is held from then on
    }
    const run = spawnSync(process.execPath, ['-e', WRITER, db, JSON.stringify(c.options), String(TIME_MS), JSON.stringify(c.checkpoint ?? {})], { encoding: 'utf8', timeout: TIME_MS + 60_000 })
    if (run.status !== 0) throw new Error(`writer failed: ${run.stderr}`)
    return JSON.parse(run.stdout)
  } finally {
    litestream?.kill('SIGTERM')
    if (litestream) await new Promise((r) => (litestream.exitCode !== null ? r() : litestream.on('exit', r)))
    rmSync(dir, { recursive: true, force: true })
  }
}

if (!existsSync(LITESTREAM)) {
  console.error(`${LITESTREAM} is missing: run bash scripts/install-replication-tools.sh`)
  process.exit(1)
}
const results = CASES.map(() => [])
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, c] of CASES.entries()) results[i].push(await runCase(c))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const lines = [
  `Write throughput with Litestream (${os.cpus().length} cores, ${ROUNDS} rounds of ${TIME_MS} ms, 1 KiB one-row transactions, a TRUNCATE checkpoint asked for by another process at half time; median ops/s, worst single write):`,
  '',
  '| case | writes/s | max write latency | max write latency during the TRUNCATE | the TRUNCATE request |',
  '| --- | ---: | ---: | ---: | --- |',
  ...CASES.map((c, i) => {
    const rs = results[i]
    const ck = rs.map((r) => r.checkpoint).filter(Boolean)
    const ckText = ck.map((k) => `${k.busy ? 'busy' : 'done'} in ${k.ms.toFixed(0)} ms`).join(', ')
    const during = Math.max(...rs.map((r) => r.duringMs ?? 0))
    return `| ${c.name} | ${Math.round(median(rs.map((r) => r.opsPerSec))).toLocaleString('en')} | ${Math.max(...rs.map((r) => r.maxMs)).toFixed(1)} ms | ${during <= 10 ? '≤ 10 ms' : `${during.toFixed(1)} ms`} | ${ckText} |`
  }),
]
console.log(lines.join('\n'))
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n')
