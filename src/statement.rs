//! A prepared statement over the raw SQLite handle: preparing exactly one
//! statement, stepping, resetting, and describing its columns and parameters.

use std::ffi::{CStr, CString};
use std::rc::Rc;

use rusqlite::ffi;

use crate::authorizer;
use crate::connection::{ActiveCall, Shared, StmtSlot, last_error};
use crate::errors::{Error, Result};

/// How one `?`, `?NNN`, `:name`, `@name` or `$name` parameter is filled.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Filled from the next positional value (`?` and `?NNN`).
    Positional,
    /// Filled from a named-parameter object, by `bare` (`id`) or `full` (`$id`) key.
    Named {
        /// The name without its prefix.
        bare: CString,
        /// The name as written in the SQL.
        full: CString,
    },
}

/// One prepared SQL statement.
#[derive(Debug)]
pub struct Statement {
    // `slot` is declared (and so dropped) before `shared`: the statement is
    // finalized before the connection can close.
    slot: Rc<StmtSlot>,
    shared: Rc<Shared>,
    /// The SQL text it was prepared from.
    pub source: String,
    /// Parameters by index (index 0 is SQLite's parameter 1).
    pub params: Vec<Param>,
    /// Read INTEGER columns as bigint.
    pub safe_integers: bool,
    /// Parameters were bound once for good with `bind()`.
    pub bound: bool,
    /// An iterator is walking its rows (set by `begin_iteration`, cleared by `reset`).
    pub iterating: bool,
    /// Its steps may run the generator of a `db.table()` table: an iterator then
    /// steps one row per `next()`, as better-sqlite3's does (see `js_table_plans`).
    pub reads_js_table: bool,
    /// The face whose binding and BLOB rules it follows (the connection's at prepare time).
    pub face: crate::face::Face,
    layout_id: u32,
    reprepares: i32,
    /// It is `PRAGMA busy_timeout = N`: after it ran, the fair busy handler goes back with N.
    busy_timeout: Option<u32>,
}

/// Skips white space and SQL comments; true when nothing else is left.
pub fn only_comments(mut rest: &str) -> bool {
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            match after.find("*/") {
                Some(i) => rest = &after[i + 2..],
                None => return true,
            }
        } else {
            return rest.is_empty();
        }
    }
}

impl Statement {
    /// Prepares `sql`, which must hold exactly one statement.
    pub fn prepare(shared: &Rc<Shared>, sql: &str) -> Result<Statement> {
        let Some((mut statement, consumed)) = Statement::prepare_first(shared, sql)? else {
            return Err(Error::range("HARDENED_NO_STATEMENT", "The supplied SQL string contains no statements"));
        };
        if !only_comments(&sql[consumed..]) {
            return Err(Error::range(
                "HARDENED_MULTIPLE_STATEMENTS",
                "The supplied SQL string contains more than one statement; use db.exec() for several statements",
            ));
        }
        if consumed < sql.len() {
            // `source` is the SQL as given, trailing comments included.
            statement.source = sql.to_string();
        }
        Ok(statement)
    }

    /// Prepares the first statement of `sql`, and says how many bytes of `sql` it
    /// took; `None` when only white space and comments are left.
    pub fn prepare_first(shared: &Rc<Shared>, sql: &str) -> Result<Option<(Statement, usize)>> {
        let db = shared.handle()?;
        authorizer::take_busy_timeout(db);
        let plans = crate::functions::js_table_plans();
        let (slot, consumed) = shared.prepare_slot(sql)?;
        let reads_js_table = crate::functions::js_table_plans() != plans;
        let busy_timeout = authorizer::take_busy_timeout(db);
        let Some(raw) = slot.get() else {
            return Ok(None);
        };
        // SAFETY: `raw` is a live statement handle just prepared on an open connection.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(raw) };
        let params = (1..=count).map(|i| param_at(raw, i)).collect();
        let statement = Statement {
            slot,
            shared: Rc::clone(shared),
            source: sql[..consumed].to_string(),
            params,
            safe_integers: shared.default_safe_integers.get(),
            bound: false,
            iterating: false,
            reads_js_table,
            face: shared.face.get(),
            layout_id: 1,
            reprepares: 0,
            busy_timeout,
        };
        Ok(Some((statement, consumed)))
    }

