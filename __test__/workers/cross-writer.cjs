// Worker for the two-database lock test: holds the write lock of `first`,
// says "holding", waits for "go" on stdin, then writes to `second` (whose
// write lock the other worker holds), commits or rolls back `first`, and
// prints one JSON line. argv: first, second, busyTimeout, name.
'use strict'
const { readSync } = require('node:fs')
const { HardenedDb } = require('../..')

const [first, second, busyTimeout, name] = process.argv.slice(2)
const one = new HardenedDb(first, { busyTimeout: Number(busyTimeout) })
const two = new HardenedDb(second, { busyTimeout: Number(busyTimeout) })
one.exec('BEGIN IMMEDIATE')
one.prepare('INSERT INTO marks VALUES (?)').run(name)
process.stdout.write('holding\n')
const buffer = Buffer.alloc(16)
let heard = ''
while (!heard.includes('go')) {
  const n = readSync(0, buffer, 0, buffer.length, null)
  if (n === 0) process.exit(3) // stdin closed before "go": the test gave up
  heard += buffer.toString('utf8', 0, n)
}
const started = Date.now()
let outcome = 'ok'
try {
  two.prepare('INSERT INTO marks VALUES (?)').run(name)
} catch (error) {
  outcome = error.code
}
one.exec(outcome === 'ok' ? 'COMMIT' : 'ROLLBACK')
one.close()
two.close()
process.stdout.write(JSON.stringify({ outcome, waitedMs: Date.now() - started }) + '\n')
