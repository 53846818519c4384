'use strict'
/**
 * Checks the options object of `new HardenedDb(path, options)` before it
 * reaches the native open sequence: unknown keys (with the nearest valid one,
 * in `limits` too), wrong types, and the better-sqlite3 aliases `timeout` and `create`.
 * Defaults and value ranges are applied natively (src/options.rs).
 */
const { typeError } = require('./errors')
const { isArray, isOptionsObject, rangeError } = require('./arguments')

/** Every option and its JS type. */
const OPTION_TYPES = {
  readonly: 'boolean',
  fileMustExist: 'boolean',
  create: 'boolean',
  busyTimeout: 'number',
  timeout: 'number',
  fileMode: 'number',
  synchronous: 'string',
  mmapSize: 'number',
  foreignKeys: 'boolean',
  tempStore: 'string',
  cacheSize: 'number',
  journalSizeLimit: 'number',
  walAutocheckpoint: 'number',
  checkpointInterval: 'number',
  autoVacuum: 'string',
  safeIntegers: 'boolean',
  defaultTransaction: 'string',
  upgradeDeferredBegin: 'boolean',
  migrations: 'string or array',
  allowChangedMigrations: 'boolean',
  allowSchemaAhead: 'boolean',
  allowPendingMigrations: 'boolean',
  permissions: 'string',
  healthCheck: 'boolean',
  closeOnSignal: 'boolean',
  limits: 'object',
  statementTimeout: 'number',
  replication: 'string',
  verbose: 'function',
  nativeBinding: 'string or object',
}

/** Options that may be `null` as well as `undefined` to mean "not given", as in better-sqlite3. */
const NULLABLE = new Set(['verbose', 'nativeBinding'])

/**
 * better-sqlite3's own options, which it checks whenever the key is present
 * (`{ readonly: undefined }` is a `TypeError` there): the same here, so code
 * moving between the two meets the error in both.
 */
const PRESENT_MEANS_GIVEN = new Set(['readonly', 'fileMustExist', 'timeout'])

/** The keys of the `limits` option (SQLITE_LIMIT_* in camelCase); values are checked natively. */
const LIMIT_KEYS = [
  'length', 'sqlLength', 'column', 'exprDepth', 'compoundSelect', 'vdbeOp', 'functionArg',
  'attached', 'likePatternLength', 'variableNumber', 'triggerDepth', 'workerThreads',
]

/** Options handled in JS only; the rest go to the native open sequence. */
const JS_ONLY = new Set([
  'checkpointInterval',
  'defaultTransaction', 'timeout', 'create', 'upgradeDeferredBegin',
  'migrations', 'allowChangedMigrations', 'allowSchemaAhead', 'allowPendingMigrations',
  'healthCheck', 'closeOnSignal',
  // `verbose` is installed by lib/better-sqlite3/database.js; `nativeBinding` (better-sqlite3's path to its
  // addon file) is accepted and ignored: the addon here is loaded by binding.js.
  'verbose', 'nativeBinding',
])

function hasType(value, type) {
  if (type === 'string or array') return typeof value === 'string' || isArray(value)
  if (type === 'object') return isOptionsObject(value)
  if (type === 'string or object') return typeof value === 'string' || typeof value === 'object'
  return typeof value === type
}

/** Checks the keys and value types of the `limits` option; returns a plain copy for the native side. */
function checkLimits(limits) {
  const checked = {}
  for (const [key, value] of Object.entries(limits)) {
    if (!LIMIT_KEYS.includes(key)) {
      const hint = nearest(key, LIMIT_KEYS)
      throw typeError(
        'HARDENED_INVALID_OPTION',
        `Unknown option "limits.${key}"` + (hint ? `; did you mean "limits.${hint}"?` : `; valid limits are ${LIMIT_KEYS.join(', ')}`),
      )
    }
    if (value === undefined) continue
    if (typeof value !== 'number') {
      throw typeError('HARDENED_INVALID_OPTION', `Option "limits.${key}" must be a number, got ${value === null ? 'null' : typeof value}`)
    }
    checked[key] = value
  }
  return checked
}

