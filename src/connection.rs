//! The connection shared by a database object and its statements, and the
//! bookkeeping that lets `close()` finalize every statement first.

use std::cell::{Cell, OnceCell, RefCell};
use std::ptr;
use std::rc::{Rc, Weak};

use rusqlite::{Connection, ffi};

use crate::authorizer;
use crate::errors::{Error, Result};
use crate::statement_timeout::StatementTimeout;

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

    /// Finalizes the handle now (idempotent); `get` returns `None` after.
    pub(crate) fn finalize(&self) {
        let raw = self.raw.replace(ptr::null_mut());
        if !raw.is_null() {
            // Finalizing may end an aggregate midway; its JS is not called from here
            // (this may run in a garbage collector's finalizer).
            let _quiet = crate::functions::quiet();
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
///
/// A JS callback that runs while native code holds a statement handle (a
/// getter of a parameter object, a Proxy trap) may call `db.close()`. Closing
/// then would free the handle under the running call, so `close()` only marks
/// the connection closed (every later use fails with `HARDENED_NOT_OPEN`) and
/// the outermost [`ActiveCall`] finalizes and closes when it ends.
#[derive(Debug)]
pub struct Shared {
    conn: RefCell<Option<Connection>>,
    /// The handle of `conn` while it is in the cell, null once it is taken: the
    /// statement hot path reads it without borrowing the cell and rusqlite's
    /// own `RefCell` (two borrows a read, 8% of a `SELECT 1` `run()` on Bun).
    raw_db: Cell<*mut ffi::sqlite3>,
    statements: RefCell<Vec<Weak<StmtSlot>>>,
    /// `statements.len()` at which the next prepare drops the dead entries.
    compact_at: Cell<usize>,
    /// Native calls on this connection that have not returned (see [`ActiveCall`]).
    active_calls: Cell<u32>,
    /// `close()` was called during an active call; the last one closes.
    close_pending: Cell<bool>,
    /// New statements read integers as bigint (`db.defaultSafeIntegers()`).
    pub default_safe_integers: Cell<bool>,
    /// The progress handler's state (`statementTimeout`); SQLite points at it
    /// until `close_now` removes the handler, and it is dropped after `conn`.
    statement_timeout: Option<Box<StatementTimeout>>,
    /// On a tenant handle: the rows its triggers wrote, for `run()`'s result.
    pub tenant_counts: OnceCell<std::sync::Arc<crate::tenant::Counts>>,
    /// Statements with an open iterator (better-sqlite3's "busy" connection, see `idle.rs`).
    pub open_iterators: Cell<u32>,
    /// `db.unsafeMode()` is on: writes may run while an iterator is open (see `idle.rs`).
    pub unsafe_mode: Cell<bool>,
    /// The JS face whose rules new statements follow (see `face.rs`).
    pub face: Cell<crate::face::Face>,
    /// Backups reading from this connection; finished before it closes (SQLite
    /// refuses to close a connection with an unfinished backup).
    backups: RefCell<Vec<std::sync::Weak<crate::backup::BackupSlot>>>,
    /// User-defined functions of this connection running JS now (see
    /// `functions::trampoline`): the connection refuses every other use meanwhile.
    pub(crate) callbacks: Cell<u32>,
    /// A user-defined function, virtual table or update hook that calls JS was
    /// registered: SQLite may call JS while a statement steps, which needs a
    /// Node-API call, so bun:ffi calls leave it to them (src/statement_ffi.rs).
    pub(crate) calls_js: Cell<bool>,
}

/// Smallest statement list that is compacted (see `Shared::prepare_slot`).
const MIN_COMPACT: usize = 64;

/// Marks a native call that may run JS callbacks while it holds statement
/// handles; while one is alive, `close()` is deferred to its end.
#[derive(Debug)]
pub struct ActiveCall(Rc<Shared>);

impl ActiveCall {
    /// Starts a call on `shared`.
    pub fn enter(shared: &Rc<Shared>) -> ActiveCall {
        shared.active_calls.set(shared.active_calls.get() + 1);
        ActiveCall(Rc::clone(shared))
    }

    /// Runs `f` under the connection's statement timeout (see [`Shared::timed`]).
    #[inline]
    pub fn timed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.0.timed(f)
    }
}

impl Drop for ActiveCall {
    fn drop(&mut self) {
        let shared = &self.0;
        shared.active_calls.set(shared.active_calls.get() - 1);
        if shared.active_calls.get() == 0 && shared.close_pending.get() {
            close_deferred(shared);
        }
    }
}

/// Closes the connection whose `close()` came during the call that just ended.
#[cold]
fn close_deferred(shared: &Shared) {
    shared.close_pending.set(false);
    // Nobody is left to report to: the `close()` that asked already returned.
    let _ = shared.close_now();
}

impl Shared {
    /// Wraps a connection that went through the open sequence, with the
    /// statement timeout installed on it (if any).
    pub fn new(conn: Connection, safe_integers: bool, statement_timeout: Option<Box<StatementTimeout>>) -> Rc<Shared> {
        Rc::new(Shared {
            // SAFETY: only the address is kept; `close_now` nulls it before closing.
            raw_db: Cell::new(unsafe { conn.handle() }),
            conn: RefCell::new(Some(conn)),
            statements: RefCell::new(Vec::new()),
            compact_at: Cell::new(MIN_COMPACT),
            active_calls: Cell::new(0),
            close_pending: Cell::new(false),
            default_safe_integers: Cell::new(safe_integers),
            statement_timeout,
            tenant_counts: OnceCell::new(),
            open_iterators: Cell::new(0),
            unsafe_mode: Cell::new(false),
            calls_js: Cell::new(false),
            face: Cell::new(crate::face::Face::default()),
            backups: RefCell::new(Vec::new()),
            callbacks: Cell::new(0),
        })
    }

    /// Runs `f` (one call that steps statements) under the statement timeout.
    /// Without one this is a test of an `Option`: no clock is read.
    #[inline]
    pub fn timed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        match self.statement_timeout.as_deref() {
            None => f(),
            Some(timeout) => timeout.run(f),
        }
    }

    /// `HARDENED_STATEMENT_TIMEOUT` when `err` is the interrupt of the statement
    /// timeout (`sql` names the statement), else `err`.
    pub fn explain_interrupt(&self, err: Error, sql: &str) -> Error {
        match self.statement_timeout.as_deref() {
            Some(timeout) => timeout.explain(err, sql),
            None => err,
        }
    }

    /// Whether `close()` has not been called yet.
    #[inline]
    pub fn is_open(&self) -> bool {
        !self.close_pending.get() && !self.raw_db.get().is_null()
    }

    /// Refuses any use of the connection while one of its user-defined
    /// functions runs JS (better-sqlite3's "busy executing a query").
    #[inline]
    pub fn ensure_idle(&self) -> Result<()> {
        if self.callbacks.get() > 0 {
            return Err(crate::functions::connection_busy());
        }
        Ok(())
    }

    /// Whether a transaction is active; readable even from inside a user-defined function.
    pub fn in_transaction(&self) -> bool {
        match self.conn.borrow().as_ref() {
            // SAFETY: the handle is open while the connection is in the cell.
            Some(conn) if !self.close_pending.get() => unsafe { ffi::sqlite3_get_autocommit(conn.handle()) == 0 },
            _ => false,
        }
    }

    /// Runs `f` on the connection, or fails with the "not open" `TypeError`.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.ensure_idle()?;
        match self.conn.borrow().as_ref() {
            Some(conn) if !self.close_pending.get() => f(conn),
            _ => Err(Error::not_open()),
        }
    }

    /// The raw handle for the statement hot path, or the "not open" `TypeError`.
    #[inline]
    pub fn handle(&self) -> Result<*mut ffi::sqlite3> {
        // The pointer stays valid while the connection is in the cell (`raw_db`
        // is nulled before it leaves), and every user asks again per call.
        self.ensure_idle()?;
        if self.is_open() { Ok(self.raw_db.get()) } else { Err(Error::not_open()) }
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
            return Err(prepare_error(db, rc));
        }
        let consumed = tail as usize - sql.as_ptr() as usize;
        let slot = Rc::new(StmtSlot { raw: Cell::new(raw) });
        let mut statements = self.statements.borrow_mut();
        // Dropping dead entries only when the list doubled keeps prepare O(1)
        // amortised however many statements stay alive.
        if statements.len() >= self.compact_at.get() {
            statements.retain(|weak| weak.strong_count() > 0);
            self.compact_at.set((statements.len() * 2).max(MIN_COMPACT));
        }
        statements.push(Rc::downgrade(&slot));
        Ok((slot, consumed))
    }

    /// Its SQLite statements not finalized yet.
    pub fn live_statements(&self) -> usize {
        self.statements.borrow().iter().filter(|weak| weak.upgrade().is_some_and(|slot| slot.get().is_some())).count()
    }

    /// Records a backup reading from this connection, so `close()` finishes it first.
    pub fn register_backup(&self, slot: &std::sync::Arc<crate::backup::BackupSlot>) {
        let mut backups = self.backups.borrow_mut();
        backups.retain(|weak| weak.strong_count() > 0);
        backups.push(std::sync::Arc::downgrade(slot));
    }

    /// Finalizes every statement, then closes. Closing twice does nothing.
    /// During an [`ActiveCall`] the connection only stops accepting calls; the
    /// call finalizes and closes it when it ends.
    pub fn close(&self) -> Result<()> {
        self.ensure_idle()?;
        if self.active_calls.get() > 0 {
            self.close_pending.set(true);
            return Ok(());
        }
        self.close_now()
    }

    fn close_now(&self) -> Result<()> {
        for weak in self.backups.borrow_mut().drain(..) {
            if let Some(slot) = weak.upgrade() {
                slot.finish();
            }
        }
        for weak in self.statements.borrow_mut().drain(..) {
            if let Some(slot) = weak.upgrade() {
                slot.finalize();
            }
        }
        let Some(conn) = self.conn.borrow_mut().take() else { return Ok(()) };
        self.raw_db.set(std::ptr::null_mut());
        // SAFETY: only the address is kept, as the key of the function registries.
        let handle = unsafe { conn.handle() } as usize;
        if self.statement_timeout.is_some() {
            StatementTimeout::uninstall(&conn);
        }
        // Forgotten before the close, which may fail: an entry left behind would be
        // found by a later connection that SQLite allocates at the same address (a
        // function failure kept here rethrown for that connection's error).
        crate::functions::failure::forget(handle);
        crate::functions::update_hook::forget(handle);
        conn.close().map_err(|(_, e)| Error::from(e))?;
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
    if let Some(thrown) = crate::functions::failure::take(db, &message) {
        return thrown;
    }
    if let Some(violation) = crate::tenant::violation(code, &message) {
        return violation;
    }
    let err = Error::Sqlite { code, message: with_fix(code, message) };
    if code & 0xff == ffi::SQLITE_BUSY {
        return crate::r#async::held_locks::take_failure(db, err).unwrap_or_else(|busy| busy);
    }
    err
}

