//! The defensive configuration every hardened connection gets, as
//! better-sqlite3, bun:sqlite and node:sqlite set it too:
//!
//! - `SQLITE_DBCONFIG_DEFENSIVE`: SQL cannot corrupt the file on purpose
//!   (`PRAGMA writable_schema`, `journal_mode=OFF`, `schema_version = N`,
//!   writes to shadow tables); `db.unsafeMode()` turns it off, and with it the
//!   authorizer's refusal of weaker pragmas (`crate::weaker_pragmas`).
//! - `SQLITE_DBCONFIG_DQS_DML` and `DQS_DDL` off: a double-quoted word is
//!   always an identifier, so a misspelled column is an error rather than a
//!   string (the build also sets `SQLITE_DQS=0`, see `.cargo/config.toml`).

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use crate::errors::{Error, Result};

/// Each setting, its name for messages, and the value it must read back as.
const SETTINGS: [(DbConfig, &str, bool); 3] = [
    (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, "SQLITE_DBCONFIG_DEFENSIVE", true),
    (DbConfig::SQLITE_DBCONFIG_DQS_DML, "SQLITE_DBCONFIG_DQS_DML", false),
    (DbConfig::SQLITE_DBCONFIG_DQS_DDL, "SQLITE_DBCONFIG_DQS_DDL", false),
];

/// Applies the defensive configuration to `conn` and reads every value back.
pub fn apply(conn: &Connection, name: &str) -> Result<()> {
    for (config, label, on) in SETTINGS {
        let actual = conn.set_db_config(config, on)?;
        if actual != on {
            return Err(Error::hardened(
                "HARDENED_PRAGMA_MISMATCH",
                format!("{name}: {label} is {actual}, expected {on}; SQLite did not accept the hardened setting"),
            ));
        }
    }
    Ok(())
}

/// Turns defensive mode off (`unsafe`) or back on: `db.unsafeMode(unsafe)`.
/// Unsafe mode also lets the authorizer allow the weaker pragmas.
pub fn set_unsafe_mode(conn: &Connection, unsafe_mode: bool) -> Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, !unsafe_mode)?;
    crate::authorizer::set_unsafe_mode(conn, unsafe_mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_schema_corruption_and_double_quoted_strings() {
        let conn = Connection::open_in_memory().unwrap();
        apply(&conn, ":memory:").unwrap();
        conn.execute_batch("CREATE TABLE t(a)").unwrap();
        assert!(conn.execute_batch("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'x'").is_err());
        let err = Error::from(conn.prepare("SELECT \"no_such_column\" FROM t").unwrap_err());
        assert!(err.message().contains("no such column"), "{}", err.message());
        set_unsafe_mode(&conn, true).unwrap();
        assert!(!conn.db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE).unwrap());
        conn.execute_batch("PRAGMA writable_schema = ON; PRAGMA writable_schema = OFF").unwrap();
    }
}
