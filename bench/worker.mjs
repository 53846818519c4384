// One driver in one fresh process: times every workload and prints one JSON
// line. Run by run.mjs as `<runtime> worker.mjs <driver> <db> <warmupMs> <timeMs> [workload...]`.
import { WORKLOADS, SQL, measure, workloadFns } from './workloads.mjs'

const [driverName, path, warmupArg, timeArg, ...only] = process.argv.slice(2)
const warmupMs = Number(warmupArg)
const timeMs = Number(timeArg)
const driver = await import(`./drivers/${driverName}.mjs`)

const c = driver.open(path)
c.exec(SQL.clearWrites)
const { fns, sink } = workloadFns(driver, c, path)
const results = {}
// `open` runs while this connection stays open, as in a server that opens a
// connection per request next to a long-lived one.
for (const workload of only.length > 0 ? only : WORKLOADS) {
  results[workload] = measure(workload, fns[workload], warmupMs, timeMs)
}
c.exec(SQL.clearWrites)
const sqliteVersion = c.sqliteVersion
c.close()

const runtime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`
console.log(JSON.stringify({ driver: driverName, version: driver.version, runtime, sqliteVersion, results, sink: sink() }))
