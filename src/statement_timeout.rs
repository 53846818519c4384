//! The statement timeout (option `statementTimeout`): SQLite's progress handler
//! interrupts a call that runs past its deadline.
//!
//! A deadline is set when a call starts (a hot call of a statement, `exec`) and
//! cleared when it ends; a call made from inside another (a JS getter met while
//! binding) runs under the outer call's deadline. The handler runs every
//! [`OPCODES_PER_CHECK`] virtual-machine instructions; without a timeout it is
//! not installed, and the calls only test an `Option`: no clock is read.
//!
//! An interrupted statement fails with `SQLITE_INTERRUPT`, which becomes
//! `HARDENED_STATEMENT_TIMEOUT`. SQLite undoes the statement; when it was a
//! write inside a transaction, SQLite rolls the whole transaction back.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ffi};

use crate::errors::{Error, Result};

/// Virtual-machine instructions between two looks at the clock (a few microseconds).
pub const OPCODES_PER_CHECK: c_int = 1000;

/// The timeout of one connection and the deadline of its running call.
#[derive(Debug)]
pub struct StatementTimeout {
    limit: Duration,
    deadline: Cell<Option<Instant>>,
    /// The handler interrupted the running call.
    expired: Cell<bool>,
}

unsafe extern "C" fn on_progress(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the box `install` registered; its owner (the connection's
    // `Shared`) removes the handler before the connection closes and drops the box
    // only after that. The connection is used by one thread at a time.
    let timeout = unsafe { &*data.cast::<StatementTimeout>() };
    match timeout.deadline.get() {
        Some(deadline) if Instant::now() >= deadline => {
            timeout.expired.set(true);
            1
        }
        _ => 0,
    }
}

/// Clears the deadline when the outermost call ends, even by a panic.
struct Armed<'a>(&'a StatementTimeout);

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        self.0.deadline.set(None);
    }
}

impl StatementTimeout {
    /// Installs the progress handler on `conn` for a timeout of `ms` (none for 0).
    /// The returned box must outlive the handler: see [`StatementTimeout::uninstall`].
    pub fn install(conn: &Connection, ms: u32) -> Option<Box<StatementTimeout>> {
        if ms == 0 {
            return None;
        }
        let timeout = Box::new(StatementTimeout {
            limit: Duration::from_millis(ms.into()),
            deadline: Cell::new(None),
            expired: Cell::new(false),
        });
        let data = std::ptr::from_ref::<StatementTimeout>(&timeout).cast_mut().cast::<c_void>();
        // SAFETY: the handle is open; `data` points into the box, which the caller keeps
        // until `uninstall` (see `on_progress`).
        unsafe { ffi::sqlite3_progress_handler(conn.handle(), OPCODES_PER_CHECK, Some(on_progress), data) };
        Some(timeout)
    }

    /// Removes the progress handler from `conn` (before the box is dropped).
    pub fn uninstall(conn: &Connection) {
        // SAFETY: the handle is open; no handler means SQLite keeps no pointer.
        unsafe { ffi::sqlite3_progress_handler(conn.handle(), 0, None, std::ptr::null_mut()) };
    }

    /// The timeout in milliseconds.
    pub fn ms(&self) -> u128 {
        self.limit.as_millis()
    }

    /// Runs `f` under a deadline `limit` from now, unless a call is already running.
    pub fn run<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.deadline.get().is_some() {
            return f();
        }
        self.expired.set(false);
        self.deadline.set(Some(Instant::now() + self.limit));
        let _armed = Armed(self);
        f()
    }

    /// `HARDENED_STATEMENT_TIMEOUT` for the `SQLITE_INTERRUPT` of a call the
    /// handler stopped (`sql` names it); any other error unchanged.
    pub fn explain(&self, err: Error, sql: &str) -> Error {
        match err {
            Error::Sqlite { code, .. } if code & 0xff == ffi::SQLITE_INTERRUPT && self.expired.get() => {
                timeout_error(self.ms(), sql, err)
            }
            other => other,
        }
    }
}