    /// The SQL of the statement with its bound parameters written in (SQLite's
    /// `sqlite3_expanded_sql`; a long string or BLOB is cut after
    /// `SQLITE_TRACE_SIZE_LIMIT` bytes, as in better-sqlite3's build).
    pub fn expanded_sql(&self) -> Result<String> {
        let raw = self.raw()?;
        // SAFETY: `raw` is live; the expanded text is ours to free (sqlite3_free), and
        // NULL when out of memory, when the plain text is used.
        let expanded = unsafe { ffi::sqlite3_expanded_sql(raw) };
        if expanded.is_null() {
            return Ok(self.source.clone());
        }
        // SAFETY: `expanded` is a NUL-terminated string from sqlite3_expanded_sql, freed once here.
        let text = unsafe { CStr::from_ptr(expanded) }.to_string_lossy().into_owned();
        // SAFETY: as above.
        unsafe { ffi::sqlite3_free(expanded.cast()) };
        Ok(text)
    }

    /// Whether SQLite may call JS while this statement steps (see `Shared::calls_js`).
    pub fn connection_calls_js(&self) -> bool {
        self.shared.calls_js.get()
    }

    /// The live handle, or the "not open" `TypeError` once the database closed.
    #[inline]
    pub fn raw(&self) -> Result<*mut ffi::sqlite3_stmt> {
        self.shared.ensure_idle()?;
        match self.slot.get() {
            Some(raw) if self.shared.is_open() => Ok(raw),
            None if self.shared.is_open() => Err(Error::hardened(
                "HARDENED_STATEMENT_FINALIZED",
                "Statement has finalized: finalize() was called on it; prepare the SQL again",
            )),
            _ => Err(Error::not_open()),
        }
    }

    /// Finalizes the handle now (bun:sqlite's `finalize()`); later use fails
    /// with `HARDENED_STATEMENT_FINALIZED`.
    pub fn finalize(&mut self) {
        self.reset();
        self.slot.finalize();
    }

    /// The handle's slot, finalized by whichever comes first of this statement's
    /// drop, the connection's close and `collected_statements`.
    pub(crate) fn slot(&self) -> &Rc<StmtSlot> {
        &self.slot
    }

    /// Whether `finalize()` was called (or the connection closed).
    pub fn is_finalized(&self) -> bool {
        self.slot.get().is_none()
    }

    /// Refuses the call while a user-defined function of the connection runs JS.
    pub fn connection_idle(&self) -> Result<()> {
        self.shared.ensure_idle()
    }

    /// Marks a call that may run JS callbacks while it holds the handle: a
    /// `db.close()` from one of them waits until the call ends.
    pub fn active_call(&self) -> ActiveCall {
        ActiveCall::enter(&self.shared)
    }

    /// After a call: puts the fair busy handler back if this statement is
    /// `PRAGMA busy_timeout = N` (SQLite replaced it with its own when it ran).
    #[inline]
    pub fn restore_busy_handler(&self) -> Result<()> {
        match self.busy_timeout {
            Some(ms) if self.shared.is_open() => self.shared.with(|conn| crate::busy::adopt(conn, ms)),
            _ => Ok(()),
        }
    }

    /// Whether it returns rows (`SELECT`, `PRAGMA x`, `... RETURNING`).
    pub fn reader(&self) -> Result<bool> {
        // SAFETY: `raw()` only returns live handles.
        Ok(unsafe { ffi::sqlite3_column_count(self.raw()?) } > 0)
    }

    /// Whether it never writes to the database.
    pub fn readonly(&self) -> Result<bool> {
        // SAFETY: `raw()` only returns live handles.
        Ok(unsafe { ffi::sqlite3_stmt_readonly(self.raw()?) } != 0)
    }

    /// Advances one row: `true` for a row, `false` when done. On error the
    /// statement is reset and the error carries SQLite's extended code.
    #[inline]
    pub fn step(&self, raw: *mut ffi::sqlite3_stmt) -> Result<bool> {
        // SAFETY: callers pass the handle `raw()` just returned.
        let rc = unsafe { ffi::sqlite3_step(raw) };
        match rc {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            _ => Err(self.step_failed(raw, rc)),
        }
    }

    /// The error of a step that answered `rc`, after resetting the statement.
    #[cold]
    fn step_failed(&self, raw: *mut ffi::sqlite3_stmt, rc: i32) -> Error {
        // SAFETY: the connection of a live statement is open.
        let err = last_error(unsafe { ffi::sqlite3_db_handle(raw) }, rc);
        // SAFETY: as above; resetting a failed statement is always allowed.
        unsafe { ffi::sqlite3_reset(raw) };
        self.shared.explain_interrupt(err, &self.source)
    }

