// Memory check in one fresh process: `gets` get() calls then `alls` all()
// calls, with the resident set size sampled ten times in each phase. Prints one
// JSON line. Run by run.mjs as `<runtime> memory.mjs <driver> <db> <gets> <alls>`.
import { getId, pageStart } from './workloads.mjs'

const [driverName, path, getsArg, allsArg] = process.argv.slice(2)
const driver = await import(`./drivers/${driverName}.mjs`)
const c = driver.open(path)
const mib = () => Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10
const SAMPLES = 10

function phase(calls, fn) {
  const rss = [mib()]
  const step = Math.max(1, Math.floor(calls / SAMPLES))
  for (let i = 0; i < calls; i++) {
    fn(i)
    if ((i + 1) % step === 0) rss.push(mib())
  }
  return rss
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
console.log(JSON.stringify({ driver: driverName, runtime, gets: Number(getsArg), alls: Number(allsArg), get, all, seconds, sink }))
