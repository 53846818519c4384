//! `NativeDatabase`: the JS class behind `HardenedDb`. Each method is a thin
//! call into the open sequence, the connection or a statement.

use std::cell::RefCell;
use std::ffi::CString;
use std::rc::Rc;

use napi::{Either, Env};
use napi_derive::napi;
use rusqlite::ffi;

use crate::connection::{Shared, prepare_error};
use crate::database_upkeep::Upkeep;
use crate::errors::{Error, Result, to_js};
use crate::migrations::{self, MigrateOptions, MigrationInput, MigrationReport, MigrationStatus};
use crate::open;
use crate::open_files::Registration;
use crate::options::{OpenOptions, Settings};
use crate::statement::Statement;
use crate::js::{Js, JsAny};

/// A hardened connection (internal: use `HardenedDb` from the package).
#[napi]
pub struct NativeDatabase {
    pub(crate) shared: Rc<Shared>,
    name: String,
    memory: bool,
    readonly: bool,
    pub(crate) is_new: bool,
    pub(crate) upkeep: Upkeep,
    /// Keeps the file in the registry backups check, until `close()`.
    open_file: RefCell<Option<Registration>>,
}

/// Runs every statement of `sql` (rows, if any, are discarded), under the statement timeout.
pub fn exec(shared: &Shared, sql: &str) -> Result<()> {
    let db = shared.handle()?;
    crate::idle::require_no_iterators(shared)?;
    let text = CString::new(sql).map_err(|_| {
        Error::type_error("HARDENED_INVALID_ARGUMENT", "The SQL string contains a NUL character")
    })?;
    crate::authorizer::take_busy_timeout(db);
    let ran = shared.timed(|| {
        // SAFETY: `db` is open; `text` is NUL-terminated and outlives the call; no
        // callback is given and the error message is read from `db` instead.
        let rc = unsafe { ffi::sqlite3_exec(db, text.as_ptr(), None, std::ptr::null_mut(), std::ptr::null_mut()) };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(shared.explain_interrupt(prepare_error(db, rc), sql)) }
    });
    if let Some(ms) = crate::authorizer::take_busy_timeout(db) {
        shared.with(|conn| crate::busy::adopt(conn, ms))?;
    }
    ran
}

impl NativeDatabase {
    /// Wraps a connection that went through the open sequence.
    pub(crate) fn from_opened(opened: open::Opened, settings: Settings) -> NativeDatabase {
        let shared = Shared::new(opened.conn, settings.safe_integers, opened.statement_timeout);
        crate::exit_close::remember(&shared);
        NativeDatabase {
            name: opened.location.display_name(),
            memory: opened.location.is_private(),
            readonly: settings.readonly,
            is_new: opened.is_new,
            shared,
            open_file: RefCell::new(opened.open_file),
            upkeep: Upkeep::new(&opened.location, settings, opened.mode_warnings),
        }
    }
}

#[napi]
impl NativeDatabase {
    /// Opens `path` with the hardened open sequence.
    #[napi(constructor)]
    pub fn new(env: Env, path: String, options: Option<OpenOptions>) -> napi::Result<Self> {
        let opened = Settings::from_options(&options.unwrap_or_default())
            .and_then(|settings| Ok((open::open(&path, &settings)?, settings)));
        let (opened, settings) = to_js(&env, opened)?;
        Ok(NativeDatabase::from_opened(opened, settings))
    }

    /// Closes every connection of this thread still open, even with an iterator
    /// open; returns how many it closed (called once, at process exit).
    #[napi]
    pub fn close_all_at_exit() -> u32 {
        crate::exit_close::close_all()
    }

    /// Prepares one SQL statement and returns its id; `handle` is the JS object
    /// that stands for it (lib/native-statement.js): once it is collected, the
    /// statement is released.
    #[napi(ts_args_type = "sql: string, handle: object")]
    pub fn prepare(&self, env: Env, sql: String, handle: JsAny) -> napi::Result<f64> {
        let prepared = Statement::prepare(&self.shared, &sql);
        to_js(&env, prepared.and_then(|statement| crate::collected_statements::register_followed(Js::new(&env), statement, handle.0)))
    }

    /// Its SQLite statements not finalized yet: prepared and neither finalized,
    /// collected with their JS object, nor closed (for tests and diagnostics).
    #[napi]
    pub fn live_statements(&self) -> u32 {
        self.shared.live_statements() as u32
    }

    /// Refuses what `pragma()` would do while an iterator of the connection is
    /// open, unless `unsafeMode()` is on (see `idle.rs`).
    #[napi]
    pub fn require_no_iterators(&self, env: Env) -> napi::Result<()> {
        to_js(&env, self.shared.handle().and_then(|_| crate::idle::require_no_iterators(&self.shared)))
    }

    /// Runs one or more SQL statements.
    #[napi]
    pub fn exec(&self, env: Env, sql: String) -> napi::Result<()> {
        to_js(&env, exec(&self.shared, &sql))
    }

