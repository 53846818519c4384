//! The connection's authorizer: the one place that decides which statements a
//! hardened connection refuses to prepare, and why.
//!
//! - On a `readonly` connection, `PRAGMA query_only` and `PRAGMA journal_mode`
//!   cannot be changed: `query_only=ON` is what makes the connection read-only
//!   (it opens read-write so readers keep the WAL index up to date), and a
//!   reader must not switch other processes' database out of WAL.
//! - While a migration runs, the statements that would silently break the
//!   transaction around it (see [`Refusal`]).
//! - On every connection unless `db.unsafeMode()` is on, the pragma writes that
//!   would silently undo the hardened open (`journal_mode` other than WAL on a
//!   file, `synchronous = OFF`, `mmap_size` above the option, `trusted_schema = ON`,
//!   `locking_mode = EXCLUSIVE`; see [`crate::weaker_pragmas`]).
//! - On every connection, the encryption pragmas of SQLCipher and SEE (`key`,
//!   `rekey`, `hexkey`, ...): this build has no encryption at rest, and SQLite
//!   ignores pragmas it does not know, so without this an ORM's `key` option
//!   would leave the file in plaintext without a word.
//! - On a tenant handle (`db.forTenant()`), everything [`crate::tenant::rules`]
//!   does not allow: the underlying tables, other schemas, schema changes, PRAGMA writes.
//!
//! SQLite asks the authorizer only while preparing, so it costs nothing per step.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_char, c_int, c_void};

use rusqlite::{Connection, ffi};

use crate::client_data;
use crate::errors::{Error, Result};
use crate::weaker_pragmas::{Baseline, WeakerPragma, weakens};

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// `PRAGMA foreign_keys = …` in a migration.
    ForeignKeys,
    /// `PRAGMA journal_mode = …` in a migration.
    JournalMode,
    /// `PRAGMA user_version = …` in a migration.
    UserVersion,
    /// `BEGIN`, `COMMIT` or `ROLLBACK` in a migration.
    Transaction,
    /// `PRAGMA query_only` or `journal_mode` changed on a `readonly` connection.
    ReadonlySwitch,
    /// `PRAGMA key`, `rekey`, `hexkey`, `hexrekey`, `textkey` or `textrekey`: no encryption in this build.
    NoEncryption,
    /// `PRAGMA busy_timeout = N` with N not a whole number from 0 to 2147483647.
    BusyTimeoutRange,
    /// Something a tenant handle may not do (see [`crate::tenant::rules`]).
    Tenant(crate::tenant::rules::Denial),
    /// A pragma write that would undo the hardened open (see [`crate::weaker_pragmas`]).
    WeakerPragma(WeakerPragma),
}

/// The pragmas that set or change an encryption key in SQLCipher and SEE.
pub const KEY_PRAGMAS: [&str; 6] = ["key", "rekey", "hexkey", "hexrekey", "textkey", "textrekey"];

/// What to do instead of a key, for [`Refusal::NoEncryption`] and `file:` URLs with a `key` parameter.
pub const NO_ENCRYPTION_FIX: &str = "this build of hardened-sqlite has no encryption at rest, so the database \
     would stay in plaintext: remove the key (the ORM's \"key\" or \"password\" option), and encrypt the disk or \
     volume that holds the database (LUKS, FileVault, BitLocker, an encrypted cloud volume), or use a SQLCipher \
     build of SQLite if the file itself must be encrypted";