    /// Marks an iterator open on it: the connection counts as busy until `reset`.
    pub fn begin_iteration(&mut self) {
        if !self.iterating {
            self.iterating = true;
            self.shared.open_iterators.set(self.shared.open_iterators.get() + 1);
        }
    }

    /// Ends the current execution so the statement can run again (keeps bindings).
    #[inline]
    pub fn reset(&mut self) {
        if self.iterating {
            self.iterating = false;
            self.shared.open_iterators.set(self.shared.open_iterators.get().saturating_sub(1));
        }
        if let Ok(raw) = self.raw() {
            // SAFETY: `raw` is live; errors were already reported by `step`.
            unsafe { ffi::sqlite3_reset(raw) };
        }
    }

    /// Number of result columns. SQLite may re-prepare the statement inside
    /// `sqlite3_step` (after a schema change by any connection), changing it:
    /// read it after the step whose row is being read.
    pub fn column_count(&self, raw: *mut ffi::sqlite3_stmt) -> usize {
        // SAFETY: callers pass the live handle.
        unsafe { ffi::sqlite3_column_count(raw) as usize }
    }

    /// An id that changes whenever SQLite re-prepared the statement (the column
    /// list may have changed, e.g. `SELECT *` after `ALTER TABLE`).
    pub fn layout_id(&mut self, raw: *mut ffi::sqlite3_stmt) -> u32 {
        // SAFETY: callers pass the live handle.
        let reprepares = unsafe { ffi::sqlite3_stmt_status(raw, ffi::SQLITE_STMTSTATUS_REPREPARE, 0) };
        if reprepares != self.reprepares {
            self.reprepares = reprepares;
            self.layout_id += 1;
        }
        self.layout_id
    }

    /// The result column names, in order.
    pub fn column_names(&self) -> Result<Vec<String>> {
        let raw = self.raw()?;
        Ok((0..self.column_count(raw) as i32)
            // SAFETY: `raw` is live and `i` is below the column count.
            .map(|i| text(unsafe { ffi::sqlite3_column_name(raw, i) }).unwrap_or_default())
            .collect())
    }

    /// Each column's name, source column, table, database and declared type.
    pub fn column_info(&self) -> Result<Vec<ColumnInfo>> {
        let raw = self.raw()?;
        Ok((0..self.column_count(raw) as i32)
            .map(|i| {
                // SAFETY: `raw` is live and `i` is below the column count; SQLite owns
                // the returned strings until the next call on this statement, and
                // `text` copies them at once.
                unsafe {
                    ColumnInfo {
                        name: text(ffi::sqlite3_column_name(raw, i)).unwrap_or_default(),
                        column: text(ffi::sqlite3_column_origin_name(raw, i)),
                        table: text(ffi::sqlite3_column_table_name(raw, i)),
                        database: text(ffi::sqlite3_column_database_name(raw, i)),
                        declared_type: text(ffi::sqlite3_column_decltype(raw, i)),
                    }
                }
            })
            .collect())
    }

    /// `sqlite3_total_changes64` of the connection (0 once closed): `run()` compares
    /// it before and after, as better-sqlite3 does.
    #[inline]
    pub fn total_changes(&self) -> i64 {
        match self.shared.handle() {
            // SAFETY: `db` is open.
            Ok(db) => unsafe { ffi::sqlite3_total_changes64(db) },
            Err(_) => 0,
        }
    }

    /// Where the tenant layer's row count stands (0 on other connections): pass it to `run_result`.
    #[inline]
    pub fn changes_mark(&self) -> i64 {
        self.shared.tenant_counts.get().map_or(0, |counts| counts.total())
    }

    /// `changes` and `lastInsertRowid` of the last completed statement on the
    /// connection; on a tenant handle, the rows its triggers wrote since `mark`.
    #[inline]
    pub fn run_result(&self, mark: i64) -> Result<(i64, i64)> {
        if let Some(counts) = self.shared.tenant_counts.get() {
            return Ok((counts.total() - mark, counts.last_rowid()));
        }
        let db = self.shared.handle()?;
        // SAFETY: `db` is open.
        Ok(unsafe { (ffi::sqlite3_changes64(db), ffi::sqlite3_last_insert_rowid(db)) })
    }

