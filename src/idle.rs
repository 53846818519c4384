//! The one place that decides when a connection is too busy for a call, as
//! better-sqlite3 does (its `REQUIRE_DATABASE_NOT_BUSY` and iterator count):
//!
//! - while one of its user-defined functions runs JS, every use is refused
//!   (`Shared::ensure_idle`, checked by every `Shared::with`/`handle`);
//! - while an iterator of the connection is open (`iterate()` not finished nor
//!   returned, even one that read its last rows ahead), [`require_idle`] refuses
//!   `close()`, `function()`, `aggregate()`, `loadExtension()` and `serialize()`,
//!   and [`require_no_iterators`] refuses `exec()`, `pragma()`, `run()` and any
//!   statement that writes, unless `unsafeMode()` is on. Reads on other
//!   statements keep working.

use std::ptr;

use rusqlite::ffi;

use crate::connection::Shared;
use crate::errors::{Error, Result};

/// The `TypeError` of better-sqlite3 when a statement of the connection is
/// mid-execution (an open iterator): closing, registering a function, loading
/// an extension or serializing is refused until it ends (`HARDENED_DATABASE_BUSY`).
pub fn require_idle(shared: &Shared) -> Result<()> {
    let db = shared.handle()?;
    if shared.open_iterators.get() > 0 {
        return Err(busy());
    }
    let mut stmt = ptr::null_mut();
    loop {
        // SAFETY: `db` is open and `stmt` is null or a statement of `db` returned
        // by the previous call; nothing is prepared or finalized during the walk.
        stmt = unsafe { ffi::sqlite3_next_stmt(db, stmt) };
        if stmt.is_null() {
            return Ok(());
        }
        // SAFETY: `stmt` is a live statement of `db`.
        if unsafe { ffi::sqlite3_stmt_busy(stmt) } != 0 {
            return Err(busy());
        }
    }
}

/// Refuses `exec()`, `pragma()`, `run()` and statements that write while an
/// iterator of the connection is open (SQLite would let the write change the
/// rows under the iterator), unless `unsafeMode()` is on, as in better-sqlite3.
#[inline]
pub fn require_no_iterators(shared: &Shared) -> Result<()> {
    if iterators_block_writes(shared) {
        return Err(busy());
    }
    Ok(())
}

/// Whether [`require_no_iterators`] would refuse now: the statement hot path
/// asks this first, so that it reads `sqlite3_stmt_readonly` only then.
#[inline]
pub fn iterators_block_writes(shared: &Shared) -> bool {
    // bun:sqlite has no such rule: its face lets any statement run beside an iterator.
    shared.open_iterators.get() > 0 && !shared.unsafe_mode.get() && !shared.face.get().is_bun()
}

/// better-sqlite3's "busy" `TypeError`, with the way out.
#[cold]
pub fn busy() -> Error {
    Error::type_error(
        "HARDENED_DATABASE_BUSY",
        "This database connection is busy executing a query: an iterator of it is open; finish or return() the \
         iterator first (while one is open, only reads on other statements may run)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn an_unfinished_statement_makes_the_connection_busy() {
        let db = Shared::new(Connection::open_in_memory().unwrap(), false, None);
        let (slot, _) = db.prepare_slot("SELECT 1 UNION ALL SELECT 2").unwrap();
        let raw = slot.get().unwrap();
        // SAFETY: `raw` is live.
        assert_eq!(unsafe { ffi::sqlite3_step(raw) }, ffi::SQLITE_ROW);
        assert_eq!(require_idle(&db).unwrap_err().code(), "HARDENED_DATABASE_BUSY");
        // SAFETY: `raw` is live.
        unsafe { ffi::sqlite3_reset(raw) };
        require_idle(&db).unwrap();
    }

    #[test]
    fn an_open_iterator_blocks_writes_unless_unsafe_mode() {
        let db = Shared::new(Connection::open_in_memory().unwrap(), false, None);
        require_no_iterators(&db).unwrap();
        db.open_iterators.set(1);
        assert!(iterators_block_writes(&db));
        assert_eq!(require_no_iterators(&db).unwrap_err().code(), "HARDENED_DATABASE_BUSY");
        assert_eq!(require_idle(&db).unwrap_err().code(), "HARDENED_DATABASE_BUSY");
        db.unsafe_mode.set(true);
        require_no_iterators(&db).unwrap();
        // unsafeMode() lifts the write rule only: closing still waits for the iterator.
        assert_eq!(require_idle(&db).unwrap_err().code(), "HARDENED_DATABASE_BUSY");
        db.open_iterators.set(0);
        require_idle(&db).unwrap();
    }
}
