//! User-defined SQL functions, aggregates and virtual tables: better-sqlite3's
//! `db.function()`, `db.aggregate()` (window functions too) and `db.table()`.
//!
//! - [`register`]: the `NativeDatabase` methods that hand a JS function to SQLite.
//! - [`registry`]: what SQLite holds per function until it destroys it.
//! - [`trampoline`]: the one guarded way SQLite calls into JS.
//! - [`scalar`] and [`aggregate`]: SQLite's callbacks.
//! - [`table`]: virtual tables whose rows come from a JS generator.
//! - [`convert`]: `sqlite3_value` to JS, and a JS result to SQLite.
//! - [`failure`]: what a function threw, until the statement's caller rethrows it.
//! - [`scratch_guard`]: keeps the row scratch buffer of an outer call intact
//!   when a function runs statements of another connection.
//! - [`env`]: references to JS values, and the environment's teardown.
//! - [`update_hook`]: the bun face's `onInsert`/`onUpdate`/`onDelete` (`sqlite3_update_hook`).

mod aggregate;
mod convert;
mod env;
pub mod failure;
mod napi_raw;
mod register;
mod registry;
mod scalar;
pub mod scratch_guard;
mod table;
mod trampoline;
pub mod update_hook;

pub use table::plans as js_table_plans;
pub use trampoline::quiet;

use crate::errors::Error;

/// The `TypeError` for any use of a connection from inside one of its own
/// user-defined functions (better-sqlite3 throws the same).
#[cold]
pub fn connection_busy() -> Error {
    Error::type_error(
        "HARDENED_DATABASE_BUSY",
        "This database connection is busy executing a query: a user-defined function, aggregate, virtual \
         table or update hook (bun face) cannot use its own connection (prepare, exec, pragma, run statements, \
         register functions or tables, close) while SQLite runs it; do that work after the query returns, or on \
         another connection",
    )
}

#[cfg(test)]
mod tests {
    use crate::connection::Shared;
    use rusqlite::Connection;

    #[test]
    fn a_connection_running_a_function_refuses_every_use_and_close() {
        let shared = Shared::new(Connection::open_in_memory().unwrap(), false, None);
        shared.callbacks.set(1);
        assert_eq!(shared.handle().unwrap_err().code(), "HARDENED_DATABASE_BUSY");
        assert_eq!(shared.close().unwrap_err().code(), "HARDENED_DATABASE_BUSY");
        assert!(shared.is_open());
        shared.callbacks.set(0);
        assert!(shared.handle().is_ok());
        shared.close().unwrap();
    }
}
