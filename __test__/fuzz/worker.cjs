// Worker: a bounded, seeded fuzz run of the statement API (issue #12), run by
// fuzz.spec.ts in a child process so that a crash shows up as a signal.
//
//   node|bun __test__/fuzz/worker.cjs <seed> <cases> [families]
//
// families: comma-separated, default all of
//   params   random JS values as parameters (positional ?, ?NNN; named :a @a $a)
//   hostile  getters, array-index getters and Proxy traps that close or re-enter the database
//   schema   ALTER TABLE / DROP+CREATE between prepare and step (same or a second connection)
//   proto    tables and columns named __proto__, constructor, toString, ...
//   lifetime statements and iterators let go, finalized, collected and swept under closing connections
// Case i is of family families[i % n] and generated from its own PRNG seeded with
// (seed, family, i), so `HS_FUZZ_CASE=<family>:<i>` replays that one case alone.
// env: HS_FUZZ_BUDGET_MS (default 20000): stop starting cases after this long;
//      HS_FUZZ_TMPDIR: where the database file of the schema cases goes (default: the OS temp dir);
//      HS_FUZZ_PACKAGE: fuzz another build of the package (its absolute path) instead of this one.
//
// Output: the seed first; before each case its plan on stderr (`case {...}`: the
// last one names the case that crashed or hung the process); per failing case a
// one-line JSON reproduction on stdout (`FAIL {...}`); last line
// `fuzz: N cases, F failures`. Exit status 0 when F = 0, 1 otherwise.
'use strict'
// The package is loaded first (by db.cjs, through the families), before outcomes.cjs
// takes its snapshot of the built-in prototypes.
const { genParams, runParams } = require('./params.cjs')
const { genHostile, runHostile } = require('./hostile.cjs')
const { genSchema, runSchema } = require('./schema.cjs')
const { genProto, runProto } = require('./proto.cjs')
const { genLifetime, runLifetime } = require('./lifetime.cjs')
const { writeSync } = require('node:fs')
const { hash32, random } = require('./random.cjs')
const { describeThrow, attempt, prototypeDamage } = require('./outcomes.cjs')

const FAMILIES = ['params', 'hostile', 'schema', 'proto', 'lifetime']

const GENERATORS = { params: genParams, hostile: genHostile, schema: genSchema, proto: genProto, lifetime: genLifetime }
const RUNNERS = { params: runParams, hostile: runHostile, schema: runSchema, proto: runProto, lifetime: runLifetime }

/** A pause of `ms` milliseconds that blocks (no event loop needed). */
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/**
 * Writes `text` to stderr synchronously. When stderr is a non-blocking pipe
 * whose reader is slow, a write fails with EAGAIN: wait and retry (bounded),
 * so the plan of the case about to run is always out before it runs.
 */
function writeStderr(text) {
  let buffer = Buffer.from(text)
  for (let attempt = 0; buffer.length > 0; attempt++) {
    try {
      buffer = buffer.subarray(writeSync(2, buffer))
    } catch (error) {
      if (error.code !== 'EAGAIN' || attempt >= 5000) throw error
      pause(1)
    }
  }
}

function main() {
  const seed = Number(process.argv[2])
  const cases = Number(process.argv[3] ?? 1)
  const families = (process.argv[4] ?? FAMILIES.join(',')).split(',').filter(Boolean)
  const budget = Number(process.env.HS_FUZZ_BUDGET_MS ?? 20000)
  if (!Number.isInteger(seed) || !Number.isInteger(cases) || cases < 0) {
    console.error('usage: node|bun __test__/fuzz/worker.cjs <seed> <cases> [families]   (or HS_FUZZ_CASE=<family>:<i> ... <seed>)')
    process.exit(2)
  }
  for (const f of families) if (!GENERATORS[f]) throw new Error(`fuzz: unknown family ${f} (families: ${FAMILIES.join(', ')})`)
  const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`
  const only = process.env.HS_FUZZ_CASE ? process.env.HS_FUZZ_CASE.split(':') : null
  console.log(`fuzz: seed ${seed}, ${only ? `case ${only.join(':')}` : `up to ${cases} cases`} of ${only ? only[0] : families.join(',')}, budget ${budget} ms, ${runtime}`)

  const started = Date.now()
  const deadline = started + budget
  const indices = only ? [[only[0], Number(only[1])]] : Array.from({ length: cases }, (_, i) => [families[i % families.length], i])
  let ran = 0
  let failures = 0
  const byFamily = {}
  for (const [family, index] of indices) {
    if (!only && Date.now() > deadline) break
    const plan = { family, case: index, ...GENERATORS[family](random(hash32(`${seed}/${family}/${index}`))) }
    const line = JSON.stringify(plan)
    writeStderr(`case ${line}\n`)
    const problems = []
    const ctx = {
      index,
      thrown: new Set(),
      dbs: [],
      problem: (text) => problems.push(text),
      track(db) { this.dbs.push(db); return db },
    }
    try {
      RUNNERS[family](plan, ctx)
    } catch (error) {
      problems.push(`case driver caught ${describeThrow(error)}${error && error.stack ? ` at ${String(error.stack).split('\n').slice(1, 3).join(' ').trim()}` : ''}`)
    }
    for (const db of ctx.dbs) attempt(() => db.close())
    const damage = prototypeDamage()
    if (damage.length) problems.push(`built-in prototypes changed: ${damage.join('; ')}`)
    ran++
    byFamily[family] = (byFamily[family] ?? 0) + 1
    if (problems.length) {
      failures++
      const replay = `HS_FUZZ_CASE=${family}:${index} ${typeof Bun !== 'undefined' ? 'bun' : 'node'} __test__/fuzz/worker.cjs ${seed}`
      console.log(`FAIL ${JSON.stringify({ seed, family, case: index, problems: problems.slice(0, 4), replay, plan })}`)
    }
  }
  const elapsed = Date.now() - started
  console.log(`fuzz: ran ${ran} of ${indices.length} cases (${Object.entries(byFamily).map(([f, n]) => `${f} ${n}`).join(', ')}) in ${elapsed} ms${ran < indices.length ? ', stopped at the deadline' : ''}`)
  console.log(`fuzz: ${ran} cases, ${failures} failures`)
  process.exitCode = failures === 0 ? 0 : 1
}

main()
