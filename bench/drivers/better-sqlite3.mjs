// better-sqlite3 (the npm package), on Node.
import { createRequire } from 'node:module'
import { PRAGMAS, statementDriver, sqliteVersionOf } from '../workloads.mjs'

const require = createRequire(import.meta.url)
const Database = require('better-sqlite3')

export const version = require('better-sqlite3/package.json').version

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