impl Refusal {
    /// What to do instead.
    pub fn explain(&self) -> &'static str {
        match self {
            Refusal::ForeignKeys => {
                "PRAGMA foreign_keys does nothing inside a transaction, and every migration runs in one; to rebuild \
                 a table with foreign keys off, make \"-- hardened: foreign_keys=off\" the first line of the file instead"
            }
            Refusal::JournalMode => {
                "PRAGMA journal_mode cannot change inside a transaction, and every migration runs in one; the open \
                 sequence already sets WAL: remove it"
            }
            Refusal::UserVersion => {
                "PRAGMA user_version is set by the migration runner to the migration's version: remove it"
            }
            Refusal::Transaction => {
                "BEGIN, COMMIT and ROLLBACK would end the transaction the runner opens around each migration: \
                 remove them (SAVEPOINT is fine)"
            }
            Refusal::ReadonlySwitch => {
                "attempt to write a readonly database: this connection was opened with readonly: true, so \
                 PRAGMA query_only and journal_mode cannot be changed on it; open a connection without readonly to write"
            }
            Refusal::NoEncryption => NO_ENCRYPTION_FIX,
            Refusal::BusyTimeoutRange => {
                "PRAGMA busy_timeout takes a whole number of milliseconds from 0 to 2147483647, like the busyTimeout \
                 option (SQLite would silently wrap a larger one, to 0 for 4294967296: no waiting at all)"
            }
            Refusal::Tenant(_) => "a tenant handle reaches tenant tables through their unqualified names only",
            Refusal::WeakerPragma(pragma) => pragma.explain(),
        }
    }

    /// The error a statement refused outside a migration fails with.
    pub fn error(self) -> Error {
        match self {
            Refusal::Tenant(denial) => denial.error(),
            Refusal::BusyTimeoutRange => Error::range("HARDENED_INVALID_ARGUMENT", self.explain()),
            Refusal::ReadonlySwitch => Error::Sqlite { code: ffi::SQLITE_READONLY, message: self.explain().to_string() },
            Refusal::NoEncryption => Error::hardened(
                "HARDENED_NO_ENCRYPTION",
                format!("PRAGMA key (and rekey, hexkey, hexrekey, textkey, textrekey) is refused: {}", self.explain()),
            ),
            Refusal::WeakerPragma(pragma) => Error::hardened(
                "HARDENED_WEAKER_PRAGMA",
                format!(
                    "PRAGMA {} with this value is refused because it would weaken the hardened connection: {}; \
                     if you really mean it, call db.unsafeMode() first",
                    pragma.name(),
                    pragma.explain()
                ),
            ),
            _ => Error::Sqlite { code: ffi::SQLITE_AUTH, message: format!("not authorized: {}", self.explain()) },
        }
    }
}

/// What one connection refuses, and the last refusal (for the error message).
#[derive(Default)]
struct Policy {
    readonly: bool,
    /// The connection's handle, to tell file databases from in-memory ones.
    db: usize,
    /// What the open set, for [`weakens`].
    baseline: Baseline,
    /// `db.unsafeMode()` is on: weaker pragmas are allowed.
    unsafe_mode: Cell<bool>,
    migrating: Cell<bool>,
    refused: Cell<Option<Refusal>>,
    /// The value of the last `PRAGMA busy_timeout = N` prepared (see [`take_busy_timeout`]).
    busy_timeout: Cell<Option<u32>>,
    /// What a tenant handle may do; `None` on every other connection.
    tenant: RefCell<Option<crate::tenant::rules::Rules>>,
}

impl Policy {
    /// Whether [`Policy::decide`] may refuse `action` (it answers `None` to every other).
    fn reads(action: c_int) -> bool {
        matches!(action, ffi::SQLITE_PRAGMA | ffi::SQLITE_TRANSACTION)
    }

