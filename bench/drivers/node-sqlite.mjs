// node:sqlite (built into Node >= 22.13), on Node.
import { DatabaseSync } from 'node:sqlite'
import { PRAGMAS, SQL } from '../workloads.mjs'

export const version = `node ${process.versions.node}`

export function open(path) {
  const db = new DatabaseSync(path)
  db.exec(PRAGMAS)
  const get = db.prepare(SQL.get)
  const page = db.prepare(SQL.page)
  const insert = db.prepare(SQL.insert)
  const begin = db.prepare('BEGIN')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  return {
    sqliteVersion: db.prepare('SELECT sqlite_version() AS v').get().v,
    get: (id) => get.get(id),
    all: (start) => page.all(start),
    iterate: (start) => page.iterate(start),
    insert: (row) => insert.run(...row),
    insertMany: (rows) => {
      begin.run()
      try {
        for (const row of rows) insert.run(...row)
        commit.run()
      } catch (error) {
        rollback.run()
        throw error
      }
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  }
}

/** Open, set the same pragmas as hardened-sqlite, close. */
export function openClose(path) {
  const db = new DatabaseSync(path)
  db.exec(PRAGMAS)
  db.close()
}
