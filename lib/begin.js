'use strict'
/**
 * The `upgradeDeferredBegin` option: a `BEGIN` that would start a DEFERRED
 * transaction, written in SQL given to `prepare()` or `exec()`, starts an
 * IMMEDIATE one instead.
 *
 * Query builders and ORMs send a bare `BEGIN` (Kysely's transactions and
 * migrator, Drizzle's migrator). A deferred transaction that reads and then
 * writes fails with SQLITE_BUSY_SNAPSHOT as soon as another connection wrote
 * in between, whatever the busy timeout; an immediate one waits for the write
 * lock at BEGIN instead. `db.transaction(fn).deferred` is upgraded too, since
 * Drizzle's drivers call it whenever the app names no behaviour; a connection
 * opened with `upgradeDeferredBegin: false` gets real deferred transactions.
 */

/** Whitespace or a comment, which SQLite treats alike. */
const GAP = String.raw`(?:\s|--[^\n]*(?:\n|$)|/\*[\s\S]*?(?:\*/|$))`

/**
 * At a statement start: `BEGIN` or `BEGIN DEFERRED`, followed by the end of
 * the statement or by `TRANSACTION`. Group 1 is what precedes `BEGIN`.
 */
const DEFERRED_BEGIN = new RegExp(
  String.raw`(${GAP}*)BEGIN(?:${GAP}+DEFERRED)?(?=${GAP}*(?:;|$|TRANSACTION\b))`,
  'iy',
)

/** `sql` with a deferred BEGIN at `start` made immediate, and the index after the change (or -1). */
function upgradeAt(sql, start) {
  DEFERRED_BEGIN.lastIndex = start
  const match = DEFERRED_BEGIN.exec(sql)
  if (match === null) return null
  const end = start + match[0].length
  return { sql: `${sql.slice(0, start)}${match[1]}BEGIN IMMEDIATE${sql.slice(end)}`, next: start + match[1].length + 15 }
}

/** The SQL of one statement (what `prepare()` takes) with a deferred BEGIN made immediate. */
function upgradeStatement(sql) {
  const upgraded = upgradeAt(sql, 0)
  return upgraded === null ? sql : upgraded.sql
}

/** Index just past the quoted text or comment opening at `i`, or `i` when none opens there. */
function skipQuotedOrComment(sql, i) {
  const c = sql[i]
  const close = c === "'" || c === '"' || c === '`' ? c : c === '[' ? ']' : null
  if (close !== null) {
    // A doubled quote inside is an escaped quote: the scan resumes after it.
    const end = sql.indexOf(close, i + 1)
    return end === -1 ? sql.length : end + 1
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i + 2)
    return end === -1 ? sql.length : end + 1
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2)
    return end === -1 ? sql.length : end + 2
  }
  return i
}

/**
 * The SQL of several statements (what `exec()` takes) with every statement
 * that is a deferred BEGIN made immediate. Semicolons inside strings, quoted
 * names and comments do not end a statement; a trigger body's statements
 * never start with BEGIN, so they are left as they are.
 */
function upgradeScript(sql) {
  if (!/begin/i.test(sql)) return sql
  let start = 0
  let i = 0
  while (i <= sql.length) {
    if (start !== -1) {
      const upgraded = upgradeAt(sql, start)
      if (upgraded !== null) {
        sql = upgraded.sql
        i = upgraded.next
      }
      start = -1
    }
    if (i >= sql.length) break
    const skipped = skipQuotedOrComment(sql, i)
    if (skipped !== i) {
      i = skipped
    } else {
      if (sql[i] === ';') start = i + 1
      i++
    }
  }
  return sql
}

module.exports = { upgradeStatement, upgradeScript }
