//! The `verbose` option: SQLite's statement trace (`SQLITE_TRACE_STMT`) records
//! the text of every statement as it starts running, its parameters expanded
//! (`sqlite3_expanded_sql`), and JS hands each one to the `verbose` function
//! when the call that ran it returns.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int, c_uint, c_void};

use rusqlite::{Connection, ffi};

/// The statements run since JS last took them. SQLite points at it from the
/// moment [`StatementLog::install`] returns until the connection closes.
#[derive(Debug, Default)]
pub struct StatementLog {
    entries: RefCell<Vec<String>>,
}

impl StatementLog {
    /// Starts tracing `conn`. The box must outlive the connection (or its trace).
    pub fn install(conn: &Connection) -> Box<StatementLog> {
        let log = Box::new(StatementLog::default());
        let ctx = (&*log as *const StatementLog).cast_mut().cast::<c_void>();
        // SAFETY: the handle is open; `ctx` points into the box, which the caller keeps
        // until the connection is closed, and `on_statement` only reads it as `&StatementLog`.
        unsafe { ffi::sqlite3_trace_v2(conn.handle(), ffi::SQLITE_TRACE_STMT as c_uint, Some(on_statement), ctx) };
        log
    }

    /// The statements recorded since the last call, oldest first.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.entries.borrow_mut())
    }

    fn record(&self, text: String) {
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            entries.push(text);
        }
    }
}

/// `SQLITE_TRACE_STMT` callback: `statement` is the statement starting to run, `text` its SQL,
/// or a `--` comment for a trigger's program (not a statement of the caller's: skipped).
unsafe extern "C" fn on_statement(_mask: c_uint, ctx: *mut c_void, statement: *mut c_void, text: *mut c_void) -> c_int {
    if ctx.is_null() || statement.is_null() || text.is_null() {
        return 0;
    }
    // SAFETY: SQLite passes the NUL-terminated SQL text (or trigger comment) of a live statement.
    if unsafe { CStr::from_ptr(text.cast::<c_char>()) }.to_bytes().starts_with(b"--") {
        return 0;
    }
    let statement = statement.cast::<ffi::sqlite3_stmt>();
    // SAFETY: `statement` is live for the duration of the callback; the expanded text is ours
    // to free (sqlite3_free), and NULL when out of memory, when the plain text is used.
    let expanded = unsafe { ffi::sqlite3_expanded_sql(statement) };
    let line = if expanded.is_null() {
        // SAFETY: as above, `text` is NUL-terminated and lives through the callback.
        unsafe { CStr::from_ptr(text.cast::<c_char>()) }.to_string_lossy().into_owned()
    } else {
        // SAFETY: `expanded` is a NUL-terminated string from sqlite3_expanded_sql, freed once here.
        let owned = unsafe { CStr::from_ptr(expanded) }.to_string_lossy().into_owned();
        unsafe { ffi::sqlite3_free(expanded.cast()) };
        owned
    };
    // SAFETY: `ctx` is the `StatementLog` given at install, alive while the connection is.
    unsafe { &*ctx.cast::<StatementLog>() }.record(line);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_each_statement_with_its_parameters_and_skips_triggers() {
        let conn = Connection::open_in_memory().unwrap();
        let log = StatementLog::install(&conn);
        // execute_batch hands SQLite each statement from right after the previous `;`.
        conn.execute_batch("CREATE TABLE t (x);CREATE TABLE u (y);CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (new.x); END;")
            .unwrap();
        conn.execute("INSERT INTO t VALUES (?1)", ["it's"]).unwrap();
        assert_eq!(
            log.take(),
            vec![
                "CREATE TABLE t (x);".to_string(),
                "CREATE TABLE u (y);".to_string(),
                "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (new.x); END;".to_string(),
                "INSERT INTO t VALUES ('it''s')".to_string(),
            ]
        );
        assert!(log.take().is_empty());
        drop(conn);
    }
}
