// hardened-sqlite, on whichever runtime runs this file (Node or Bun).
import { createRequire } from 'node:module'
import { statementDriver } from '../workloads.mjs'

const require = createRequire(import.meta.url)
const { HardenedDb, sqliteVersion } = require('../../index.js')

export const version = require('../../package.json').version

/** Opens the benchmark database; the hardened defaults are the pragmas in PRAGMAS. */
export function open(path) {
  return statementDriver(new HardenedDb(path), sqliteVersion())
}

/** The per-request connection cost: open, harden (set and verify the pragmas), close. */
export function openClose(path) {
  new HardenedDb(path).close()
}