    fn decide(&self, action: c_int, first: Option<&str>, value: Option<&str>, schema: Option<&str>) -> Option<Refusal> {
        let has_value = value.is_some();
        let migration = self.migrating.get();
        match (action, first) {
            (ffi::SQLITE_PRAGMA, Some(name)) if KEY_PRAGMAS.contains(&name) => Some(Refusal::NoEncryption),
            (ffi::SQLITE_PRAGMA, Some("busy_timeout")) if has_value => match value.and_then(busy_timeout_ms) {
                Some(ms) => {
                    self.busy_timeout.set(Some(ms));
                    None
                }
                None => Some(Refusal::BusyTimeoutRange),
            },
            // What a Bun reader's `db.run("PRAGMA journal_mode = WAL")` asks for is already so: a no-op.
            (ffi::SQLITE_PRAGMA, Some("journal_mode"))
                if self.readonly && value == Some("wal") && self.baseline.wal_at_open && self.main_only(schema) =>
            {
                None
            }
            (ffi::SQLITE_PRAGMA, Some("query_only" | "journal_mode")) if self.readonly && has_value => {
                Some(Refusal::ReadonlySwitch)
            }
            (ffi::SQLITE_TRANSACTION, _) if migration => Some(Refusal::Transaction),
            (ffi::SQLITE_PRAGMA, Some("foreign_keys")) if migration && has_value => Some(Refusal::ForeignKeys),
            (ffi::SQLITE_PRAGMA, Some("journal_mode")) if migration && has_value => Some(Refusal::JournalMode),
            (ffi::SQLITE_PRAGMA, Some("user_version")) if migration && has_value => Some(Refusal::UserVersion),
            (ffi::SQLITE_PRAGMA, Some(name)) if !self.unsafe_mode.get() => value
                .and_then(|value| weakens(name, value, self.baseline, self.is_file(schema)))
                .map(Refusal::WeakerPragma),
            _ => None,
        }
    }

    /// Whether a pragma on `schema` reaches the main database only: `main` named, or
    /// no schema named and nothing attached (it would then apply to every database).
    fn main_only(&self, schema: Option<&str>) -> bool {
        match schema {
            Some(name) => name == "main",
            // SAFETY: as in `is_file`; index 2 is the first attached database, null when there is none.
            None => unsafe { ffi::sqlite3_db_name(self.db as *mut ffi::sqlite3, 2) }.is_null(),
        }
    }

    /// Whether `schema` (main when `None`) is a database file rather than in memory.
    fn is_file(&self, schema: Option<&str>) -> bool {
        let Ok(schema) = std::ffi::CString::new(schema.unwrap_or("main")) else { return false };
        // SAFETY: `db` is the open connection whose authorizer is running (the policy
        // is forgotten after it closes); `sqlite3_db_filename` only reads its schema list.
        let name = unsafe { ffi::sqlite3_db_filename(self.db as *mut ffi::sqlite3, schema.as_ptr()) };
        // SAFETY: a non-null result is a NUL-terminated string owned by SQLite.
        !name.is_null() && !unsafe { CStr::from_ptr(name) }.to_bytes().is_empty()
    }
}

/// The key of a connection's policy in its client data (see [`crate::client_data`]).
const POLICY_KEY: &CStr = c"hardened-sqlite.authorizer";

/// Runs `f` with the policy `install` attached to `db`; `None` without one.
fn with_policy<T>(db: *mut ffi::sqlite3, f: impl FnOnce(&Policy) -> T) -> Option<T> {
    // SAFETY: `db` is an open connection used by one thread at a time; POLICY_KEY
    // holds only `Policy`s, and `f` neither replaces it nor closes `db`.
    unsafe { client_data::with(db, POLICY_KEY, f) }
}

/// Reads a C string argument of the authorizer, lowercased.
///
/// # Safety
/// `text` is null or a NUL-terminated string valid for the call.
unsafe fn arg(text: *const c_char) -> Option<String> {
    // SAFETY: forwarded from the caller.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_string_lossy().to_ascii_lowercase())
}

