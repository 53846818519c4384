//! `for await (const row of stmt.iterate())`: a statement kept open on one
//! pooled connection between tasks, stepped a batch of rows per task. The
//! connection's `Mutex` guards the cursor with it, and the JS side holds the
//! connection (its lane) for the whole iteration.

use rusqlite::types::Value;
use rusqlite::{Connection, ffi};

use crate::errors::{Error, Result};
use crate::r#async::bind_values::{self, RawStatement};
use crate::statement::only_comments;

/// An open statement of a pooled connection, finalized when dropped.
pub struct Cursor {
    stmt: RawStatement,
    columns: Vec<String>,
    /// The SQL, for the statement timeout's error.
    pub sql: String,
}

// SAFETY: the handle is only used under the pooled connection's `Mutex` (one
// thread at a time), and SQLite's handles are not tied to a thread
// (SQLITE_THREADSAFE=2, used serially).
unsafe impl Send for Cursor {}

impl Drop for Cursor {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_prepare_v3 on a connection that is still
        // open (`Pooled` drops its cursor before closing), and is finalized once, here.
        unsafe { ffi::sqlite3_finalize(self.stmt.0) };
    }
}

/// One batch of rows.
pub struct Batch {
    /// Column names (read after the first step).
    pub columns: Vec<String>,
    /// Cells, row after row.
    pub cells: Vec<Value>,
    /// The statement has no more rows (the cursor is to be dropped).
    pub done: bool,
}

/// Prepares `sql` (one statement that returns rows) on `conn` and binds the values.
pub fn open(conn: &Connection, sql: &str, positional: &[Value], named: Option<&[(String, Value)]>) -> Result<Cursor> {
    if only_comments(sql) {
        return Err(Error::range("HARDENED_NO_STATEMENT", "The supplied SQL string contains no statements"));
    }
    // SAFETY: only the pointer is read; the connection is open while borrowed.
    let db = unsafe { conn.handle() };
    let mut raw = std::ptr::null_mut();
    let mut tail = std::ptr::null();
    // SAFETY: `db` is open; `sql` outlives the call and its length is passed; the out pointers are valid.
    let rc = unsafe { ffi::sqlite3_prepare_v3(db, sql.as_ptr().cast(), sql.len() as i32, 0, &mut raw, &mut tail) };
    if rc != ffi::SQLITE_OK {
        return Err(crate::connection::prepare_error(db, rc));
    }
    let mut cursor = Cursor { stmt: RawStatement(raw), columns: Vec::new(), sql: sql.to_string() };
    let consumed = tail as usize - sql.as_ptr() as usize;
    if !only_comments(&sql[consumed..]) {
        return Err(Error::range(
            "HARDENED_MULTIPLE_STATEMENTS",
            "The supplied SQL string contains more than one statement; use db.exec() for several statements",
        ));
    }
    // SAFETY: the handle is live.
    if unsafe { ffi::sqlite3_column_count(raw) } == 0 {
        return Err(Error::type_error("HARDENED_NOT_A_READER", "This statement does not return data; use run() instead"));
    }
    bind_values::bind(&mut cursor.stmt, positional, named)?;
    Ok(cursor)
}

impl Cursor {
    /// Steps up to `max` rows.
    pub fn next_batch(&mut self, max: usize) -> Result<Batch> {
        let raw = self.stmt.0;
        let mut cells = Vec::new();
        let mut done = false;
        for _ in 0..max.max(1) {
            // SAFETY: the handle is live and used by this thread only (see `Send`).
            let rc = unsafe { ffi::sqlite3_step(raw) };
            if rc == ffi::SQLITE_DONE {
                done = true;
                break;
            }
            if rc != ffi::SQLITE_ROW {
                // SAFETY: the connection of a live statement is open.
                return Err(crate::connection::last_error(unsafe { ffi::sqlite3_db_handle(raw) }, rc));
            }
            if self.columns.is_empty() {
                self.columns = column_names(raw);
            }
            for col in 0..self.columns.len() as i32 {
                cells.push(column(raw, col));
            }
        }
        Ok(Batch { columns: self.columns.clone(), cells, done })
    }
}

fn column_names(raw: *mut ffi::sqlite3_stmt) -> Vec<String> {
    // SAFETY: the handle is live and positioned on a row; names are copied at once.
    unsafe {
        (0..ffi::sqlite3_column_count(raw))
            .map(|i| {
                let ptr = ffi::sqlite3_column_name(raw, i);
                if ptr.is_null() { String::new() } else { std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned() }
            })
            .collect()
    }
}

fn column(raw: *mut ffi::sqlite3_stmt, col: i32) -> Value {
    // SAFETY (every call): the handle is live, positioned on a row, and `col` is below
    // the column count; the column's value is read once and text and blob bytes are
    // copied before the next step.
    unsafe {
        let value = ffi::sqlite3_column_value(raw, col);
        match ffi::sqlite3_value_type(value) {
            ffi::SQLITE_INTEGER => Value::Integer(ffi::sqlite3_value_int64(value)),
            ffi::SQLITE_FLOAT => Value::Real(ffi::sqlite3_value_double(value)),
            ffi::SQLITE_TEXT => Value::Text(String::from_utf8_lossy(crate::sqlite_value::text(value)).into_owned()),
            ffi::SQLITE_BLOB => Value::Blob(crate::sqlite_value::blob(value).to_vec()),
            _ => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_in_batches_then_reports_done() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);").unwrap();
        let mut cursor = open(&conn, "SELECT x FROM t WHERE x >= ?", &[Value::Integer(1)], None).unwrap();
        let first = cursor.next_batch(2).unwrap();
        assert_eq!((first.columns.clone(), first.cells.len(), first.done), (vec!["x".to_string()], 2, false));
        let second = cursor.next_batch(2).unwrap();
        assert_eq!((second.cells, second.done), (vec![Value::Integer(3)], true));
        assert_eq!(open(&conn, "DELETE FROM t", &[], None).err().unwrap().code(), "HARDENED_NOT_A_READER");
        assert_eq!(open(&conn, "SELECT 1; SELECT 2", &[], None).err().unwrap().code(), "HARDENED_MULTIPLE_STATEMENTS");
        assert_eq!(open(&conn, "SELECT ?", &[], None).err().unwrap().code(), "HARDENED_PARAMETER_COUNT");
    }
}
