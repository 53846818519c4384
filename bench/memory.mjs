// Memory check in one fresh process: `gets` get() calls, `alls` all() calls,
// then `cycles` prepare + get + drop cycles, each on its own SQL text (the
// statement is let go for the garbage collector; on the bun face a second run
// calls finalize() on each; a last run lets the event loop turn every 1,000
// cycles, as a server does between requests: Node and Bun run the finalizers
// of collected native objects only then). Samples the resident set size ten times per
// phase, and the memory outside the JS heap (RSS minus the heap the engine
// reserved), which a native leak would grow while the engines' own heap sizing
// (V8 growing its young generation, JavaScriptCore collecting late) does not;
// after each phase it forces a full collection and samples RSS again. Prints
// one JSON line. Run by run.mjs as
// `<runtime> [--expose-gc] memory.mjs <driver> <db> <gets> <alls> <cycles>`.
import { getId, pageStart } from './workloads.mjs'

const [driverName, path, getsArg, allsArg, cyclesArg = '0'] = process.argv.slice(2)
const driver = await import(`./drivers/${driverName}.mjs`)
const c = driver.open(path)
const MIB = 1048576
const round = (bytes) => Math.round((bytes / MIB) * 10) / 10
const forceGc = globalThis.gc ?? (globalThis.Bun ? () => globalThis.Bun.gc(true) : () => {})

/** Runs `fn(i)` `calls` times; with `yieldEvery`, lets the event loop turn every so many calls. */
async function phase(calls, fn, yieldEvery = 0) {
  const rss = [round(process.memoryUsage.rss())]
  let outsideAtTenth = 0
  const step = Math.max(1, Math.floor(calls / 10))
  for (let i = 0; i < calls; i++) {
    fn(i)
    if (yieldEvery > 0 && (i + 1) % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve))
    if ((i + 1) % step === 0) {
      const usage = process.memoryUsage()
      rss.push(round(usage.rss))
      if (rss.length === 2) outsideAtTenth = round(usage.rss - usage.heapTotal)
    }
  }
  const usage = process.memoryUsage()
  const outsideAtEnd = round(usage.rss - usage.heapTotal)
  forceGc()
  return { calls, rss, outside: [outsideAtTenth, outsideAtEnd], afterGc: round(process.memoryUsage.rss()) }
}

/** Calls between two turns of the event loop in the yielding phase (a server between requests). */
const YIELD_EVERY = 1000

/** A statement on its own SQL text (SQLite shares nothing between two), run once. */
function prepareAndGet(i) {
  const statement = c.db.prepare(`SELECT id, n, t FROM items WHERE id = ? /* ${i} */`)
  sink += statement.get(getId(i)).id
  return statement
}

let sink = 0
const start = performance.now()
const phases = {}
phases.get = await phase(Number(getsArg), (i) => {
  sink += c.get(getId(i)).id
})
phases.all = await phase(Number(allsArg), (i) => {
  sink += c.all(pageStart(i)).length
})
const cycles = Number(cyclesArg)
if (cycles > 0) {
  phases.prepare = await phase(cycles, prepareAndGet)
  if (typeof c.db.prepare('SELECT 1').finalize === 'function') {
    phases.finalize = await phase(cycles, (i) => prepareAndGet(i).finalize())
  }
  phases.prepareYielding = await phase(cycles, prepareAndGet, YIELD_EVERY)
}
const seconds = (performance.now() - start) / 1000
c.close()
const runtime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`
console.log(JSON.stringify({ driver: driverName, runtime, phases, seconds, sink }))
