// The benchmark's data and workloads, shared by every JS driver (the native
// baseline in native/src/main.rs mirrors them): the schema, the rows, the
// pragmas every driver sets, and the timing loop.

/** Rows in the `items` table that reads come from. */
export const ROWS = Number(process.env.BENCH_ROWS ?? 10_000)

/** Rows each `all` / `iterate` call returns. */
export const PAGE = 100

/**
 * The pragmas hardened-sqlite sets by default, which every other driver runs
 * too (one `exec` per connection) so the comparison is like for like.
 */
export const PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA busy_timeout = 5000',
  'PRAGMA synchronous = NORMAL',
  'PRAGMA mmap_size = 0',
  'PRAGMA foreign_keys = ON',
  'PRAGMA temp_store = MEMORY',
  'PRAGMA cache_size = -16000',
  'PRAGMA journal_size_limit = 67108864',
  'PRAGMA wal_autocheckpoint = 1000',
].join('; ')

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, r REAL NOT NULL, t TEXT NOT NULL, b BLOB NOT NULL, z INTEGER);
  CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, r REAL NOT NULL, t TEXT NOT NULL, b BLOB NOT NULL, z INTEGER);
`

export const SQL = {
  get: 'SELECT id, n, r, t, b, z FROM items WHERE id = ?',
  page: `SELECT id, n, r, t, b, z FROM items WHERE id >= ? ORDER BY id LIMIT ${PAGE}`,
  insert: 'INSERT INTO writes (n, r, t, b, z) VALUES (?, ?, ?, ?, ?)',
  clearWrites: 'DELETE FROM writes',
}

/** The values of row `i`: INTEGER, REAL, 30-character TEXT, 64-byte BLOB, NULL. */
export function rowValues(i) {
  const t = `item ${String(i).padStart(8, '0')} lorem ipsum d`.slice(0, 30)
  const b = Buffer.alloc(64)
  for (let k = 0; k < 64; k++) b[k] = (i + k * 31) & 0xff
  return [i * 7, i * 0.5 + 0.25, t, b, null]
}

/** The id the `i`-th `get` reads (spread over the whole table). */
export function getId(i) {
  return ((i * 7919) % ROWS) + 1
}

/** The first id of the `i`-th `all`/`iterate` page. */
export function pageStart(i) {
  return ((i * 7919) % (ROWS - PAGE)) + 1
}

/** Workload names, in the order they run and are reported. */
export const WORKLOADS = ['get', 'all', 'iterate', 'insert', 'insert100', 'prepare', 'open']

export const LABELS = {
  get: '`get` one row by primary key',
  all: '`all` 100 rows',
  iterate: '`iterate` 100 rows',
  insert: 'insert one row (autocommit)',
  insert100: '100 inserts in one transaction',
  prepare: '`prepare` + `get`, statement let go',
  open: 'open + harden + close',
}

/** Calls per timing batch: the clock is read once per batch. */
const BATCH = { get: 1000, all: 20, iterate: 20, insert: 50, insert100: 2, prepare: 100, open: 2 }

const now = () => performance.now()

/**
 * `BENCH_CLOCK=cpu` divides by the process's CPU time (user + system) rather
 * than the wall clock: on a machine shared with other jobs, time spent waiting
 * for a core then does not count (waits for the disk do not count either).
 */
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu'

/** CPU milliseconds this process has used. */
function cpuMs() {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Runs `fn(i)` for `warmupMs`, then for at least `timeMs`; returns calls per second. */
export function measure(workload, fn, warmupMs, timeMs) {
  const batch = BATCH[workload]
  let i = 0
  const warmEnd = now() + warmupMs
  while (now() < warmEnd) for (let k = 0; k < batch; k++) fn(i++)
  let ops = 0
  const start = now()
  const cpuStart = CPU_CLOCK ? cpuMs() : 0
  let elapsed
  do {
    for (let k = 0; k < batch; k++) fn(i++)
    ops += batch
    elapsed = now() - start
  } while (elapsed < timeMs)
  if (CPU_CLOCK) elapsed = cpuMs() - cpuStart
  return (ops * 1000) / elapsed
}

/**
 * The closures each workload times, over a driver connection `c` (see
 * drivers/*.mjs). `sink` keeps results alive so no engine can skip the work.
 */
export function workloadFns(driver, c, path) {
  const rows = Array.from({ length: PAGE }, (_, k) => rowValues(ROWS + k))
  let sink = 0
  const fns = {
    get: (i) => {
      sink += c.get(getId(i)).id
    },
    all: (i) => {
      sink += c.all(pageStart(i)).length
    },
    iterate: (i) => {
      for (const row of c.iterate(pageStart(i))) sink += row.id
    },
    insert: (i) => {
      c.insert(rows[i % PAGE])
    },
    insert100: () => {
      c.insertMany(rows)
    },
    prepare: (i) => {
      sink += c.prepareGet(getId(i)).id
    },
    open: () => {
      driver.openClose(path)
    },
  }
  return { fns, sink: () => sink }
}

/**
 * The workload handle of a connection with better-sqlite3's API (better-sqlite3,
 * bun:sqlite, hardened-sqlite): the statements prepared once, inserts batched
 * with `begin`/`commit`/`rollback` given by `transaction(fn)` or by hand; `db` is
 * the connection itself (memory.mjs prepares statements on it).
 */
export function statementDriver(db, sqliteVersion, transaction = (fn) => db.transaction(fn)) {
  const get = db.prepare(SQL.get)
  const page = db.prepare(SQL.page)
  const insert = db.prepare(SQL.insert)
  return {
    sqliteVersion,
    db,
    get: (id) => get.get(id),
    // A statement prepared for one call and let go (no statement cache), as code that prepares per request does.
    prepareGet: (id) => db.prepare(SQL.get).get(id),
    all: (start) => page.all(start),
    iterate: (start) => page.iterate(start),
    insert: (row) => insert.run(...row),
    insertMany: transaction((rows) => {
      for (const row of rows) insert.run(...row)
    }),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  }
}

/** `SELECT sqlite_version()` through a driver's own connection. */
export function sqliteVersionOf(db) {
  return db.prepare('SELECT sqlite_version() AS v').get().v
}
