//! Whether a statement of the connection is mid-execution (an open iterator,
//! or a statement stepped and not reset):
//! better-sqlite3 refuses `loadExtension()`, `serialize()` and `backup()` then.

use std::ptr;

use rusqlite::ffi;

use crate::connection::Shared;
use crate::errors::{Error, Result};

/// The `TypeError` of better-sqlite3 when a statement of the connection is
/// mid-execution (an open iterator): loading an extension, serializing or
/// starting a backup is refused until it ends (`HARDENED_DATABASE_BUSY`).
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

fn busy() -> Error {
    Error::type_error(
        "HARDENED_DATABASE_BUSY",
        "This database connection is busy executing a query; finish or return() its iterator first",
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
}
