// Memory check in one fresh process: `gets` get() calls then `alls` all()
// calls. Samples the resident set size ten times per phase, and the memory
// outside the JS heap (RSS minus the heap the engine reserved), which a native
// leak would grow while the engines' own heap sizing (V8 growing its young
// generation, JavaScriptCore collecting late) does not; after each phase it
// forces a full collection and samples RSS again. Prints one JSON line.
// Run by run.mjs as `<runtime> [--expose-gc] memory.mjs <driver> <db> <gets> <alls>`.
import { getId, pageStart } from './workloads.mjs'

const [driverName, path, getsArg, allsArg] = process.argv.slice(2)
const driver = await import(`./drivers/${driverName}.mjs`)
const c = driver.open(path)
const MIB = 1048576
const round = (bytes) => Math.round((bytes / MIB) * 10) / 10
const forceGc = globalThis.gc ?? (globalThis.Bun ? () => globalThis.Bun.gc(true) : () => {})

function phase(calls, fn) {
  const rss = [round(process.memoryUsage.rss())]
  let outsideAtTenth = 0
  const step = Math.max(1, Math.floor(calls / 10))
  for (let i = 0; i < calls; i++) {
    fn(i)
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

let sink = 0
const start = performance.now()
const get = phase(Number(getsArg), (i) => {
  sink += c.get(getId(i)).id
})
const all = phase(Number(allsArg), (i) => {
  sink += c.all(pageStart(i)).length
})
const seconds = (performance.now() - start) / 1000
c.close()
const runtime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`
console.log(JSON.stringify({ driver: driverName, runtime, get, all, seconds, sink }))
