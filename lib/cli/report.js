'use strict'
/**
 * The doctor's output: the health report as a readable table, and the report
 * of a database that could not even be opened.
 */
const { statSync } = require('node:fs')
const { sqliteVersion } = require('../../binding.js')

/** Exit code of `doctor` for a report status. */
const EXIT_CODES = { healthy: 0, degraded: 1, unhealthy: 2 }

function fileReport(path) {
  try {
    const stat = statSync(path)
    return { path, exists: true, mode: stat.mode & 0o777, size: stat.size }
  } catch {
    return { path, exists: false, mode: null, size: null }
  }
}

/**
 * The report for a database the hardened open refused (not a database, a
 * pre-flight failure, a failed migration): unhealthy, with one failed `open` check.
 */
function openFailureReport(path, error) {
  // A hardened check standing for SQLite's failure keeps its precise code in hardenedCode.
  const code = typeof error?.hardenedCode === 'string' ? error.hardenedCode : typeof error?.code === 'string' ? error.code : 'HARDENED_IO'
  return {
    status: 'unhealthy',
    checks: [
      {
        name: 'open',
        ok: false,
        severity: 'error',
        expected: 'opens with the hardened open sequence',
        actual: code,
        fix: error?.message ?? String(error),
      },
    ],
    sqliteVersion: sqliteVersion(),
    journalMode: null,
    walBytes: fileReport(`${path}-wal`).size ?? 0,
    userVersion: null,
    pendingMigrations: null,
    files: { db: fileReport(path), wal: fileReport(`${path}-wal`), shm: fileReport(`${path}-shm`) },
  }
}

function pad(text, width) {
  return String(text).padEnd(width)
}

function mode(file) {
  return file.exists ? `0${file.mode.toString(8).padStart(3, '0')}` : '-'
}

/** The report as text for a terminal. */
function formatReport(path, report) {
  const lines = [`${path}: ${report.status.toUpperCase()}`, '']
  const facts = [
    `SQLite ${report.sqliteVersion}`,
    `journal_mode ${report.journalMode ?? '-'}`,
    `user_version ${report.userVersion ?? '-'}`,
    `pending migrations ${report.pendingMigrations ?? '-'}`,
    `-wal ${report.walBytes} bytes`,
  ]
  lines.push(facts.join(' | '), '')
  const nameWidth = Math.max(5, ...report.checks.map((c) => c.name.length)) + 2
  const expectedWidth = Math.max(8, ...report.checks.map((c) => c.expected.length)) + 2
  lines.push(`  ${pad('', 6)}${pad('check', nameWidth)}${pad('expected', expectedWidth)}actual`)
  for (const check of report.checks) {
    const mark = check.ok ? 'ok' : check.severity === 'error' ? 'FAIL' : 'WARN'
    lines.push(`  ${pad(mark, 6)}${pad(check.name, nameWidth)}${pad(check.expected, expectedWidth)}${check.actual}`)
    if (!check.ok && check.fix) lines.push(`  ${pad('', 6)}fix: ${check.fix}`)
  }
  if (report.files) {
    lines.push('', '  files')
    for (const [label, file] of Object.entries(report.files)) {
      const size = file.exists ? `${file.size} bytes` : 'absent'
      lines.push(`  ${pad('', 6)}${pad(label, 5)}${pad(mode(file), 6)}${pad(size, 16)}${file.path}`)
    }
  }
  return lines.join('\n')
}

module.exports = { EXIT_CODES, openFailureReport, formatReport }
