//! The connection shared by a database object and its statements, and the
//! bookkeeping that lets `close()` finalize every statement first.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::rc::{Rc, Weak};

use rusqlite::{Connection, ffi};

use crate::busy;
use crate::errors::{Error, Result};

/// A prepared statement handle owned by one `Statement`, finalized by whichever
/// comes first: the statement being dropped or the connection being closed.
#[derive(Debug)]
pub struct StmtSlot {
    raw: Cell<*mut ffi::sqlite3_stmt>,
}

impl StmtSlot {
    /// The live handle, or `None` once finalized.
    pub fn get(&self) -> Option<*mut ffi::sqlite3_stmt> {
        let raw = self.raw.get();
        (!raw.is_null()).then_some(raw)
    }

    fn finalize(&self) {
        let raw = self.raw.replace(ptr::null_mut());
        if !raw.is_null() {
            // SAFETY: `raw` came from sqlite3_prepare_v3 on a connection that is still
            // open (connections finalize every slot before closing), and the slot was
            // nulled above, so it is finalized exactly once.
            unsafe { ffi::sqlite3_finalize(raw) };
        }
    }
}

impl Drop for StmtSlot {
    fn drop(&mut self) {
        self.finalize();
    }
}

/// An open (or closed) hardened connection and the statements prepared on it.
#[derive(Debug)]
pub struct Shared {
    conn: RefCell<Option<Connection>>,
    statements: RefCell<Vec<Weak<StmtSlot>>>,
    /// New statements read integers as bigint (`db.defaultSafeIntegers()`).
    pub default_safe_integers: Cell<bool>,
}

impl Shared {
    /// Wraps a connection that went through the open sequence.
    pub fn new(conn: Connection, safe_integers: bool) -> Rc<Shared> {
        Rc::new(Shared {
            conn: RefCell::new(Some(conn)),
            statements: RefCell::new(Vec::new()),
            default_safe_integers: Cell::new(safe_integers),
        })
    }

    /// Whether `close()` has not run yet.
    pub fn is_open(&self) -> bool {
        self.conn.borrow().is_some()
    }

    /// Runs `f` on the connection, or fails with the "not open" `TypeError`.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        match self.conn.borrow().as_ref() {
            Some(conn) => f(conn),
            None => Err(Error::not_open()),
        }
    }

    /// The raw handle for the statement hot path, or the "not open" `TypeError`.
    pub fn handle(&self) -> Result<*mut ffi::sqlite3> {
        // SAFETY: `handle()` only exposes the pointer; it stays valid while the
        // connection is in the cell, and every user checks this again per call.
        self.with(|conn| Ok(unsafe { conn.handle() }))
    }

    /// Prepares `sql` into a slot that `close()` will finalize.
    pub fn prepare_slot(&self, sql: &str) -> Result<(Rc<StmtSlot>, usize)> {
        let db = self.handle()?;
        let mut raw = ptr::null_mut();
        let mut tail = ptr::null();
        // SAFETY: `db` is open; `sql` outlives the call and its length is passed,
        // so SQLite never reads past it; `raw` and `tail` are valid out pointers.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                sql.len() as i32,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut raw,
                &mut tail,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(db, rc));
        }
        let consumed = tail as usize - sql.as_ptr() as usize;
        let slot = Rc::new(StmtSlot { raw: Cell::new(raw) });
        let mut statements = self.statements.borrow_mut();
        statements.retain(|weak| weak.strong_count() > 0);
        statements.push(Rc::downgrade(&slot));
        Ok((slot, consumed))
    }

    /// Finalizes every statement, then closes. Closing twice does nothing.
    pub fn close(&self) -> Result<()> {
        for weak in self.statements.borrow_mut().drain(..) {
            if let Some(slot) = weak.upgrade() {
                slot.finalize();
            }
        }
        let Some(conn) = self.conn.borrow_mut().take() else { return Ok(()) };
        // SAFETY: only the address is kept, as the busy handler registry key.
        let handle = unsafe { conn.handle() } as usize;
        conn.close().map_err(|(_, e)| Error::from(e))?;
        busy::forget(handle);
        Ok(())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // A connection garbage-collected without close() still finalizes its
        // statements and releases its busy handler state.
        let _ = self.close();
    }
}

/// The error SQLite recorded on `db` for the failing call that returned `rc`.
pub fn last_error(db: *mut ffi::sqlite3, rc: i32) -> Error {
    // SAFETY: `db` is an open connection; sqlite3_errmsg returns a NUL-terminated
    // string owned by SQLite, copied here before any other call can change it.
    let message = unsafe {
        let msg = ffi::sqlite3_errmsg(db);
        if msg.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(msg).to_string_lossy().into_owned()
        }
    };
    // SAFETY: `db` is open.
    let extended = unsafe { ffi::sqlite3_extended_errcode(db) };
    let code = if extended & 0xff == rc & 0xff { extended } else { rc };
    Error::Sqlite { code, message: with_fix(code, message) }
}

/// Adds what to do to the messages whose cause is outside the program.
fn with_fix(code: i32, message: String) -> String {
    match code & 0xff {
        ffi::SQLITE_FULL => format!(
            "{message}: free space on the disk holding the database (or raise PRAGMA max_page_count); \
             the failed statement was undone and earlier commits are intact"
        ),
        ffi::SQLITE_BUSY => format!(
            "{message}: another connection held the lock for longer than busyTimeout; raise busyTimeout, \
             keep write transactions short, or pass {{ retries }} to db.transaction()"
        ),
        _ => message,
    }
}
