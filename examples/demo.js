#!/usr/bin/env node
// Opens (creating if needed) a demo database with the hardened open sequence,
// writes a row, reads it back and prints the connection's settings.
'use strict'
const { HardenedDb, sqliteVersion } = require('..')

const path = process.argv[2] || 'demo/app.db'
const db = new HardenedDb(path)
db.exec('CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL)')
const { lastInsertRowid } = db.prepare('INSERT INTO visits (at) VALUES (?)').run(new Date().toISOString())
const count = db.prepare('SELECT count(*) FROM visits').pluck().get()
console.log(`${path}: wrote visit ${lastInsertRowid}, ${count} visits in all (SQLite ${sqliteVersion()})`)
for (const name of ['journal_mode', 'synchronous', 'busy_timeout', 'foreign_keys', 'mmap_size', 'temp_store', 'cache_size', 'journal_size_limit', 'wal_autocheckpoint', 'auto_vacuum']) {
  console.log(`  ${name.padEnd(20)} ${db.pragma(name, { simple: true })}`)
}
db.close()
