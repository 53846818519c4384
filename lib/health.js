'use strict'
/**
 * `db.health()`: the native report plus where the migrations stand, and the
 * `healthCheck: true` open option that refuses an unhealthy database.
 */
const { HardenedDbError, typeError } = require('./errors')
const { describe, isOptionsObject } = require('./arguments')
const { wrap } = require('./statement')

const HEALTH_OPTIONS = ['integrity']

/** Validates `db.health(options)` and returns the options the native side takes. */
function healthOptions(options) {
  if (options === undefined || options === null) return {}
  if (!isOptionsObject(options)) {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Expected the health options to be an object such as { integrity: "quick" }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!HEALTH_OPTIONS.includes(key)) {
      throw typeError('HARDENED_INVALID_ARGUMENT', `Unknown health option "${key}"; the only one is "integrity" ("quick" or "full")`)
    }
  }
  if (options.integrity !== undefined && typeof options.integrity !== 'string') {
    throw typeError('HARDENED_INVALID_ARGUMENT', `Health option "integrity" must be "quick" or "full", got ${describe(options.integrity)}`)
  }
  return { integrity: options.integrity }
}

/**
 * Where the schema stands for the report: `null` without migrations;
 * a migration error (changed migration, schema ahead) becomes a failed check.
 */
function migrationHealth(migrationStatus) {
  if (migrationStatus === null) return null
  try {
    const status = migrationStatus()
    return { current: status.current, latest: status.latest, pending: status.pending.length, error: null }
  } catch (error) {
    if (typeof error?.code !== 'string' || !error.code.startsWith('HARDENED_MIGRATION') && error.code !== 'HARDENED_SCHEMA_AHEAD') {
      throw error
    }
    return { current: 0, latest: 0, pending: 0, error: `${error.message} (${error.code})` }
  }
}

/**
 * Builds the report. `migrationStatus` is `db.migrationStatus` bound to the
 * database, or `null` when it was opened without migrations.
 */
function health(native, options, migrationStatus) {
  const checked = healthOptions(options)
  const migrations = migrationHealth(migrationStatus)
  return wrap(() => native.health({ ...checked, migrations: migrations ?? undefined }))
}

/**
 * For `healthCheck: true`: throws `HARDENED_UNHEALTHY` (with `.checks` and
 * `.report`) when the report is unhealthy, warns (`HARDENED_DEGRADED`) when degraded.
 */
function assertHealthy(report, name) {
  const failed = report.checks.filter((check) => !check.ok)
  const listed = failed.map((check) => `${check.name}: ${check.actual} (expected ${check.expected}); ${check.fix}`).join('\n  ')
  if (report.status === 'unhealthy') {
    const error = new HardenedDbError(`${name} is unhealthy (healthCheck: true refused it):\n  ${listed}`, 'HARDENED_UNHEALTHY')
    error.checks = failed
    error.report = report
    throw error
  }
  if (report.status === 'degraded') {
    process.emitWarning(`${name} is degraded:\n  ${listed}`, { type: 'HardenedDbWarning', code: 'HARDENED_DEGRADED' })
  }
}

module.exports = { health, healthOptions, assertHealthy }
