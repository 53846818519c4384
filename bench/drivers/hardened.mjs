// hardened-sqlite, on whichever runtime runs this file (Node or Bun).
import { createRequire } from 'node:module'
import { SQL } from '../workloads.mjs'

const require = createRequire(import.meta.url)
const { HardenedDb, sqliteVersion } = require('../../index.js')

export const version = require('../../package.json').version

/** Opens the benchmark database; the hardened defaults are the pragmas in PRAGMAS. */
export function open(path) {
  const db = new HardenedDb(path)
  const get = db.prepare(SQL.get)
  const page = db.prepare(SQL.page)
  const insert = db.prepare(SQL.insert)
  const insertMany = db.transaction((rows) => {
    for (const row of rows) insert.run(...row)
  })
  return {
    sqliteVersion: sqliteVersion(),
    get: (id) => get.get(id),
    all: (start) => page.all(start),
    iterate: (start) => page.iterate(start),
    insert: (row) => insert.run(...row),
    insertMany,
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  }
}

/** The per-request connection cost: open, harden (set and verify the pragmas), close. */
export function openClose(path) {
  new HardenedDb(path).close()
}
