'use strict'
/**
 * The commands of `hardened-sqlite`. Each has its usage text, its argument
 * spec and a `run` that returns `{ json, text, exitCode }`.
 */
const { HardenedDb } = require('../better-sqlite3/database')
const { EXIT_CODES, openFailureReport, formatReport } = require('./report')
const { UsageError } = require('./args')
const { restore } = require('./restore')

const CHECKPOINT_MODES = ['PASSIVE', 'FULL', 'RESTART', 'TRUNCATE']

/** The open option of `--replication NAME` (`litestream`), checked by the open itself. */
function replicationOption(flags) {
  return flags.replication === undefined ? {} : { replication: flags.replication }
}

/** `--timeout MS` of the checkpoint command: a whole number of milliseconds. */
function checkpointTimeout(flags) {
  if (flags.timeout === undefined) return undefined
  const ms = Number(flags.timeout)
  if (!/^\d+$/.test(flags.timeout) || !Number.isSafeInteger(ms)) {
    throw new UsageError(`--timeout takes a whole number of milliseconds, got "${flags.timeout}"`, 'checkpoint')
  }
  return ms
}

/** Opens `path` for a command that must not create it. */
function openExisting(path, options = {}) {
  return new HardenedDb(path, { fileMustExist: true, ...options })
}

