// bun:sqlite (built into Bun), on Bun.
import { Database } from 'bun:sqlite'
import { PRAGMAS, SQL } from '../workloads.mjs'

export const version = `bun ${process.versions.bun}`

export function open(path) {
  const db = new Database(path)
  db.exec(PRAGMAS)
  const get = db.prepare(SQL.get)
  const page = db.prepare(SQL.page)
  const insert = db.prepare(SQL.insert)
  const insertMany = db.transaction((rows) => {
    for (const row of rows) insert.run(...row)
  })
  return {
    sqliteVersion: db.prepare('SELECT sqlite_version() AS v').get().v,
    get: (id) => get.get(id),
    all: (start) => page.all(start),
    iterate: (start) => page.iterate(start),
    insert: (row) => insert.run(...row),
    insertMany,
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  }
}

/** Open, set the same pragmas as hardened-sqlite, close. */
export function openClose(path) {
  const db = new Database(path)
  db.exec(PRAGMAS)
  db.close()
}