/// The error of a failed prepare (or exec) on `db`: the authorizer's reason
/// when it refused the statement, else SQLite's.
pub fn prepare_error(db: *mut ffi::sqlite3, rc: i32) -> Error {
    match authorizer::take_refusal(db) {
        // A function refused fails with SQLITE_ERROR ("not authorized to use function").
        Some(refusal) if rc & 0xff == ffi::SQLITE_AUTH || matches!(refusal, authorizer::Refusal::Tenant(_)) => {
            refusal.error()
        }
        _ => last_error(db, rc),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Rc<Shared> {
        Shared::new(Connection::open_in_memory().unwrap(), false, None)
    }

    #[test]
    fn the_statement_list_stays_within_twice_the_live_statements() {
        let db = shared();
        let mut live = Vec::new();
        for i in 0..5000 {
            let (slot, _) = db.prepare_slot("SELECT 1").unwrap();
            if i % 10 == 0 {
                live.push(slot);
            }
            let listed = db.statements.borrow().len();
            assert!(listed <= (2 * live.len()).max(MIN_COMPACT) + 1, "{listed} listed for {} live", live.len());
        }
        db.close().unwrap();
        assert!(live.iter().all(|slot| slot.get().is_none()));
    }

    #[test]
    fn a_close_that_fails_leaves_no_kept_function_failure() {
        use crate::functions::failure::{self, Thrown};
        let db = shared();
        let raw = db.handle().unwrap();
        // A statement prepared behind the connection's back makes sqlite3_close fail (SQLITE_BUSY).
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `raw` is open; the SQL is NUL-terminated; `stmt` receives the handle.
        assert_eq!(unsafe { ffi::sqlite3_prepare_v2(raw, c"SELECT 1".as_ptr(), -1, &mut stmt, std::ptr::null_mut()) }, 0);
        let err = Error::type_error("HARDENED_FUNCTION_RESULT", "User-defined function f() returned an invalid value");
        failure::keep(raw, err.message().to_string(), Thrown::Native(err.clone()));
        assert!(db.close().is_err());
        assert_eq!(failure::take(raw, err.message()), None);
        // SAFETY: `stmt` is the live statement prepared above; finalizing it lets SQLite free the connection.
        unsafe { ffi::sqlite3_finalize(stmt) };
    }

    #[test]
    fn close_during_an_active_call_waits_for_its_end() {
        let db = shared();
        let (slot, _) = db.prepare_slot("SELECT 1").unwrap();
        let call = ActiveCall::enter(&db);
        let nested = ActiveCall::enter(&db);
        db.close().unwrap();
        assert!(!db.is_open());
        assert_eq!(db.handle().unwrap_err().code(), "HARDENED_NOT_OPEN");
        assert!(slot.get().is_some(), "the handle stays valid for the running call");
        drop(nested);
        assert!(slot.get().is_some());
        drop(call);
        assert!(slot.get().is_none());
        assert!(db.conn.borrow().is_none());
    }
}
