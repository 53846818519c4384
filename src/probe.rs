//! The health report's write-and-read probe: proof that this connection can
//! really write to the database and read it back, leaving nothing behind.

use rusqlite::Connection;

use crate::errors::{Error, Result};
use crate::health::{HealthCheck, check, fail, pass};
use crate::preflight;

/// A real write and read: in one `BEGIN IMMEDIATE` transaction, `user_version`
/// is set to another value, read back, set back and read back, then committed,
/// so a page goes through the `-wal` and nothing is left behind.
pub fn probe(conn: &Connection, readonly: bool) -> HealthCheck {
    if readonly {
        let read = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0));
        let actual = read.map_or_else(|e| e.to_string(), |_| "read".to_string());
        return check(actual == "read", pass("read_probe", "error", "read", actual.clone()), || {
            format!("reading the schema failed ({actual}); check the file's permissions and the disk")
        });
    }
    if !conn.is_autocommit() {
        return fail(
            pass("write_probe", "warning", "written and read back", "skipped: a transaction is open on this connection"),
            "call db.health() outside a transaction",
        );
    }
    let actual = match write_and_read(conn) {
        Ok(()) => "written and read back".to_string(),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        }
    };
    check(actual == "written and read back", pass("write_probe", "error", "written and read back", actual.clone()), || {
        format!(
            "writing to the database failed ({actual}): check that the disk is not full or read-only, that the \
             database and its -wal are writable by uid {}, and that no connection holds the write lock for longer \
             than busyTimeout",
            preflight::uid()
        )
    })
}

fn write_and_read(conn: &Connection) -> Result<()> {
    let read = |conn: &Connection| conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let original = read(conn)?;
    let token = if original == 1 { 2 } else { 1 };
    conn.execute_batch(&format!("PRAGMA user_version = {token}"))?;
    let seen = read(conn)?;
    conn.execute_batch(&format!("PRAGMA user_version = {original}"))?;
    let restored = read(conn)?;
    conn.execute_batch("COMMIT")?;
    if seen != token || restored != original || read(conn)? != original {
        return Err(Error::hardened(
            "HARDENED_UNHEALTHY",
            format!("user_version read back as {seen} then {restored}, expected {token} then {original}"),
        ));
    }
    Ok(())
}
