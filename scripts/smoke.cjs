// The smoke program: opens a file database with the hardened defaults, writes
// in a transaction, reads, fails on purpose, closes. Prints
// "smoke ok <runtime> sqlite <version>". Run directly it tests this checkout
// (`node scripts/smoke.cjs`, `bun scripts/smoke.cjs`: the release workflow's
// test on each platform); scripts/install-test.sh calls smoke() on the
// installed package.
'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')

/** Runs the smoke test against `hs`, the package's exports; returns the line it printed. */
function smoke(hs) {
  const { HardenedDb, SqliteError, sqliteVersion } = hs
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-smoke-'))
  try {
    const file = path.join(dir, 'app.db')
    const db = new HardenedDb(file)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL)')
    const insert = db.prepare('INSERT INTO users (email) VALUES (?)')
    db.transaction((emails) => { for (const e of emails) insert.run(e) })(['ada@example.com', 'bob@example.com'])
    assert.deepEqual(db.prepare('SELECT * FROM users WHERE email = :email').get({ email: 'bob@example.com' }), { id: 2, email: 'bob@example.com' })
    assert.throws(() => insert.run('ada@example.com'), (e) => e instanceof SqliteError && e.code === 'SQLITE_CONSTRAINT_UNIQUE')
    db.close()
    assert.equal(fs.existsSync(`${file}-wal`), false)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const runtime = typeof Bun !== 'undefined' ? `bun-${Bun.version}` : `node-${process.versions.node}`
  const line = `smoke ok ${runtime} sqlite ${sqliteVersion()}`
  console.log(line)
  return line
}

module.exports = { smoke }
if (require.main === module) smoke(require('..'))
