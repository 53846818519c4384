//! One request of the async handle, run on a pooled connection: plain Rust
//! data in ([`Request`]), plain Rust data out ([`Outcome`]); no JS value here.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{CachedStatement, Connection};

use crate::errors::{Error, Result};
use crate::statement::only_comments;

/// What a request does with its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The first row (`get()`).
    Get,
    /// Every row (`all()`).
    All,
    /// Runs to completion; reports `changes` and `lastInsertRowid` (`run()`).
    Run,
    /// Runs every statement of the SQL, discarding rows (`exec()`).
    Exec,
    /// Prepares only: whether it is read-only and its columns (`prepare()`).
    Describe,
}

/// A request, made on the JS thread from the call's arguments.
#[derive(Debug, Clone)]
pub struct Request {
    /// The SQL text (one statement, or a script for [`Mode::Exec`]).
    pub sql: String,
    /// What to do.
    pub mode: Mode,
    /// Positional values, in order.
    pub positional: Vec<Value>,
    /// Named values by key as given (`id`, or `$id`); `None` when no object was given.
    pub named: Option<Vec<(String, Value)>>,
    /// Runs on a reader: a statement that writes is not run ([`Outcome::NotReadonly`]).
    pub reader: bool,
    /// Runs inside `db.transaction()`: the transaction must still be open after it.
    pub in_transaction: bool,
}

/// What a request produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Rows of `get()` (at most one) or `all()`: `columns.len()` cells per row.
    Rows {
        /// Column names, read after the first step.
        columns: Vec<String>,
        /// Every cell, row after row.
        cells: Vec<Value>,
    },
    /// `run()`'s result.
    Run {
        /// Rows changed by the statement.
        changes: i64,
        /// The connection's last inserted rowid.
        last_insert_rowid: i64,
    },
    /// A batch of `iterate()`: like `Rows`, and whether the statement has no more.
    Batch {
        /// Column names.
        columns: Vec<String>,
        /// Cells, row after row.
        cells: Vec<Value>,
        /// No more rows.
        done: bool,
    },
    /// `exec()` ran every statement.
    Done,
    /// The statement writes and was sent to a reader: run it on the writer.
    NotReadonly,
    /// `prepare()`'s description.
    Described {
        /// `sqlite3_stmt_readonly()`.
        readonly: bool,
        /// Whether it returns rows (`get()`/`all()` allowed).
        returns_data: bool,
    },
}

/// Runs `request` on `conn` and checks the transaction state it left.
pub fn run(conn: &Connection, request: &Request) -> Result<Outcome> {
    let outcome = if request.mode == Mode::Exec { exec(conn, &request.sql) } else { statement(conn, request) };
    let db = handle(conn);
    if let Some(ms) = crate::authorizer::take_busy_timeout(db) {
        crate::busy::adopt(conn, ms)?;
    }
    let outcome = outcome?;
    check_transaction_state(conn, request.in_transaction)?;
    Ok(outcome)
}

fn handle(conn: &Connection) -> *mut rusqlite::ffi::sqlite3 {
    // SAFETY: only the pointer is read; the connection is open while borrowed.
    unsafe { conn.handle() }
}

/// A pooled connection outside `db.transaction()` must not be left inside a
/// transaction (a `BEGIN` run through `run()`), and one inside must stay in it.
fn check_transaction_state(conn: &Connection, in_transaction: bool) -> Result<()> {
    if !in_transaction && !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
        return Err(Error::type_error(
            "HARDENED_TRANSACTION_CONTROL",
            "The async handle shares its connections between callers, so a transaction cannot be opened with BEGIN \
             (it was rolled back); use await db.transaction(async (tx) => { ... })",
        ));
    }
    if in_transaction && conn.is_autocommit() {
        return Err(Error::type_error(
            "HARDENED_TRANSACTION_CONTROL",
            "A statement inside db.transaction() ended the transaction (COMMIT, ROLLBACK or END); let the callback \
             return to commit, or throw to roll back",
        ));
    }
    Ok(())
}

fn exec(conn: &Connection, sql: &str) -> Result<Outcome> {
    let db = handle(conn);
    crate::authorizer::take_busy_timeout(db);
    conn.execute_batch(sql).map_err(|e| sqlite_error(db, e, true))?;
    Ok(Outcome::Done)
}

