// hardened-sqlite's bun:sqlite face (hardened-sqlite/bun), on Bun, next to bun:sqlite.
import { createRequire } from 'node:module'
import { statementDriver } from '../workloads.mjs'

const require = createRequire(import.meta.url)
const { Database, sqliteVersion } = require('../../bun.js')

export const version = require('../../package.json').version

/** Opens the benchmark database; the hardened defaults are the pragmas in PRAGMAS. */
export function open(path) {
  return statementDriver(new Database(path), sqliteVersion())
}

/** The per-request connection cost: open, harden (set and verify the pragmas), close. */
export function openClose(path) {
  new Database(path).close()
}