    /// Refuses to run while an iterator of the connection is open when this is
    /// a `run()` (`always`) or the statement writes, unless `unsafeMode()` is on
    /// (see `idle.rs`). Costs one load when no iterator is open.
    #[inline]
    pub fn require_may_run(&self, always: bool) -> Result<()> {
        if crate::idle::iterators_block_writes(&self.shared) && (always || !self.readonly()?) && !self.iterating {
            return crate::idle::require_no_iterators(&self.shared);
        }
        Ok(())
    }

    /// Refuses a second execution while an iterator is open on this statement.
    pub fn ensure_idle(&self) -> Result<()> {
        if self.iterating {
            return Err(Error::type_error(
                "HARDENED_STATEMENT_BUSY",
                "This statement is busy executing a query; finish or return() its iterator first",
            ));
        }
        Ok(())
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // An iterator dropped without return() no longer keeps the connection busy.
        if self.iterating {
            self.shared.open_iterators.set(self.shared.open_iterators.get().saturating_sub(1));
        }
    }
}

/// Metadata of one result column (`stmt.columns()`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// The column's name in the result.
    pub name: String,
    /// The table column it comes from, if any.
    pub column: Option<String>,
    /// The table it comes from, if any.
    pub table: Option<String>,
    /// The database (`main`, `temp`) it comes from, if any.
    pub database: Option<String>,
    /// The declared type, if any.
    pub declared_type: Option<String>,
}

fn text(ptr: *const std::os::raw::c_char) -> Option<String> {
    // SAFETY: SQLite returns NUL-terminated strings or NULL.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
}

fn param_at(raw: *mut ffi::sqlite3_stmt, index: i32) -> Param {
    // SAFETY: `raw` is live and `index` is within 1..=parameter count.
    let name = unsafe { ffi::sqlite3_bind_parameter_name(raw, index) };
    if name.is_null() {
        return Param::Positional;
    }
    // SAFETY: a non-null parameter name is NUL-terminated.
    let full = unsafe { CStr::from_ptr(name) };
    match full.to_bytes() {
        [b'?', ..] => Param::Positional,
        [_, bare @ ..] => Param::Named {
            bare: CString::new(bare).unwrap_or_default(),
            full: full.to_owned(),
        },
        [] => Param::Positional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn shared() -> Rc<Shared> {
        Shared::new(Connection::open_in_memory().unwrap(), false, None)
    }

    #[test]
    fn describes_parameters_in_index_order() {
        let stmt = Statement::prepare(&shared(), "SELECT ?, :a, @b, $c, ?9").unwrap();
        let names: Vec<String> = stmt
            .params
            .iter()
            .map(|p| match p {
                Param::Positional => "?".into(),
                Param::Named { bare, .. } => bare.to_string_lossy().into_owned(),
            })
            .collect();
        assert_eq!(names[..5], ["?", "a", "b", "c", "?"]);
        assert_eq!(stmt.params.len(), 9);
    }

    #[test]
    fn refuses_zero_or_several_statements() {
        let db = shared();
        assert_eq!(Statement::prepare(&db, "  -- nothing").unwrap_err().code(), "HARDENED_NO_STATEMENT");
        let err = Statement::prepare(&db, "SELECT 1; SELECT 2").unwrap_err();
        assert_eq!(err.code(), "HARDENED_MULTIPLE_STATEMENTS");
        assert!(Statement::prepare(&db, "SELECT 1; -- trailing comment\n").is_ok());
    }

    #[test]
    fn closing_finalizes_statements_and_makes_them_unusable() {
        let db = shared();
        let stmt = Statement::prepare(&db, "SELECT 1").unwrap();
        db.close().unwrap();
        assert_eq!(stmt.raw().unwrap_err().code(), "HARDENED_NOT_OPEN");
        db.close().unwrap();
    }

    #[test]
    fn step_errors_carry_extended_codes() {
        let db = shared();
        db.with(|c| Ok(c.execute_batch("CREATE TABLE t(x UNIQUE); INSERT INTO t VALUES (1)")?)).unwrap();
        let stmt = Statement::prepare(&db, "INSERT INTO t VALUES (1)").unwrap();
        let err = stmt.step(stmt.raw().unwrap()).unwrap_err();
        assert_eq!(err.code(), "SQLITE_CONSTRAINT_UNIQUE");
        assert!(err.message().contains("UNIQUE constraint failed: t.x"));
    }
}
