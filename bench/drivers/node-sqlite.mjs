// node:sqlite (built into Node >= 22.13), on Node.
import { DatabaseSync } from 'node:sqlite'
import { PRAGMAS, statementDriver, sqliteVersionOf } from '../workloads.mjs'

export const version = `node ${process.versions.node}`

export function open(path) {
  const db = new DatabaseSync(path)
  db.exec(PRAGMAS)
  const [begin, commit, rollback] = ['BEGIN', 'COMMIT', 'ROLLBACK'].map((sql) => db.prepare(sql))
  // node:sqlite has no transaction(fn): the same BEGIN/COMMIT/ROLLBACK by hand.
  const transaction = (fn) => (rows) => {
    begin.run()
    try {
      fn(rows)
      commit.run()
    } catch (error) {
      rollback.run()
      throw error
    }
  }
  return statementDriver(db, sqliteVersionOf(db), transaction)
}

/** Open, set the same pragmas as hardened-sqlite, close. */
export function openClose(path) {
  const db = new DatabaseSync(path)
  db.exec(PRAGMAS)
  db.close()
}