unsafe extern "C" fn authorize(
    data: *mut c_void,
    action: c_int,
    first: *const c_char,
    second: *const c_char,
    database: *const c_char,
    trigger: *const c_char,
) -> c_int {
    // SAFETY: `data` is the boxed policy `install` attached to this connection; SQLite
    // frees it only when the connection closes or after the authorizer was replaced
    // (`install`, `MigrationScope`). A connection is used by one thread at a time,
    // so the `Cell`s are not shared.
    let policy = unsafe { &*data.cast::<Policy>() };
    if !Policy::reads(action) && matches!(policy.tenant.try_borrow().as_deref(), Ok(None)) {
        // Outside tenant handles only pragmas and transactions are looked at: the others
        // (a SQLITE_READ per column read, SQLITE_SELECT, ...) pass without making the
        // three lowercase strings below (docs/performance.md, "Memory": with the
        // batched external-memory report, a 6-column SELECT's prepare 6.6 -> 5.4 µs on Bun).
        return ffi::SQLITE_OK;
    }
    // SAFETY: SQLite passes the strings it documents for `action`, valid for this call.
    let (first, value, schema) = unsafe { (arg(first), arg(second), arg(database)) };
    let tenant = match policy.tenant.try_borrow() {
        // SAFETY: as above, for the third to sixth arguments.
        Ok(rules) => rules.as_ref().and_then(|rules| unsafe {
            let trigger = arg(trigger);
            rules.decide(action, first.as_deref(), value.as_deref(), schema.as_deref(), trigger.as_deref())
        }),
        // Never reached (the rules are replaced between prepares): refuse rather than guess.
        Err(_) => Some(crate::tenant::rules::Denial::busy()),
    };
    let own = || policy.decide(action, first.as_deref(), value.as_deref(), schema.as_deref());
    match tenant.map(Refusal::Tenant).or_else(own) {
        Some(refusal) => {
            policy.refused.set(Some(refusal));
            ffi::SQLITE_DENY
        }
        None => ffi::SQLITE_OK,
    }
}

/// Installs the hardened authorizer on `conn` (`readonly` connections keep
/// `query_only`; `baseline` is what the open set, see [`weakens`]).
pub fn install(conn: &Connection, readonly: bool, baseline: Baseline) -> Result<()> {
    // SAFETY: the handle is used only for the calls below, while `conn` is borrowed (open).
    let db = unsafe { conn.handle() };
    let policy = Box::new(Policy { readonly, db: db as usize, baseline, ..Policy::default() });
    // SAFETY: `db` is open. The authorizer is removed before the policy it may
    // point to is replaced (and freed).
    let policy = unsafe {
        ffi::sqlite3_set_authorizer(db, None, std::ptr::null_mut());
        client_data::attach(db, POLICY_KEY, policy)?
    };
    // SAFETY: `db` is open; `policy` lives on it until it closes (see `authorize`).
    unsafe { ffi::sqlite3_set_authorizer(db, Some(authorize), policy.cast()) };
    Ok(())
}

/// `PRAGMA busy_timeout`'s value as the authorizer sees it (SQLite has
/// dequoted it): digits, optionally after `+`, up to 2147483647.
fn busy_timeout_ms(value: &str) -> Option<u32> {
    let digits = value.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|&ms| ms <= i32::MAX as u32)
}

/// The timeout of the last `PRAGMA busy_timeout = N` prepared on `db`, if one was
/// since the last call: SQLite then replaces the fair busy handler with its own
/// when the statement runs, and the caller puts it back (see `busy::adopt`).
pub fn take_busy_timeout(db: *mut ffi::sqlite3) -> Option<u32> {
    with_policy(db, |policy| policy.busy_timeout.take()).flatten()
}

/// Allows (`true`) or again refuses the weaker pragmas on `conn`: `db.unsafeMode()`.
pub fn set_unsafe_mode(conn: &Connection, on: bool) -> Result<()> {
    // SAFETY: the handle is used only while `conn` is borrowed (open).
    with_policy(unsafe { conn.handle() }, |policy| policy.unsafe_mode.set(on));
    Ok(())
}

/// The refusal that made the last prepare on `db` fail, if it was one.
pub fn take_refusal(db: *mut ffi::sqlite3) -> Option<Refusal> {
    with_policy(db, |policy| policy.refused.take()).flatten()
}

