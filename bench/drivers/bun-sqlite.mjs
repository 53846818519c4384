// bun:sqlite (built into Bun), on Bun.
import { Database } from 'bun:sqlite'
import { PRAGMAS, statementDriver, sqliteVersionOf } from '../workloads.mjs'

export const version = `bun ${process.versions.bun}`

export function open(path) {
  const db = new Database(path)
  db.exec(PRAGMAS)
  return statementDriver(db, sqliteVersionOf(db))
}

/** Open, set the same pragmas as hardened-sqlite, close. */
export function openClose(path) {
  const db = new Database(path)
  db.exec(PRAGMAS)
  db.close()
}
