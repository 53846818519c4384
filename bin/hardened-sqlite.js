#!/usr/bin/env node
'use strict'
/**
 * `hardened-sqlite`: health checks and maintenance of a SQLite database from
 * the command line (Node or Bun). `hardened-sqlite --help` lists the commands.
 *
 * Exit codes: 0 success (doctor: healthy), 1 failure (doctor: degraded), 2 doctor:
 * unhealthy / check: problems found, 64 a mistake in the command line.
 */
const { parse, UsageError } = require('../lib/cli/args')
const { COMMANDS } = require('../lib/cli/commands')

const EXIT_USAGE = 64

const MAIN_USAGE = `hardened-sqlite <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`).join('\n')}

Run "hardened-sqlite <command> --help" for a command's options.`

function print(text) {
  process.stdout.write(`${text}\n`)
}

function fail(message, json) {
  if (json) print(JSON.stringify({ error: message }, null, 2))
  process.stderr.write(`hardened-sqlite: ${message.message}${message.code ? ` (${message.code})` : ''}\n`)
}

async function main(argv) {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    print(MAIN_USAGE)
    return name === undefined ? EXIT_USAGE : 0
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    throw new UsageError(`unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')}`)
  }
  const args = parse(name, command.spec, rest)
  if (args.help) {
    print(command.usage)
    return 0
  }
  const result = await command.run(args)
  print(args.flags.json ? JSON.stringify(result.json, null, 2) : result.text)
  return result.exitCode
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error) => {
    const json = process.argv.includes('--json')
    if (error instanceof UsageError) {
      process.stderr.write(`hardened-sqlite: ${error.message}\n`)
      process.stderr.write(`Run "hardened-sqlite ${error.command ? `${error.command} ` : ''}--help" for usage.\n`)
      process.exitCode = EXIT_USAGE
    } else if (typeof error?.code === 'string' && /^(HARDENED_|SQLITE_)/.test(error.code)) {
      fail({ code: error.hardenedCode ?? error.code, message: error.message }, json)
      process.exitCode = error.exitCode ?? 1
    } else {
      process.stderr.write(`hardened-sqlite: unexpected error (please report it): ${error?.stack ?? error}\n`)
      process.exitCode = 70
    }
  },
)
