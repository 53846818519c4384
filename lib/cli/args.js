'use strict'
/**
 * Command-line parsing for `hardened-sqlite`: positionals and `--flag` /
 * `--flag value` / `--flag=value` options, checked against each command's
 * spec. A mistake is a `UsageError`, printed without a stack trace.
 */
const { nearest } = require('../options')

/** A mistake in the command line; the CLI prints it with the command's usage and exits 64. */
class UsageError extends Error {
  constructor(message, command) {
    super(message)
    this.command = command
  }
}

/**
 * Parses `argv` for `spec`: `{ positionals: ['db'], flags: { json: 'boolean', mode: 'string' } }`.
 * Returns `{ positionals: { db }, flags: { json, mode }, help }`.
 */
function parse(command, spec, argv) {
  const flags = {}
  const positionals = []
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--help' || arg === '-h') {
      help = true
      continue
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option "${arg}"`, command)
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const type = spec.flags[name]
    if (type === undefined) {
      const hint = nearest(name, Object.keys(spec.flags))
      throw new UsageError(`unknown option "--${name}"` + (hint ? `; did you mean "--${hint}"?` : ''), command)
    }
    if (type === 'boolean') {
      if (eq !== -1) throw new UsageError(`option "--${name}" takes no value`, command)
      flags[name] = true
      continue
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) {
      throw new UsageError(`option "--${name}" needs a value`, command)
    }
    flags[name] = value
  }
  if (help) return { positionals: {}, flags, help }
  if (positionals.length !== spec.positionals.length) {
    const wanted = spec.positionals.map((p) => `<${p}>`).join(' ')
    const problem = positionals.length < spec.positionals.length ? 'missing' : 'too many arguments for'
    throw new UsageError(`${problem} ${wanted}${positionals.length > spec.positionals.length ? `: ${positionals.join(' ')}` : ''}`, command)
  }
  for (const name of spec.required ?? []) {
    if (flags[name] === undefined) throw new UsageError(`option "--${name}" is required`, command)
  }
  const named = Object.fromEntries(spec.positionals.map((p, i) => [p, positionals[i]]))
  return { positionals: named, flags, help }
}

module.exports = { parse, UsageError }