/** Runs `fn(db)` and closes `db` whatever happens. */
function using(db, fn) {
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

/**
 * Runs `fn` with the file-mode and degraded warnings of the open silenced:
 * the doctor's report shows them already.
 */
function withoutOpenWarnings(fn) {
  const original = process.emitWarning
  process.emitWarning = function (warning, options, ...rest) {
    const code = typeof options === 'object' && options !== null ? options.code : undefined
    if (code === 'HARDENED_FILE_MODE' || code === 'HARDENED_DEGRADED') return
    return original.call(process, warning, options, ...rest)
  }
  try {
    return fn()
  } finally {
    process.emitWarning = original
  }
}

const doctor = {
  summary: 'open with the hardened sequence, apply migrations, print the health report',
  usage: `hardened-sqlite doctor <db> [--migrations DIR] [--full] [--json]

Opens <db> with the hardened open sequence, applies the migrations of DIR (a
missing <db> is created only when --migrations is given), runs every health
check plus PRAGMA quick_check (--full: integrity_check) and prints the report.

Options:
  --migrations DIR   apply and check the migrations in DIR (NNN_name.sql files)
  --full             run PRAGMA integrity_check instead of quick_check
  --replication litestream
                     Litestream ships the WAL: check its tables, that it runs, its WAL bound
  --json             print the report as JSON
  --help             show this help

Exit code: 0 healthy, 1 degraded, 2 unhealthy (including a file that cannot be opened).`,
  spec: { positionals: ['db'], flags: { migrations: 'string', full: 'boolean', replication: 'string', json: 'boolean' } },
  run({ positionals: { db: path }, flags }) {
    const options = flags.migrations === undefined ? { fileMustExist: true } : { migrations: flags.migrations }
    Object.assign(options, replicationOption(flags))
    let report
    try {
      const db = withoutOpenWarnings(() => new HardenedDb(path, { permissions: 'warn', ...options }))
      report = using(db, () => db.health({ integrity: flags.full ? 'full' : 'quick' }))
    } catch (error) {
      if (typeof error?.code !== 'string' || !/^(HARDENED_|SQLITE_)/.test(error.code)) throw error
      report = openFailureReport(path, error)
    }
    return { json: report, text: formatReport(path, report), exitCode: EXIT_CODES[report.status] }
  },
}

const migrate = {
  summary: 'apply the pending migrations of a directory',
  usage: `hardened-sqlite migrate <db> --migrations DIR [--json]

Applies every pending migration of DIR to <db> (created if missing), each in
its own transaction, and prints what ran.

Options:
  --migrations DIR   the migrations directory (NNN_name.sql files); required
  --json             print { from, to, applied } as JSON
  --help             show this help`,
  spec: { positionals: ['db'], flags: { migrations: 'string', json: 'boolean' }, required: ['migrations'] },
  run({ positionals: { db: path }, flags }) {
    const db = new HardenedDb(path)
    const result = using(db, () => db.migrate(flags.migrations))
    const list = result.applied.map((m) => `  ${m.version} ${m.name} (${m.ms.toFixed(1)} ms)`)
    const text = result.applied.length === 0
      ? `${path}: up to date at schema version ${result.to}`
      : [`${path}: applied ${result.applied.length} migration(s), schema version ${result.from} -> ${result.to}`, ...list].join('\n')
    return { json: result, text, exitCode: 0 }
  },
}

const status = {
  summary: 'show the schema version and the pending migrations',
  usage: `hardened-sqlite status <db> --migrations DIR [--json]

Prints the schema version of <db>, the newest migration in DIR and the
migrations not applied yet. Changes nothing.

Options:
  --migrations DIR   the migrations directory; required
  --json             print { current, latest, pending } as JSON
  --help             show this help

Exit code: 0 up to date, 1 migrations pending.`,
  spec: { positionals: ['db'], flags: { migrations: 'string', json: 'boolean' }, required: ['migrations'] },
  run({ positionals: { db: path }, flags }) {
    const db = openExisting(path)
    const result = using(db, () => db.migrationStatus(flags.migrations))
    const head = `${path}: schema version ${result.current}, latest migration ${result.latest}`
    const text = result.pending.length === 0
      ? `${head}, up to date`
      : [`${head}, ${result.pending.length} pending:`, ...result.pending.map((m) => `  ${m.version} ${m.name}`)].join('\n')
    return { json: result, text, exitCode: result.pending.length === 0 ? 0 : 1 }
  },
}

const backup = {
  summary: 'write a verified, consistent snapshot to a new file',
  usage: `hardened-sqlite backup <db> <dest> [--overwrite] [--json]

Copies <db> with SQLite's online backup API (other processes keep writing),
into a temporary file with the database's file mode that is fsynced, checked
with PRAGMA integrity_check and renamed to <dest>. Never a file copy.

Options:
  --overwrite   replace <dest> if it exists (refused otherwise)
  --json        print { totalPages, remainingPages, path, bytes } as JSON
  --help        show this help`,
  spec: { positionals: ['db', 'dest'], flags: { overwrite: 'boolean', json: 'boolean' } },
  async run({ positionals: { db: path, dest }, flags }) {
    const db = openExisting(path)
    let result
    try {
      result = await db.backup(dest, { overwrite: flags.overwrite === true })
    } finally {
      db.close()
    }
    const { totalPages, remainingPages, path: written, bytes } = result
    return { json: { totalPages, remainingPages, path: written, bytes }, text: `${path} -> ${dest}: ${result.totalPages} pages, ${result.bytes} bytes, integrity_check ok`, exitCode: 0 }
  },
}

const checkpoint = {
  summary: 'copy the -wal into the database (TRUNCATE also empties it)',
  usage: `hardened-sqlite checkpoint <db> [--mode passive|full|restart|truncate] [--json]

Runs PRAGMA wal_checkpoint(MODE) on <db>. PASSIVE (the default) copies what it
can without waiting; FULL, RESTART and TRUNCATE wait for readers while holding
the write lock, at most --timeout ms (default 1000), then report busy;
TRUNCATE also truncates the -wal file to zero bytes.

Options:
  --mode MODE        passive (default), full, restart or truncate
  --timeout MS       longest wait for readers (FULL, RESTART, TRUNCATE); default 1000
  --replication litestream
                     Litestream ships the WAL: never wait (its read transaction never ends)
  --json             print { busy, walFrames, checkpointedFrames, walBytes } as JSON
  --help             show this help

Exit code: 0 done, 1 another connection kept it from finishing (busy).`,
  spec: { positionals: ['db'], flags: { mode: 'string', timeout: 'string', replication: 'string', json: 'boolean' } },
  run({ positionals: { db: path }, flags }) {
    const mode = (flags.mode ?? 'passive').toUpperCase()
    if (!CHECKPOINT_MODES.includes(mode)) {
      throw new UsageError(`--mode must be passive, full, restart or truncate, got "${flags.mode}"`, 'checkpoint')
    }
    const timeout = checkpointTimeout(flags)
    const db = openExisting(path, replicationOption(flags))
    const result = using(db, () => ({ ...db.checkpoint(mode, { timeout }), walBytes: db.walSize() }))
    const text = `${path}: checkpoint ${mode}: ${result.checkpointedFrames} of ${result.walFrames} frames copied, -wal now ${result.walBytes} bytes` +
      (result.busy ? ' (busy: another connection held a lock; retry later)' : '')
    return { json: result, text, exitCode: result.busy ? 1 : 0 }
  },
}

const check = {
  summary: 'run PRAGMA quick_check (or integrity_check with --full)',
  usage: `hardened-sqlite check <db> [--full] [--json]

Runs PRAGMA quick_check on <db> (--full: the slower integrity_check, which
also verifies indexes against their tables) and prints the problems found.

Options:
  --full   run integrity_check
  --json   print { ok, problems } as JSON
  --help   show this help

Exit code: 0 sound, 2 problems found.`,
  spec: { positionals: ['db'], flags: { full: 'boolean', json: 'boolean' } },
  run({ positionals: { db: path }, flags }) {
    const db = openExisting(path, { readonly: true })
    const problems = using(db, () => db.integrityCheck({ quick: !flags.full }))
    const what = flags.full ? 'integrity_check' : 'quick_check'
    const text = problems.length === 0 ? `${path}: ${what} ok` : [`${path}: ${what} found ${problems.length} problem(s):`, ...problems.map((p) => `  ${p}`)].join('\n')
    return { json: { ok: problems.length === 0, problems }, text, exitCode: problems.length === 0 ? 0 : 2 }
  },
}

const vacuum = {
  summary: 'release free pages, refresh statistics, shrink the -wal',
  usage: `hardened-sqlite vacuum <db> [--full] [--json]

Releases the free pages of <db> to the file system: PRAGMA incremental_vacuum
on a database created with autoVacuum "INCREMENTAL", otherwise (or with --full)
VACUUM, which rewrites the whole file and needs as much free disk space. Then
runs PRAGMA optimize and a TRUNCATE checkpoint (waiting at most
1000 ms for readers, not at all with --replication) so the file shrinks.

Options:
  --full   rewrite the database with VACUUM
  --replication litestream
           Litestream ships the WAL: the checkpoint never waits and the -wal stays
  --json   print { method, freedPages, bytesBefore, bytesAfter, checkpointBusy } as JSON
  --help   show this help`,
  spec: { positionals: ['db'], flags: { full: 'boolean', replication: 'string', json: 'boolean' } },
  run({ positionals: { db: path }, flags }) {
    const db = openExisting(path, replicationOption(flags))
    const result = using(db, () => {
      const size = () => db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true })
      const bytesBefore = size()
      const freeBefore = db.pragma('freelist_count', { simple: true })
      // Only an auto_vacuum = INCREMENTAL file (2) can give pages back without a rewrite.
      const method = flags.full || db.pragma('auto_vacuum', { simple: true }) !== 2 ? 'VACUUM' : 'incremental_vacuum'
      if (method === 'VACUUM') db.exec('VACUUM')
      else db.incrementalVacuum()
      db.optimize()
      const checkpointBusy = db.checkpoint('TRUNCATE').busy
      return { method, freedPages: freeBefore - db.pragma('freelist_count', { simple: true }), bytesBefore, bytesAfter: size(), checkpointBusy }
    })
    const text = `${path}: ${result.method} freed ${result.freedPages} page(s), ${result.bytesBefore} -> ${result.bytesAfter} bytes` +
      (result.checkpointBusy ? ' (the -wal was not truncated: a reader or Litestream holds it; it shrinks at the next checkpoint)' : '')
    return { json: result, text, exitCode: 0 }
  },
}

/** Every command by name, in the order `--help` lists them. */
const COMMANDS = { doctor, migrate, status, backup, checkpoint, check, vacuum, restore }

module.exports = { COMMANDS }