/// Makes `conn` a tenant handle that allows only what `rules` allow (`None`: a plain connection again).
pub fn set_tenant_rules(conn: &Connection, rules: Option<crate::tenant::rules::Rules>) -> Result<()> {
    // SAFETY: the handle is used only while `conn` is borrowed (open).
    with_policy(unsafe { conn.handle() }, |policy| match policy.tenant.try_borrow_mut() {
        Ok(mut tenant) => {
            *tenant = rules;
            Ok(())
        }
        Err(_) => Err(Error::hardened("HARDENED_INTERNAL", "tenant rules in use")),
    })
    .unwrap_or_else(|| Err(Error::hardened("HARDENED_INTERNAL", "tenant rules set on a connection without the authorizer")))
}

/// Runs `f` with the tenant rules of `conn` lifted (the tenant layer's own statements).
pub fn with_tenant_rules_lifted<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    // SAFETY: the handle is used only while `conn` is borrowed (open).
    let lifted = with_policy(unsafe { conn.handle() }, |policy| policy.tenant.try_borrow_mut().ok()?.take()).flatten();
    let result = f();
    if let Some(rules) = lifted {
        set_tenant_rules(conn, Some(rules))?;
    }
    result
}

/// While alive, the connection refuses what a migration may not contain.
pub struct MigrationScope {
    db: *mut ffi::sqlite3,
    /// The authorizer was installed for this scope only (a connection that did
    /// not go through the open sequence, e.g. in unit tests).
    temporary: bool,
}

impl MigrationScope {
    /// Starts refusing migration statements on `conn`.
    pub fn enter(conn: &Connection) -> Result<MigrationScope> {
        // SAFETY: only the address is used; the scope lives within a borrow of `conn`.
        let db = unsafe { conn.handle() };
        let temporary = with_policy(db, |_| ()).is_none();
        if temporary {
            install(conn, false, Baseline::default())?;
        }
        set_migrating(db, true);
        Ok(MigrationScope { db, temporary })
    }

    /// The refusal that made the last prepare fail, if it was one.
    pub fn take_refusal(&self) -> Option<Refusal> {
        take_refusal(self.db)
    }
}

impl Drop for MigrationScope {
    fn drop(&mut self) {
        set_migrating(self.db, false);
        if self.temporary {
            // SAFETY: `db` is still open (the scope lives within a borrow of the connection).
            // The authorizer is removed before SQLite frees the policy it points to.
            unsafe {
                ffi::sqlite3_set_authorizer(self.db, None, std::ptr::null_mut());
                client_data::remove(self.db, POLICY_KEY);
            }
        }
    }
}

