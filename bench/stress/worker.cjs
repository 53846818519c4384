// One stress process: a writer, a reader or a long reader on the shared database.
// argv: driver (hardened | better-sqlite3), role (writer | reader | long-reader), dbPath, ops, id, startAtMs.
// Prints one JSON line: { role, id, ops, errors: { code: n }, latenciesUs: [...], acked: [...], cpuUs }
// (cpuUs: user + system CPU time of the operations, from the common start to the last one).
'use strict'
const [driver, role, path, opsText, idText, startAtText] = process.argv.slice(2)
const ops = Number(opsText)
const id = Number(idText)
/** Microseconds of application work between the read and the write of a transaction. */
const THINK_US = Number(process.env.STRESS_THINK_US ?? 200)

/** Opens the database the way a user of `driver` would, with the same pragmas. */
function open() {
  if (driver === 'hardened') {
    const { HardenedDb } = require('../..')
    const db = new HardenedDb(path)
    if (process.env.STRESS_SQLITE_HANDLER) db.exec('PRAGMA busy_timeout = 5000')
    return db
  }
  const Database = require('better-sqlite3')
  const db = new Database(path) // better-sqlite3's defaults: timeout 5000 ms, deferred transactions
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  return db
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
const sleep = (ms) => Atomics.wait(sleeper, 0, 0, ms)
const now = () => process.hrtime.bigint()

const db = open()
const errors = {}
const latenciesUs = []
const acked = []
const fail = (error) => {
  const code = error.code || error.message
  errors[code] = (errors[code] || 0) + 1
}

/** Every process starts its operations at the same moment, after all have loaded. */
function waitForStart() {
  const wait = Number(startAtText) - Date.now()
  if (wait > 0) sleep(wait)
  cpuAtStart = process.cpuUsage()
}
let cpuAtStart = process.cpuUsage()

if (role === 'writer') {
  const insert = db.prepare('INSERT INTO items (writer, seq, payload) VALUES (?, ?, randomblob(200))')
  const read = db.prepare('SELECT value FROM counter WHERE id = 1').pluck()
  const bump = db.prepare('UPDATE counter SET value = ? WHERE id = 1')
  const think = () => {
    const until = now() + BigInt(THINK_US * 1000)
    while (now() < until) {
      // Application logic between the read and the write.
    }
  }
  const readThenWrite = db.transaction((seq) => {
    const value = read.get()
    think()
    bump.run(value + 1)
    insert.run(id, seq)
  })
  waitForStart()
  for (let seq = 0; seq < ops; seq++) {
    const started = now()
    try {
      if (seq % 2 === 0) insert.run(id, seq)
      else readThenWrite(seq)
      acked.push(seq)
    } catch (error) {
      fail(error)
    }
    latenciesUs.push(Number(now() - started) / 1000)
  }
} else {
  const count = db.prepare('SELECT count(*) FROM items').pluck()
  const recent = db.prepare('SELECT writer, seq FROM items ORDER BY rowid DESC LIMIT 50')
  waitForStart()
  for (let i = 0; i < ops; i++) {
    try {
      if (role === 'long-reader' && i % 10 === 0) {
        // Hold a read transaction open for a while: it pins the WAL.
        db.exec('BEGIN')
        count.get()
        sleep(20)
        db.exec('COMMIT')
      } else {
        count.get()
        recent.all()
      }
    } catch (error) {
      fail(error)
      if (db.inTransaction) db.exec('ROLLBACK')
    }
  }
}
const cpu = process.cpuUsage(cpuAtStart)
db.close()
process.stdout.write(JSON.stringify({ role, id, ops, errors, latenciesUs, acked, cpuUs: cpu.user + cpu.system }) + '\n')