/**
 * Checks a migration source: a directory path, or an array of
 * `{ version: number, name: string, sql: string }`. `what` names it in
 * messages, `code` is the error's code.
 * Values (whole, unique versions) are checked natively.
 */
function checkMigrationSource(source, what, code = 'HARDENED_INVALID_OPTION') {
  if (typeof source === 'string') {
    if (source === '') throw typeError(code, `${what} is an empty string; pass the migrations directory, such as "migrations"`)
    return source
  }
  if (!isArray(source)) {
    throw typeError(code, `${what} must be a directory path or an array of { version, name, sql }, got ${source === null ? 'null' : typeof source}`)
  }
  source.forEach((item, i) => {
    const shape = isOptionsObject(item)
    const wrong = !shape ? 'it is not an object'
      : typeof item.version !== 'number' ? `its "version" is ${typeof item.version}`
        : typeof item.name !== 'string' ? `its "name" is ${typeof item.name}`
          : typeof item.sql !== 'string' ? `its "sql" is ${typeof item.sql}` : null
    if (wrong) {
      throw typeError(code, `${what}: item ${i} must be { version: number, name: string, sql: string }, but ${wrong}`)
    }
  })
  return source
}

const TRANSACTION_BEHAVIOURS = ['deferred', 'immediate', 'exclusive']

function editDistance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]
}

/** The valid name closest to `name`, or undefined when none is close. */
function nearest(name, names) {
  const lower = name.toLowerCase()
  const sameLetters = names.find((n) => n.toLowerCase() === lower)
  if (sameLetters) return sameLetters
  let best
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of names) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance]
  }
  return best
}

/**
 * Validates `options` and splits it into what the native side takes and the
 * transaction behaviour the JS side keeps. `faceOptions` (name to type) are a
 * face's own options: checked here, handled by the face.
 */