/// The error of a statement interrupted after `ms` milliseconds.
fn timeout_error(ms: u128, sql: &str, cause: Error) -> Error {
    const SHOWN: usize = 120;
    let shown = match sql.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}...", &sql[..end]),
        None => sql.to_string(),
    };
    Error::Hardened {
        code: "HARDENED_STATEMENT_TIMEOUT",
        message: format!(
            "\"{}\" ran longer than statementTimeout ({ms} ms) and was interrupted; SQLite undid it (a write inside \
             a transaction rolls the whole transaction back: see db.inTransaction). Make it cheaper (an index, a \
             LIMIT) or open the database with a larger statementTimeout",
            shown.trim()
        ),
        cause: Some(Box::new(cause)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNAWAY: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

    #[test]
    fn interrupts_a_runaway_query_and_leaves_the_connection_usable() {
        let conn = Connection::open_in_memory().unwrap();
        let timeout = StatementTimeout::install(&conn, 20).unwrap();
        let result = timeout.run(|| conn.query_row(RUNAWAY, [], |r| r.get::<_, i64>(0)).map_err(Error::from));
        let err = timeout.explain(result.unwrap_err(), RUNAWAY);
        assert_eq!(err.code(), "HARDENED_STATEMENT_TIMEOUT");
        assert!(err.message().contains("statementTimeout (20 ms)"), "{}", err.message());
        let Error::Hardened { cause: Some(cause), .. } = err else { panic!("no cause") };
        assert_eq!(cause.code(), "SQLITE_INTERRUPT");
        // Outside a call there is no deadline: the same runaway shape, bounded, runs to its end.
        let bounded = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT count(*) FROM c";
        assert_eq!(conn.query_row(bounded, [], |r| r.get::<_, i64>(0)).unwrap(), 100_000);
        assert_eq!(timeout.run(|| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)).unwrap(), 1);
        StatementTimeout::uninstall(&conn);
    }

    #[test]
    fn other_errors_and_interrupts_it_did_not_cause_pass_through() {
        let conn = Connection::open_in_memory().unwrap();
        let timeout = StatementTimeout::install(&conn, 60_000).unwrap();
        let err = timeout.run(|| conn.execute_batch("SELECT * FROM nowhere").map_err(Error::from)).unwrap_err();
        assert_eq!(timeout.explain(err, "x").code(), "SQLITE_ERROR");
        let interrupt = Error::Sqlite { code: ffi::SQLITE_INTERRUPT, message: "interrupted".into() };
        assert_eq!(timeout.explain(interrupt, "x").code(), "SQLITE_INTERRUPT");
        StatementTimeout::uninstall(&conn);
    }

    #[test]
    fn nested_calls_keep_the_outer_deadline_and_a_panic_clears_it() {
        let conn = Connection::open_in_memory().unwrap();
        let timeout = StatementTimeout::install(&conn, 60_000).unwrap();
        let outer = timeout.run(|| {
            let before = timeout.deadline.get();
            timeout.run(|| Ok(()))?;
            Ok(before == timeout.deadline.get() && before.is_some())
        });
        assert!(outer.unwrap());
        assert_eq!(timeout.deadline.get(), None);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| timeout.run(|| -> Result<()> { panic!("x") })));
        assert!(caught.is_err());
        assert_eq!(timeout.deadline.get(), None);
        StatementTimeout::uninstall(&conn);
    }

    #[test]
    fn the_message_shows_the_start_of_a_long_statement() {
        let sql = format!("SELECT '{}'", "é".repeat(300));
        let cause = Error::Sqlite { code: ffi::SQLITE_INTERRUPT, message: "interrupted".into() };
        let err = timeout_error(7, &sql, cause);
        let shown: String = sql.chars().take(120).collect();
        assert!(err.message().starts_with(&format!("\"{shown}...\" ran longer than statementTimeout (7 ms)")), "{}", err.message());
    }

    #[test]
    fn no_timeout_installs_nothing() {
        let conn = Connection::open_in_memory().unwrap();
        assert!(StatementTimeout::install(&conn, 0).is_none());
    }
}