fn set_migrating(db: *mut ffi::sqlite3, on: bool) {
    with_policy(db, |policy| {
        policy.migrating.set(on);
        policy.refused.set(None);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readonly_connections_keep_query_only_and_journal_mode() {
        let conn = Connection::open_in_memory().unwrap();
        install(&conn, true, Baseline::default()).unwrap();
        conn.execute_batch("PRAGMA query_only = ON").unwrap_err();
        for sql in ["PRAGMA query_only = 0", "PRAGMA main.QUERY_ONLY=false", "PRAGMA journal_mode = DELETE"] {
            let err = Error::from(conn.prepare(sql).unwrap_err());
            assert_eq!(err.code(), "SQLITE_AUTH", "{sql}");
            // SAFETY: only the address is used.
            assert_eq!(take_refusal(unsafe { conn.handle() }), Some(Refusal::ReadonlySwitch), "{sql}");
        }
        conn.prepare("PRAGMA query_only").unwrap();
        conn.prepare("PRAGMA journal_mode").unwrap();
    }

    #[test]
    fn a_reader_of_a_wal_file_may_ask_for_wal_on_main_only() {
        let dir = crate::test_support::temp_dir("authorizer-reader-wal");
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join("app.db")).unwrap();
        install(&conn, true, Baseline { wal_at_open: true, ..Baseline::default() }).unwrap();
        conn.prepare("PRAGMA journal_mode = WAL").unwrap();
        conn.prepare("PRAGMA main.journal_mode = 'wal'").unwrap();
        conn.prepare("PRAGMA journal_mode = DELETE").unwrap_err();
        conn.execute_batch("ATTACH ':memory:' AS other").unwrap();
        // Unqualified, it would apply to the attached database too.
        conn.prepare("PRAGMA journal_mode = WAL").unwrap_err();
        conn.prepare("PRAGMA main.journal_mode = WAL").unwrap();
        let other = Connection::open(dir.join("app.db")).unwrap();
        install(&other, true, Baseline::default()).unwrap();
        other.prepare("PRAGMA journal_mode = WAL").unwrap_err();
        drop((conn, other));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn key_pragmas_are_refused_with_or_without_a_value_in_any_case() {
        let conn = Connection::open_in_memory().unwrap();
        install(&conn, false, Baseline::default()).unwrap();
        for sql in [
            "PRAGMA key = 'secret'",
            "PRAGMA KEY",
            "PRAGMA main.Key='x'",
            "PRAGMA rekey = 'y'",
            "PRAGMA hexkey = '00ff'",
            "PRAGMA hexrekey('00ff')",
            "PRAGMA textkey = 'z'",
            "PRAGMA textrekey = 'z'",
        ] {
            let err = Error::from(conn.prepare(sql).unwrap_err());
            assert_eq!(err.code(), "SQLITE_AUTH", "{sql}");
            // SAFETY: only the address is used.
            let refusal = take_refusal(unsafe { conn.handle() });
            assert_eq!(refusal, Some(Refusal::NoEncryption), "{sql}");
            assert_eq!(refusal.unwrap().error().code(), "HARDENED_NO_ENCRYPTION");
        }
        // Other unknown pragmas stay no-ops, as in SQLite; SQLCipher's version probe reads nothing.
        conn.prepare("PRAGMA keys").unwrap();
        conn.prepare("PRAGMA cipher_version").unwrap();
    }

    #[test]
    fn busy_timeout_values_are_whole_milliseconds_within_i32() {
        assert_eq!(busy_timeout_ms("250"), Some(250));
        assert_eq!(busy_timeout_ms(" +0 "), Some(0));
        assert_eq!(busy_timeout_ms("2147483647"), Some(2_147_483_647));
        for bad in ["2147483648", "4294967296", "99999999999", "-5", "1.5", "12abc", "", "0x10"] {
            assert_eq!(busy_timeout_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn weaker_pragmas_are_refused_on_files_until_unsafe_mode() {
        let dir = crate::test_support::temp_dir("authorizer-weaker");
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join("app.db")).unwrap();
        install(&conn, false, Baseline::default()).unwrap();
        for sql in ["PRAGMA journal_mode = DELETE", "PRAGMA main.synchronous = OFF", "PRAGMA mmap_size = 65536"] {
            let err = Error::from(conn.prepare(sql).unwrap_err());
            assert_eq!(err.code(), "SQLITE_AUTH", "{sql}");
            // SAFETY: only the address is used.
            let refusal = take_refusal(unsafe { conn.handle() }).unwrap();
            assert_eq!(refusal.error().code(), "HARDENED_WEAKER_PRAGMA", "{sql}");
        }
        conn.prepare("PRAGMA journal_mode = WAL").unwrap();
        conn.prepare("PRAGMA synchronous = FULL").unwrap();
        // In memory there is no file to protect: temp's journal mode may change.
        conn.prepare("PRAGMA temp.journal_mode = MEMORY").unwrap();
        set_unsafe_mode(&conn, true).unwrap();
        conn.prepare("PRAGMA synchronous = OFF").unwrap();
        set_unsafe_mode(&conn, false).unwrap();
        conn.prepare("PRAGMA synchronous = OFF").unwrap_err();
        drop(conn);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn migration_refusals_apply_only_inside_the_scope() {
        let conn = Connection::open_in_memory().unwrap();
        install(&conn, false, Baseline::default()).unwrap();
        {
            let scope = MigrationScope::enter(&conn).unwrap();
            conn.prepare("COMMIT").unwrap_err();
            assert_eq!(scope.take_refusal(), Some(Refusal::Transaction));
        }
        conn.prepare("BEGIN").unwrap();
        conn.prepare("PRAGMA user_version = 3").unwrap();
    }
}