function normalizeOptions(options, faceOptions = undefined) {
  // No options (the common case, and per-request opens): the defaults, without the checks below.
  if (options === undefined || options === null) return defaultOptions()
  if (!isOptionsObject(options)) {
    throw typeError('HARDENED_INVALID_OPTION', `Expected the options argument to be an object, got ${typeof options}`)
  }
  const types = faceOptions === undefined ? OPTION_TYPES : { ...OPTION_TYPES, ...faceOptions }
  const native = {}
  for (const [key, value] of Object.entries(options)) {
    const type = Object.hasOwn(types, key) ? types[key] : undefined
    if (type === undefined) {
      const names = Object.keys(types)
      const hint = nearest(key, names)
      throw typeError(
        'HARDENED_INVALID_OPTION',
        `Unknown option "${key}"` + (hint ? `; did you mean "${hint}"?` : `; valid options are ${names.join(', ')}`),
      )
    }
    if (value === undefined && PRESENT_MEANS_GIVEN.has(key)) {
      throw typeError('HARDENED_INVALID_OPTION', `Option "${key}" must be ${key === 'timeout' ? 'a whole number of milliseconds' : 'a boolean'}, got undefined; leave the key out for the default (better-sqlite3 refuses undefined too)`)
    }
    if (value === undefined || (value === null && NULLABLE.has(key))) continue
    if (!hasType(value, type)) {
      throw typeError('HARDENED_INVALID_OPTION', `Option "${key}" must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}, got ${value === null ? 'null' : typeof value}`)
    }
    if (!JS_ONLY.has(key) && !Object.hasOwn(faceOptions ?? {}, key)) native[key] = key === 'limits' ? checkLimits(value) : value
  }
  if (options.timeout !== undefined) {
    // better-sqlite3's checks of its alias: a whole number (TypeError), at most 2^31 - 1 (RangeError).
    if (!Number.isInteger(options.timeout) || options.timeout < 0) {
      throw typeError('HARDENED_INVALID_OPTION', `Expected the "timeout" option to be a whole number of milliseconds (0 or more), got ${options.timeout}`)
    }
    if (options.timeout > 0x7fffffff) {
      throw rangeError('HARDENED_INVALID_OPTION', `Option "timeout" is at most 2147483647 milliseconds, got ${options.timeout}`)
    }
    if (options.busyTimeout !== undefined && options.busyTimeout !== options.timeout) {
      throw typeError('HARDENED_INVALID_OPTION', 'Options "timeout" and "busyTimeout" disagree; "timeout" is an alias, pass only "busyTimeout"')
    }
    native.busyTimeout = options.timeout
  }
  if (options.create === false) native.fileMustExist = true
  if (options.create === true && options.fileMustExist === true) {
    throw typeError('HARDENED_INVALID_OPTION', 'Options "create: true" and "fileMustExist: true" contradict each other; pass one of them')
  }
  const defaultTransaction = options.defaultTransaction ?? 'immediate'
  if (!TRANSACTION_BEHAVIOURS.includes(defaultTransaction)) {
    const error = new RangeError(`Option "defaultTransaction" must be one of ${TRANSACTION_BEHAVIOURS.join(', ')}, got "${defaultTransaction}"`)
    error.code = 'HARDENED_INVALID_OPTION'
    throw error
  }
  const interval = options.checkpointInterval
  if (interval !== undefined && (!Number.isInteger(interval) || interval < 0 || interval > 2 ** 31 - 1)) {
    const error = new RangeError(`Option "checkpointInterval" must be a whole number of milliseconds (0 turns it off), got ${interval}`)
    error.code = 'HARDENED_INVALID_OPTION'
    throw error
  }
  if (interval > 0 && options.replication !== undefined && options.replication.toLowerCase() !== 'none') {
    throw typeError(
      'HARDENED_INVALID_OPTION',
      `Options "checkpointInterval" and "replication: ${JSON.stringify(options.replication)}" contradict each other: the replicator does the checkpoints (its read transaction leaves every periodic one partial); remove "checkpointInterval"`,
    )
  }
  if (options.upgradeDeferredBegin === true && options.readonly === true) {
    throw typeError('HARDENED_INVALID_OPTION', 'Options "upgradeDeferredBegin: true" and "readonly: true" contradict each other: a readonly connection never takes the write lock; pass one of them')
  }
  const upgradeDeferredBegin = options.upgradeDeferredBegin ?? options.readonly !== true
  return { native, defaultTransaction, upgradeDeferredBegin, migrations: migrationOptions(options) }
}

/** What `normalizeOptions` returns for no options at all. */
function defaultOptions() {
  return {
    native: {},
    defaultTransaction: 'immediate',
    upgradeDeferredBegin: true,
    migrations: { source: undefined, flags: { allowChangedMigrations: false, allowSchemaAhead: false, allowPendingMigrations: false } },
  }
}

/** The migration source (or undefined) and the flags the native runner takes. */
function migrationOptions(options) {
  if (options.allowPendingMigrations === true && options.readonly !== true) {
    throw typeError(
      'HARDENED_INVALID_OPTION',
      'Option "allowPendingMigrations" only applies to readonly connections (a writable one applies pending migrations); remove it or add readonly: true',
    )
  }
  const source = options.migrations === undefined ? undefined : checkMigrationSource(options.migrations, 'Option "migrations"')
  const flags = {
    allowChangedMigrations: options.allowChangedMigrations === true,
    allowSchemaAhead: options.allowSchemaAhead === true,
    allowPendingMigrations: options.allowPendingMigrations === true,
  }
  return { source, flags }
}

module.exports = { normalizeOptions, nearest, checkMigrationSource, OPTION_TYPES, LIMIT_KEYS }