    /// Applies every pending migration of `source` (a directory or a list), each
    /// in its own `BEGIN IMMEDIATE` transaction; returns what ran.
    #[napi]
    pub fn migrate(
        &self,
        env: Env,
        source: Either<String, Vec<MigrationInput>>,
        options: Option<MigrateOptions>,
    ) -> napi::Result<MigrationReport> {
        let options = options.unwrap_or_default();
        let report = migrations::load(source)
            .and_then(|list| self.shared.with(|conn| migrations::migrate(conn, &list, &options, self.readonly)));
        to_js(&env, report)
    }

    /// The current and latest schema versions and the pending migrations of `source`; changes nothing.
    #[napi]
    pub fn migration_status(
        &self,
        env: Env,
        source: Either<String, Vec<MigrationInput>>,
        options: Option<MigrateOptions>,
    ) -> napi::Result<MigrationStatus> {
        let options = options.unwrap_or_default();
        let status = migrations::load(source).and_then(|list| self.shared.with(|conn| migrations::status(conn, &list, &options)));
        to_js(&env, status)
    }

    /// Finalizes every statement and closes; the last connection removes `-wal`.
    /// Refused while an iterator of the connection is open, unless `force`
    /// (the process is exiting, or a signal asked every connection to close).
    #[napi]
    pub fn close(&self, env: Env, force: Option<bool>) -> napi::Result<()> {
        if force != Some(true) && self.shared.is_open() {
            to_js(&env, crate::idle::require_idle(&self.shared))?;
        }
        to_js(&env, self.shared.close())?;
        self.open_file.take();
        Ok(())
    }

    /// Turns SQLite's defensive mode off (`true`) or back on (`false`):
    /// better-sqlite3's `unsafeMode()`.
    #[napi]
    pub fn set_unsafe_mode(&self, env: Env, on: bool) -> napi::Result<()> {
        let set = self.shared.with(|conn| crate::defensive::set_unsafe_mode(conn, on));
        if set.is_ok() {
            self.shared.unsafe_mode.set(on);
        }
        to_js(&env, set)
    }

    /// New statements read integers as bigint when on.
    #[napi]
    pub fn set_default_safe_integers(&self, on: bool) {
        self.shared.default_safe_integers.set(on);
    }

    /// Whether the connection is open.
    #[napi(getter)]
    pub fn open(&self) -> bool {
        self.shared.is_open()
    }

    /// Whether a transaction is active.
    #[napi(getter)]
    pub fn in_transaction(&self) -> bool {
        self.shared.in_transaction()
    }

    /// The path as given (or `:memory:`).
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Whether it is an in-memory database.
    #[napi(getter)]
    pub fn memory(&self) -> bool {
        self.memory
    }

    /// Whether writes are rejected (`readonly: true`).
    #[napi(getter)]
    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// Whether this open created the database.
    /// Milliseconds the fair busy handler waits for a lock.
    #[napi(getter)]
    pub fn busy_timeout(&self, env: Env) -> napi::Result<i64> {
        to_js(&env, self.shared.with(|conn| Ok(crate::busy::configured_timeout(conn).unwrap_or(0))))
    }

    /// Reinstalls the fair busy handler with a new timeout (what `PRAGMA busy_timeout = N` means here):
    /// a whole number of milliseconds in the `busyTimeout` option's range, checked here rather than
    /// wrapped modulo 2^32 by a `u32` argument.
    #[napi]
    pub fn set_busy_timeout(&self, env: Env, ms: f64) -> napi::Result<()> {
        let installed = crate::options::busy_timeout_ms(ms, "PRAGMA busy_timeout")
            .and_then(|ms| self.shared.with(|conn| crate::busy::install(conn, ms)));
        to_js(&env, installed)
    }

    #[napi(getter)]
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    /// Opens a tenant handle on the same file (`db.forTenant()`): `id` is the
    /// tenant id as text (its decimal digits when `integer`), `column` the
    /// tenant column, `shared` the tables every tenant may read.
    #[napi]
    pub fn open_tenant(
        &self,
        env: Env,
        id: String,
        integer: bool,
        column: String,
        shared: Vec<String>,
    ) -> napi::Result<crate::tenant::native::NativeTenantDb> {
        let opened = self
            .shared
            .with(|_| crate::tenant::native::open_tenant(&self.upkeep, id, integer, &column, &shared));
        to_js(&env, opened)
    }
}

/// The version of the bundled SQLite library (`"3.54.1"`).
#[napi]
pub fn sqlite_version() -> String {
    rusqlite::version().to_string()
}

/// The allocator the bundled SQLite uses: `"mimalloc"` (see src/sqlite_allocator.rs),
/// or `"system"` if it could not be set (internal: for tests and diagnostics).
#[napi]
pub fn sqlite_allocator() -> &'static str {
    crate::sqlite_allocator::name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sqlite_has_the_wal_reset_fix() {
        let parts: Vec<u32> = sqlite_version().split('.').map(|p| p.parse().unwrap()).collect();
        assert!(parts >= vec![3, 51, 3], "{parts:?}");
    }
}