/// The error of a failed prepare or step, with the authorizer's reason or the
/// fix the sync API gives (see `connection::prepare_error`).
fn sqlite_error(db: *mut rusqlite::ffi::sqlite3, err: rusqlite::Error, prepare: bool) -> Error {
    match err {
        rusqlite::Error::SqliteFailure(e, _) if prepare => crate::connection::prepare_error(db, e.extended_code),
        rusqlite::Error::SqliteFailure(e, _) => crate::connection::last_error(db, e.extended_code),
        rusqlite::Error::MultipleStatement => Error::range(
            "HARDENED_MULTIPLE_STATEMENTS",
            "The supplied SQL string contains more than one statement; use db.exec() for several statements",
        ),
        other => Error::from(other),
    }
}

fn statement(conn: &Connection, request: &Request) -> Result<Outcome> {
    if only_comments(&request.sql) {
        return Err(Error::range("HARDENED_NO_STATEMENT", "The supplied SQL string contains no statements"));
    }
    let db = handle(conn);
    let mut stmt = conn.prepare_cached(&request.sql).map_err(|e| sqlite_error(db, e, true))?;
    let readonly = stmt.readonly();
    if request.reader && !readonly {
        return Ok(Outcome::NotReadonly);
    }
    let returns_data = stmt.column_count() > 0;
    if request.mode == Mode::Describe {
        return Ok(Outcome::Described { readonly, returns_data });
    }
    crate::r#async::bind_values::bind(&mut *stmt, &request.positional, request.named.as_deref())?;
    match request.mode {
        Mode::Get | Mode::All => {
            if !returns_data {
                return Err(Error::type_error(
                    "HARDENED_NOT_A_READER",
                    "This statement does not return data; use run() instead",
                ));
            }
            rows(db, &mut stmt, request.mode == Mode::Get)
        }
        _ => {
            let mut rows = stmt.raw_query();
            while rows.next().map_err(|e| sqlite_error(db, e, false))?.is_some() {}
            drop(rows);
            // SAFETY: `db` is open; these read the connection's counters of the statement just run.
            let (changes, last_insert_rowid) =
                unsafe { (rusqlite::ffi::sqlite3_changes64(db), rusqlite::ffi::sqlite3_last_insert_rowid(db)) };
            Ok(Outcome::Run { changes, last_insert_rowid })
        }
    }
}

fn rows(db: *mut rusqlite::ffi::sqlite3, stmt: &mut CachedStatement<'_>, first_only: bool) -> Result<Outcome> {
    let mut columns = Vec::new();
    let mut cells = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(|e| sqlite_error(db, e, false))? {
        let statement = row.as_ref();
        if columns.is_empty() {
            // Read after the first step: the schema may have changed since prepare.
            columns = statement.column_names().map(str::to_string).collect();
        }
        for i in 0..columns.len() {
            cells.push(owned(row.get_ref(i)?));
        }
        if first_only {
            break;
        }
    }
    Ok(Outcome::Rows { columns, cells })
}

/// Copies a cell out of the statement (text is UTF-8 by the connection's encoding).
fn owned(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Integer(v),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(sql: &str, mode: Mode) -> Request {
        Request { sql: sql.into(), mode, positional: vec![], named: None, reader: false, in_transaction: false }
    }

    #[test]
    fn rows_runs_and_reroutes() {
        let conn = Connection::open_in_memory().unwrap();
        run(&conn, &request("CREATE TABLE t(a, b)", Mode::Exec)).unwrap();
        let mut insert = request("INSERT INTO t VALUES (?, :b)", Mode::Run);
        insert.positional = vec![Value::Integer(7)];
        insert.named = Some(vec![("b".into(), Value::Text("x".into()))]);
        assert_eq!(run(&conn, &insert).unwrap(), Outcome::Run { changes: 1, last_insert_rowid: 1 });
        let all = run(&conn, &request("SELECT a, b FROM t", Mode::All)).unwrap();
        assert_eq!(
            all,
            Outcome::Rows { columns: vec!["a".into(), "b".into()], cells: vec![Value::Integer(7), Value::Text("x".into())] }
        );
        let mut on_reader = request("DELETE FROM t", Mode::Run);
        on_reader.reader = true;
        assert_eq!(run(&conn, &on_reader).unwrap(), Outcome::NotReadonly);
    }

    #[test]
    fn begin_outside_a_transaction_is_rolled_back() {
        let conn = Connection::open_in_memory().unwrap();
        let err = run(&conn, &request("BEGIN", Mode::Run)).unwrap_err();
        assert_eq!(err.code(), "HARDENED_TRANSACTION_CONTROL");
        assert!(conn.is_autocommit());
        let err = run(&conn, &request("SELECT 1; SELECT 2", Mode::Get)).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MULTIPLE_STATEMENTS");
        let err = run(&conn, &request("CREATE TABLE u(x)", Mode::All)).unwrap_err();
        assert_eq!(err.code(), "HARDENED_NOT_A_READER");
    }
}
