'use strict'
// Regression cases for the defects found by adversarial testing (issue 12):
// each is a function of the package that throws (node:assert) when the defect
// is back. __test__/defects.spec.ts runs every case in the Bun test process and,
// through `node defects.cjs <case>`, under Node.
const assert = require('node:assert/strict')
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
function inTempDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'hs-defects-'))
  try {
    return fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** What `fn` threw (fails when it returns). */
function thrown(fn) {
  try {
    fn()
  } catch (error) {
    return error
  }
  assert.fail('expected a throw, nothing was thrown')
}

/** Rows of `sql` read in every way, from statement `stmt` (prepared earlier). */
function readings(stmt) {
  return {
    all: stmt.all(),
    iterate: [...stmt.iterate()],
    values: stmt.values(),
    get: stmt.get(),
    raw: stmt.raw().all(),
    rawIterate: [...stmt.iterate()],
    pluck: stmt.raw(false).pluck().all(),
    expand: stmt.pluck(false).expand().all(),
  }
}

/** A query whose rows leave marker strings in the shared scratch buffer. */
function leaveMarkers(db) {
  db.prepare("SELECT 'MARKER-' || value AS m, 'MARKER-x' AS n, 'MARKER-y' AS o FROM json_each('[1,2,3,4,5,6,7,8,9]')").all()
}

const cases = {
  /** A statement prepared before ALTER TABLE reads the new columns, aligned. */
  'schema change on this connection'({ HardenedDb }) {
    const db = new HardenedDb(':memory:')
    db.exec("CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    const stmt = db.prepare('SELECT * FROM t')
    stmt.all()
    db.exec("ALTER TABLE t ADD COLUMN c DEFAULT 'C'")
    leaveMarkers(db)
    const added = readings(stmt)
    assert.deepEqual(added.all, [{ a: 1, b: 'one', c: 'C' }, { a: 2, b: 'two', c: 'C' }, { a: 3, b: 'three', c: 'C' }])
    assert.deepEqual(added, readings(db.prepare('SELECT * FROM t')))
    stmt.expand(false)
    db.exec('ALTER TABLE t DROP COLUMN a')
    leaveMarkers(db)
    assert.deepEqual(stmt.raw().all(), [['one', 'C'], ['two', 'C'], ['three', 'C']])
    stmt.raw(false)
    const dropped = readings(stmt)
    assert.deepEqual(dropped, readings(db.prepare('SELECT * FROM t')))
    assert.ok(!JSON.stringify(dropped).includes('MARKER'))
    db.close()
  },

  /** The same when another connection (another process, a migration) changes the schema. */
  'schema change by another connection'({ HardenedDb }) {
    inTempDir((dir) => {
      const path = join(dir, 'app.db')
      const db = new HardenedDb(path)
      const other = new HardenedDb(path)
      db.exec('CREATE TABLE t(a, b)')
      const insert = db.prepare('INSERT INTO t VALUES (?, ?)')
      for (let i = 0; i < 200; i++) insert.run(i, `row ${i}`)
      const stmt = db.prepare('SELECT * FROM t ORDER BY a')
      const iterateFirst = db.prepare('SELECT * FROM t ORDER BY a')
      stmt.all()
      other.exec("ALTER TABLE t ADD COLUMN c DEFAULT 'C'; ALTER TABLE t ADD COLUMN d")
      leaveMarkers(db)
      const rows = iterateFirst.iterate()
      assert.deepEqual(rows.next().value, { a: 0, b: 'row 0', c: 'C', d: null })
      rows.return()
      assert.deepEqual(readings(stmt), readings(db.prepare('SELECT * FROM t ORDER BY a')))
      other.exec('ALTER TABLE t DROP COLUMN b; ALTER TABLE t DROP COLUMN c')
      leaveMarkers(db)
      assert.deepEqual([...iterateFirst.iterate()].slice(0, 2), [{ a: 0, d: null }, { a: 1, d: null }])
      stmt.expand(false).raw(false)
      assert.deepEqual(readings(stmt), readings(db.prepare('SELECT * FROM t ORDER BY a')))
      other.close()
      db.close()
    })
  },

  /** A getter, element getter or Proxy trap that closes the database mid-bind ends in HARDENED_NOT_OPEN. */
  'close from a callback while binding'({ HardenedDb }) {
    const closers = {
      'named getter': (db) => [{ get a() { db.close(); return 1 } }],
      'element getter': (db) => {
        const values = []
        Object.defineProperty(values, 0, { get() { db.close(); return 1 }, enumerable: true })
        values.length = 1
        return [values]
      },
      'Proxy has trap': (db) => [new Proxy({ a: undefined }, { has() { db.close(); return true } })],
      'Proxy get trap': (db) => [new Proxy({}, { get() { db.close(); return 2 } })],
    }
    const sqlFor = { 'element getter': 'SELECT ?' }
    for (const [name, argsFor] of Object.entries(closers)) {
      for (const method of ['get', 'all', 'run', 'iterate', 'values', 'bind']) {
        const db = new HardenedDb(':memory:')
        const stmt = db.prepare(sqlFor[name] ?? 'SELECT :a AS a')
        const error = thrown(() => {
          const result = stmt[method](...argsFor(db))
          if (method === 'iterate') result.next()
        })
        assert.equal(error.code, 'HARDENED_NOT_OPEN', `${name}, ${method}: ${error.message}`)
        assert.ok(error instanceof TypeError, `${name}, ${method}`)
        assert.equal(db.open, false)
        assert.equal(thrown(() => stmt.get({ a: 1 })).code, 'HARDENED_NOT_OPEN')
      }
    }
    const again = new HardenedDb(':memory:')
    assert.deepEqual(again.prepare('SELECT 1 AS x').get(), { x: 1 })
    again.close()
  },

  /** A callback re-entering the same statement or others while binding. */
  're-entry from a callback while binding'({ HardenedDb }) {
    const db = new HardenedDb(':memory:')
    db.exec('CREATE TABLE t(x)')
    const stmt = db.prepare('SELECT :a AS a')
    const insert = db.prepare('INSERT INTO t VALUES (?)')
    const busy = thrown(() => stmt.get({ get a() { return stmt.get({ a: 1 }) } }))
    assert.equal(busy.code, 'HARDENED_STATEMENT_BUSY')
    const row = stmt.get({ get a() { insert.run(7); return db.prepare('SELECT count(*) FROM t').pluck().get() } })
    assert.deepEqual(row, { a: 1 })
    assert.deepEqual(stmt.get({ a: 'still works' }), { a: 'still works' })
    db.close()
  },

  /** readonly cannot be switched off by SQL. */
  'readonly cannot be switched off'({ HardenedDb }) {
    inTempDir((dir) => {
      const path = join(dir, 'app.db')
      const writer = new HardenedDb(path)
      writer.exec('CREATE TABLE t(x); INSERT INTO t VALUES (1)')
      const reader = new HardenedDb(path, { readonly: true })
      for (const sql of ['PRAGMA query_only=0; DROP TABLE t', 'PRAGMA query_only = false', 'PRAGMA journal_mode = DELETE']) {
        const error = thrown(() => reader.exec(sql))
        assert.equal(error.code, 'SQLITE_READONLY', sql)
        assert.match(error.message, /readonly: true/)
      }
      assert.equal(thrown(() => reader.pragma('query_only = OFF')).code, 'SQLITE_READONLY')
      assert.equal(thrown(() => reader.prepare('DELETE FROM t').run()).code, 'SQLITE_READONLY')
      assert.equal(reader.pragma('query_only', { simple: true }), 1)
      assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal')
      assert.equal(reader.prepare('SELECT count(*) FROM t').pluck().get(), 1)
      reader.unsafeMode()
      assert.equal(thrown(() => reader.exec('PRAGMA query_only = 0')).code, 'SQLITE_READONLY')
      reader.close()
      writer.close()
    })
  },

  /** Table and column names never reach a prototype. */
  'names cannot pollute prototypes'({ HardenedDb }) {
    const db = new HardenedDb(':memory:')
    db.exec(`CREATE TABLE "__proto__"("isAdmin", "__proto__"); INSERT INTO "__proto__" VALUES (1, 2);
             CREATE TABLE "constructor"("keys"); INSERT INTO "constructor" VALUES (5)`)
    const expanded = db.prepare('SELECT * FROM "__proto__"').expand().get()
    assert.ok(Object.hasOwn(expanded, '__proto__'))
    assert.equal(expanded['__proto__'].isAdmin, 1)
    assert.ok(Object.hasOwn(expanded['__proto__'], '__proto__'))
    assert.equal(Object.getPrototypeOf(expanded), Object.prototype)
    assert.equal(db.prepare('SELECT * FROM "constructor"').expand().all()[0].constructor.keys, 5)
    const plain = db.prepare('SELECT "__proto__", "isAdmin" AS "constructor" FROM "__proto__"').get()
    assert.deepEqual(Object.keys(plain), ['__proto__', 'constructor'])
    assert.equal(({}).isAdmin, undefined)
    assert.equal(({}).keys, undefined)
    assert.equal(typeof Object.keys, 'function')
    assert.equal(({}).constructor, Object)
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).filter((k) => ['isAdmin', 'keys'].includes(k)), [])
    db.close()
  },

  /** Defensive mode is on: SQL cannot corrupt the file; unsafeMode() lifts it. */
  'defensive mode'({ HardenedDb }) {
    inTempDir((dir) => {
      const db = new HardenedDb(join(dir, 'app.db'))
      db.exec('CREATE TABLE t(x)')
      const version = db.pragma('schema_version', { simple: true })
      const corrupt = () => db.exec("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE t(y)' WHERE name = 't'")
      assert.equal(thrown(corrupt).code, 'SQLITE_ERROR')
      db.exec('PRAGMA writable_schema = OFF; PRAGMA schema_version = 999')
      assert.equal(db.pragma('schema_version', { simple: true }), version)
      // Refused before defensive mode would ignore it: journal_mode = OFF weakens the hardened open.
      assert.equal(thrown(() => db.exec('PRAGMA journal_mode = OFF')).code, 'HARDENED_WEAKER_PRAGMA')
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      assert.equal(db.unsafeMode(), db)
      db.exec('PRAGMA schema_version = 999')
      assert.equal(db.pragma('schema_version', { simple: true }), 999)
      db.unsafeMode(false)
      assert.equal(thrown(corrupt).code, 'SQLITE_ERROR')
      assert.equal(thrown(() => db.unsafeMode('yes')).code, 'HARDENED_INVALID_ARGUMENT')
      db.close()
    })
  },

  /** Double-quoted strings are identifiers only (DQS off for DML and DDL). */
  'double-quoted strings are identifiers'({ HardenedDb }) {
    const db = new HardenedDb(':memory:')
    db.exec('CREATE TABLE t(a)')
    const dml = thrown(() => db.prepare('SELECT "no_such_col" FROM t'))
    assert.equal(dml.code, 'SQLITE_ERROR')
    // SQLite's message says what to write instead.
    assert.equal(dml.message, 'no such column: "no_such_col" - should this be a string literal in single-quotes?')
    const inExec = thrown(() => db.exec('INSERT INTO t VALUES ("Hello")'))
    assert.equal(inExec.code, 'SQLITE_ERROR')
    assert.match(inExec.message, /"Hello" - should this be a string literal in single-quotes\?/)
    assert.equal(thrown(() => db.exec('CREATE INDEX i ON t("no_such_col")')).code, 'SQLITE_ERROR')
    assert.deepEqual(db.prepare(`SELECT 'text' AS "quoted name"`).get(), { 'quoted name': 'text' })
    db.close()
  },

  /** PRAGMA busy_timeout through exec() or prepare() is range-checked and keeps the fair busy handler. */
  'busy_timeout set through SQL'({ HardenedDb }) {
    const db = new HardenedDb(':memory:')
    for (const value of ['4294967296', '99999999999', '-5', "'12abc'", '1.5']) {
      const viaExec = thrown(() => db.exec(`PRAGMA busy_timeout = ${value}`))
      assert.ok(viaExec instanceof RangeError, value)
      assert.equal(viaExec.code, 'HARDENED_INVALID_ARGUMENT', value)
      assert.equal(thrown(() => db.prepare(`PRAGMA busy_timeout = ${value}`)).code, 'HARDENED_INVALID_ARGUMENT', value)
    }
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000)
    db.exec('PRAGMA busy_timeout = 250')
    assert.equal(db.pragma('busy_timeout', { simple: true }), 250)
    const set = db.prepare('PRAGMA busy_timeout(300)')
    set.run()
    assert.equal(db.pragma('busy_timeout', { simple: true }), 300)
    db.exec("CREATE TABLE t(x); PRAGMA busy_timeout = '0'")
    assert.equal(db.pragma('busy_timeout', { simple: true }), 0)
    assert.equal(thrown(() => db.exec('SELECT no_such_column; PRAGMA busy_timeout = 700')).code, 'SQLITE_ERROR')
    assert.equal(db.pragma('busy_timeout', { simple: true }), 0)
    db.close()
  },

  /** Many live statements: prepare stays usable and close finalizes them all. */
  'many live statements'({ HardenedDb }) {
    const db = new HardenedDb(':memory:')
    const live = []
    for (let i = 0; i < 20000; i++) {
      const stmt = db.prepare(`SELECT ${i} AS n`)
      if (i % 2 === 0) live.push(stmt)
    }
    assert.deepEqual(live[9999].get(), { n: 19998 })
    db.close()
    assert.equal(thrown(() => live[0].get()).code, 'HARDENED_NOT_OPEN')
  },
}

module.exports = { cases }

if (require.main === module) {
  const name = process.argv[2]
  const run = cases[name]
  if (run === undefined) {
    console.error(`no case named ${JSON.stringify(name)}`)
    process.exit(2)
  }
  run(require('../..'))
  console.log(`ok: ${name}`)
}
