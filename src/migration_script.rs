//! Running one migration's SQL statement by statement, split by SQLite itself,
//! so a failure names the statement and its line; while it runs, the
//! authorizer refuses the statements that would silently break the transaction
//! around it (see `authorizer::Refusal`).

use std::ffi::{CString, c_int};
use std::ptr;

use rusqlite::{Connection, ffi};

use crate::authorizer::{MigrationScope, Refusal};
use crate::connection::last_error;
use crate::errors::{Error, Result};

/// The statement of a script that failed, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    /// 1-based line of the file where the statement starts.
    pub line: usize,
    /// The statement's text, trimmed.
    pub text: String,
    /// SQLite's error (or the refusal, for a statement a migration may not contain).
    pub error: Error,
    /// Why the statement was refused, when it was (`None` for SQLite's own errors).
    pub refused: Option<&'static str>,
}

/// Finalizes a prepared statement when dropped.
struct Prepared(*mut ffi::sqlite3_stmt);

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: null or a statement prepared here and finalized only now.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

/// Length of the white space and comments at the start of `text`.
fn leading_trivia(text: &str) -> usize {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            return text.len() - rest.len();
        }
    }
}

/// The end of the statement starting `text`: the first `;` at which SQLite
/// (`sqlite3_complete`) sees a complete statement, or the end of `text`.
fn statement_end(text: &str) -> usize {
    for (i, _) in text.match_indices(';') {
        let Ok(prefix) = CString::new(&text[..=i]) else { break };
        // SAFETY: `prefix` is NUL-terminated.
        if unsafe { ffi::sqlite3_complete(prefix.as_ptr()) } != 0 {
            return i + 1;
        }
    }
    text.len()
}

fn failed(sql: &str, start: usize, end: usize, error: Error, refused: Option<Refusal>) -> Failed {
    Failed {
        line: sql[..start].matches('\n').count() + 1,
        text: sql[start..end].trim().to_string(),
        error,
        refused: refused.as_ref().map(Refusal::explain),
    }
}

/// Runs every statement of `sql` in order (rows are discarded), stopping at the first failure.
pub fn run(conn: &Connection, sql: &str) -> std::result::Result<(), Failed> {
    // SAFETY: the handle is only used while `conn` is borrowed, i.e. open.
    let db = unsafe { conn.handle() };
    let scope = MigrationScope::enter(conn).map_err(|error| failed(sql, 0, 0, error, None))?;
    let mut offset = 0;
    while offset < sql.len() {
        let start = offset + leading_trivia(&sql[offset..]);
        if start >= sql.len() {
            break;
        }
        let rest = &sql[start..];
        let Ok(length) = c_int::try_from(rest.len()) else {
            let error = Error::hardened("HARDENED_MIGRATION_INVALID", "the migration is larger than 2 GiB; split it");
            return Err(failed(sql, start, sql.len(), error, None));
        };
        let mut raw = ptr::null_mut();
        let mut tail = ptr::null();
        // SAFETY: `db` is open; `rest` is valid for `length` bytes; out pointers are valid.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, rest.as_ptr().cast(), length, &mut raw, &mut tail) };
        let stmt = Prepared(raw);
        if rc != ffi::SQLITE_OK {
            let end = start + statement_end(rest);
            return Err(failed(sql, start, end, last_error(db, rc), scope.take_refusal()));
        }
        let end = start + (tail as usize - rest.as_ptr() as usize);
        if !stmt.0.is_null() {
            step_to_end(db, &stmt).map_err(|error| failed(sql, start, end, error, None))?;
        }
        offset = end;
    }
    Ok(())
}

fn step_to_end(db: *mut ffi::sqlite3, stmt: &Prepared) -> Result<()> {
    loop {
        // SAFETY: `stmt.0` is a live statement on the open `db`.
        match unsafe { ffi::sqlite3_step(stmt.0) } {
            ffi::SQLITE_ROW => continue,
            ffi::SQLITE_DONE => return Ok(()),
            rc => return Err(last_error(db, rc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection::open_in_memory().unwrap()
    }

    #[test]
    fn runs_statements_triggers_and_comments() {
        let c = conn();
        let sql = "-- a comment; with a semicolon\nCREATE TABLE t(x TEXT); /* block; */\n\
                   CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO t2 VALUES (NEW.x || ';'); END;\n\
                   CREATE TABLE t2(y);\nINSERT INTO t VALUES ('a;b');\nSELECT * FROM t;\n-- trailing comment";
        run(&c, sql).unwrap();
        let y: String = c.query_row("SELECT y FROM t2", [], |r| r.get(0)).unwrap();
        assert_eq!(y, "a;b;");
    }

    #[test]
    fn names_the_failing_statement_and_its_line() {
        let c = conn();
        let sql = "CREATE TABLE a(x);\nCREATE TABLE b(x);\n\n-- third\nCREATE TABLEE c(x);\nCREATE TABLE d(x);";
        let err = run(&c, sql).unwrap_err();
        assert_eq!((err.line, err.text.as_str()), (5, "CREATE TABLEE c(x);"));
        assert_eq!(err.error.code(), "SQLITE_ERROR");
        assert!(err.error.message().contains("syntax error"), "{}", err.error.message());
        let err = run(&conn(), "CREATE TABLE u(x UNIQUE);\nINSERT INTO u VALUES (1);\nINSERT INTO u VALUES (1);").unwrap_err();
        assert_eq!((err.line, err.text.as_str(), err.error.code()), (3, "INSERT INTO u VALUES (1);", "SQLITE_CONSTRAINT_UNIQUE"));
    }

    #[test]
    fn refuses_pragmas_that_do_nothing_in_a_transaction_and_transaction_control() {
        for (sql, words) in [
            ("PRAGMA foreign_keys = OFF;", "foreign_keys=off"),
            ("PRAGMA journal_mode=DELETE;", "journal_mode"),
            ("PRAGMA user_version = 9;", "runner"),
            ("COMMIT;", "SAVEPOINT is fine"),
        ] {
            let c = conn();
            let err = run(&c, &format!("CREATE TABLE t(x);\n{sql}")).unwrap_err();
            assert_eq!((err.line, err.error.code()), (2, "SQLITE_AUTH"), "{sql}");
            assert!(err.refused.is_some_and(|why| why.contains(words)), "{sql}: {:?}", err.refused);
        }
        let c = conn();
        run(&c, "PRAGMA foreign_keys; SAVEPOINT s; CREATE TABLE t(x); RELEASE s;").unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    }

    #[test]
    fn empty_and_comment_only_scripts_do_nothing() {
        run(&conn(), "").unwrap();
        run(&conn(), "  -- nothing\n/* at all */ ;\n").unwrap();
    }
}
