//! A pooled connection: the hardened connection and its statement timeout,
//! in the `Mutex` that makes one thread at a time use it.

use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

use crate::errors::{Error, Result};
use crate::open::Opened;
use crate::statement_timeout::StatementTimeout;

/// Statements kept prepared per pooled connection.
const STATEMENT_CACHE: usize = 128;

/// A connection that went through the hardened open sequence.
pub struct Pooled {
    /// The open cursor of `iterate()`, if any; declared first, so it is finalized before the connection closes.
    pub cursor: Option<crate::r#async::cursor::Cursor>,
    /// The connection (closed by [`Pooled::close`], or when dropped).
    pub conn: Connection,
    /// The progress handler's state (`statementTimeout`), dropped after `conn`.
    timeout: Option<Box<StatementTimeout>>,
    /// The database file (for `held_locks`).
    pub file: Option<crate::r#async::held_locks::FileId>,
    /// The settings it was opened with (for `health()`).
    pub settings: crate::options::Settings,
    /// The database file's path (for `health()`).
    pub path: Option<std::path::PathBuf>,
    /// Whether its open created the database.
    pub is_new: bool,
}

/// The slot of one pooled connection: `None` once closed.
pub type Slot = Arc<Mutex<Option<Pooled>>>;

impl Pooled {
    /// Takes the connection of `opened`, opened with `settings`.
    pub fn new(opened: Opened, settings: crate::options::Settings) -> Pooled {
        opened.conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // SAFETY: the connection is open; only the handle's address is passed on.
        let file = crate::r#async::held_locks::file_id(unsafe { opened.conn.handle() });
        let path = match &opened.location {
            crate::location::Location::File(path) => Some(path.clone()),
            _ => None,
        };
        Pooled { cursor: None, conn: opened.conn, timeout: opened.statement_timeout, file, settings, path, is_new: opened.is_new }
    }

    /// Runs `f` under the connection's `statementTimeout` (if any); `sql` names
    /// the statement in the timeout's error.
    pub fn timed<T>(&self, sql: &str, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        match self.timeout.as_deref() {
            None => f(&self.conn),
            Some(timeout) => timeout.run(|| f(&self.conn)).map_err(|e| timeout.explain(e, sql)),
        }
    }

    /// Runs `f` under the statement timeout with the connection and the taken cursor.
    pub fn timed_cursor<T>(
        &self,
        cursor: &mut crate::r#async::cursor::Cursor,
        f: impl FnOnce(&mut crate::r#async::cursor::Cursor) -> Result<T>,
    ) -> Result<T> {
        match self.timeout.as_deref() {
            None => f(cursor),
            Some(timeout) => {
                let sql = cursor.sql.clone();
                timeout.run(|| f(cursor)).map_err(|e| timeout.explain(e, &sql))
            }
        }
    }

    /// Closes as the sync `close()` does: prepared statements finalized, the
    /// handler removed before its state is freed, registries released. The last
    /// connection of the file checkpoints and removes `-wal`.
    pub fn close(self) -> Result<()> {
        let Pooled { cursor, conn, timeout, .. } = self;
        drop(cursor);
        conn.flush_prepared_statement_cache();
        // Compiling a statement on an idle connection clears SQLite's interrupt flag (left
        // by an abort that landed as its request ended), which would stop the checkpoint of close.
        drop(conn.prepare("SELECT 1"));
        // SAFETY: only the address is kept, as the held-locks key.
        let handle = unsafe { conn.handle() } as usize;
        if timeout.is_some() {
            StatementTimeout::uninstall(&conn);
        }
        conn.close().map_err(|(_, e)| Error::from(e))?;
        drop(timeout);
        crate::r#async::held_locks::record(handle, None, std::thread::current().id(), false);
        Ok(())
    }
}

/// Locks `slot` (a poisoned lock means a panic on a pool thread: the connection
/// is not used again).
pub fn lock(slot: &Slot) -> Result<MutexGuard<'_, Option<Pooled>>> {
    slot.lock().map_err(|_| Error::hardened("HARDENED_INTERNAL", "A pooled connection was poisoned by a panic; reopen the database"))
}

/// Runs `f` on the connection in `slot` while holding it; the "not open"
/// `TypeError` once it was closed.
pub fn with_open<T>(slot: &Slot, f: impl FnOnce(&Pooled) -> Result<T>) -> Result<T> {
    let guard = lock(slot)?;
    f(guard.as_ref().ok_or_else(Error::not_open)?)
}
