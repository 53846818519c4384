//! Open options: what JS may pass, their defaults, and their validation.
//!
//! The JS facade has already rejected unknown keys and wrong JS types; this
//! module applies defaults and checks values (ranges, enum names).

use napi_derive::napi;

use crate::errors::{Error, Result};
use crate::limits::{LimitOptions, Limits};
use crate::permissions::{POLICIES, Policy};
use crate::replication::{self, Replication};

/// Options for `new HardenedDb(path, options)` that the native open sequence uses.
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct OpenOptions {
    /// Open for reading only: the connection is opened read-write (so it can keep
    /// the WAL index `-shm` up to date) and `PRAGMA query_only=ON` rejects writes. Default `false`.
    pub readonly: Option<bool>,
    /// Refuse to create the database file (or its directory) when missing. Default `false`.
    pub file_must_exist: Option<bool>,
    /// Milliseconds a statement waits for another connection's lock before `SQLITE_BUSY`. Default `5000`.
    pub busy_timeout: Option<f64>,
    /// Permission bits of every file created through the connection: the database (its `-wal`, `-shm`,
    /// `-journal` get the same), new `ATTACH`ed databases and `VACUUM INTO` targets. Default `0o600`.
    pub file_mode: Option<f64>,
    /// `PRAGMA synchronous`: `"OFF"`, `"NORMAL"`, `"FULL"` or `"EXTRA"`. Default `"NORMAL"` (durable in WAL mode except for the last commits on power loss).
    pub synchronous: Option<String>,
    /// `PRAGMA mmap_size` in bytes. Default `0` (memory-mapped I/O off: an I/O error becomes SIGBUS otherwise).
    pub mmap_size: Option<f64>,
    /// `PRAGMA foreign_keys`. Default `true`.
    pub foreign_keys: Option<bool>,
    /// `PRAGMA temp_store`: `"DEFAULT"`, `"FILE"` or `"MEMORY"`. Default `"MEMORY"`.
    pub temp_store: Option<String>,
    /// `PRAGMA cache_size`: negative is KiB, positive is pages. Default `-16000` (about 16 MB, better-sqlite3's build default).
    pub cache_size: Option<f64>,
    /// `PRAGMA journal_size_limit` in bytes: the `-wal` is truncated to this after a checkpoint. Default `67108864` (64 MiB).
    pub journal_size_limit: Option<f64>,
    /// `PRAGMA wal_autocheckpoint` in pages. Default `1000`.
    pub wal_autocheckpoint: Option<f64>,
    /// `PRAGMA auto_vacuum` for a brand-new file: `"NONE"`, `"FULL"` or `"INCREMENTAL"`. Default `"NONE"`, SQLite's and better-sqlite3's: `"INCREMENTAL"` lets `db.incrementalVacuum()` give free pages back to the file system.
    pub auto_vacuum: Option<String>,
    /// Read INTEGER columns as `bigint` in every statement by default. Default `false`.
    pub safe_integers: Option<bool>,
    /// What to do when the database, `-wal` or `-shm` has a mode wider than `fileMode`:
    /// `"warn"` (a `process.emitWarning` with code `HARDENED_FILE_MODE`), `"fix"` (chmod it)
    /// or `"throw"` (refuse to open). Default `"warn"`.
    pub permissions: Option<String>,
    /// SQLite's run-time limits to lower (`sqlite3_limit`), each read back at open. Default: SQLite's.
    pub limits: Option<LimitOptions>,
    /// Milliseconds one call (`run`, `get`, `all`, a batch of `iterate`, `exec`, `pragma`) may run
    /// before SQLite interrupts it with `HARDENED_STATEMENT_TIMEOUT`. Default `0` (no timeout).
    pub statement_timeout: Option<f64>,
    /// `"litestream"` when `litestream replicate` ships this database's WAL: then
    /// `walAutocheckpoint` is 0, `journalSizeLimit` is -1 and FULL/RESTART/TRUNCATE
    /// checkpoints never wait (see docs/replication.md). Default `"none"`.
    pub replication: Option<String>,
}

/// `PRAGMA synchronous` names, by their numeric value.
pub const SYNCHRONOUS: [&str; 4] = ["OFF", "NORMAL", "FULL", "EXTRA"];
/// `PRAGMA temp_store` names, by their numeric value.
pub const TEMP_STORE: [&str; 3] = ["DEFAULT", "FILE", "MEMORY"];
/// `PRAGMA auto_vacuum` names, by their numeric value.
pub const AUTO_VACUUM: [&str; 3] = ["NONE", "FULL", "INCREMENTAL"];

/// Validated open settings with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Reject writes with `query_only`.
    pub readonly: bool,
    /// May create the directory and the file.
    pub create: bool,
    /// Busy timeout in milliseconds.
    pub busy_timeout_ms: u32,
    /// Mode bits of a new database file.
    pub file_mode: u32,
    /// Index into [`SYNCHRONOUS`].
    pub synchronous: i64,
    /// Bytes of memory-mapped I/O.
    pub mmap_size: i64,
    /// Enforce foreign keys.
    pub foreign_keys: bool,
    /// Index into [`TEMP_STORE`].
    pub temp_store: i64,
    /// Page cache size (negative: KiB).
    pub cache_size: i64,
    /// Bytes the `-wal` is truncated to after a checkpoint.
    pub journal_size_limit: i64,
    /// Pages in the WAL that trigger an automatic checkpoint.
    pub wal_autocheckpoint: i64,
    /// Index into [`AUTO_VACUUM`], applied to new files only.
    pub auto_vacuum: i64,
    /// Read integers as bigint by default.
    pub safe_integers: bool,
    /// What to do about a file mode wider than `file_mode`.
    pub permissions: Policy,
    /// Run-time limits to set at open.
    pub limits: Limits,
    /// Statement timeout in milliseconds; 0 means none.
    pub statement_timeout_ms: u32,
    /// Who ships the WAL (option `replication`).
    pub replication: Replication,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            readonly: false,
            create: true,
            busy_timeout_ms: 5000,
            file_mode: 0o600,
            synchronous: 1,
            mmap_size: 0,
            foreign_keys: true,
            temp_store: 2,
            cache_size: -16000,
            journal_size_limit: 64 * 1024 * 1024,
            wal_autocheckpoint: 1000,
            auto_vacuum: 0,
            safe_integers: false,
            permissions: Policy::Warn,
            limits: Vec::new(),
            statement_timeout_ms: 0,
            replication: Replication::None,
        }
    }
}

impl Settings {
    /// Applies defaults to `options` and checks every value.
    pub fn from_options(options: &OpenOptions) -> Result<Settings> {
        let d = Settings::default();
        let readonly = options.readonly.unwrap_or(d.readonly);
        let replication = Replication::parse(options.replication.as_deref())?;
        let wal_autocheckpoint = integer("walAutocheckpoint", options.wal_autocheckpoint, 0, i32::MAX as i64)?;
        let journal_size_limit = integer("journalSizeLimit", options.journal_size_limit, -1, i64::MAX)?;
        replication::check_settings(replication, wal_autocheckpoint, journal_size_limit)?;
        Ok(Settings {
            readonly,
            create: !readonly && !options.file_must_exist.unwrap_or(false),
            busy_timeout_ms: integer("busyTimeout", options.busy_timeout, 0, MAX_BUSY_TIMEOUT_MS)?
                .map_or(d.busy_timeout_ms, |v| v as u32),
            file_mode: file_mode(options.file_mode)?.unwrap_or(d.file_mode),
            synchronous: named("synchronous", options.synchronous.as_deref(), &SYNCHRONOUS)?
                .unwrap_or(d.synchronous),
            mmap_size: integer("mmapSize", options.mmap_size, 0, i64::MAX)?.unwrap_or(d.mmap_size),
            foreign_keys: options.foreign_keys.unwrap_or(d.foreign_keys),
            temp_store: named("tempStore", options.temp_store.as_deref(), &TEMP_STORE)?.unwrap_or(d.temp_store),
            cache_size: integer("cacheSize", options.cache_size, i64::MIN + 1, i64::MAX)?.unwrap_or(d.cache_size),
            journal_size_limit: journal_size_limit
                .unwrap_or_else(|| replication.default_journal_size_limit(d.journal_size_limit)),
            wal_autocheckpoint: wal_autocheckpoint
                .unwrap_or_else(|| replication.default_wal_autocheckpoint(d.wal_autocheckpoint)),
            auto_vacuum: named("autoVacuum", options.auto_vacuum.as_deref(), &AUTO_VACUUM)?
                .unwrap_or(d.auto_vacuum),
            safe_integers: options.safe_integers.unwrap_or(d.safe_integers),
            permissions: named("permissions", options.permissions.as_deref(), &POLICIES)?
                .map_or(d.permissions, Policy::from_index),
            limits: options.limits.as_ref().map(LimitOptions::validate).transpose()?.unwrap_or_default(),
            statement_timeout_ms: integer("statementTimeout", options.statement_timeout, 0, i32::MAX as i64)?
                .map_or(d.statement_timeout_ms, |v| v as u32),
            replication,
        })
    }
}

/// The longest busy timeout, in milliseconds (SQLite keeps it in a C `int`).
pub const MAX_BUSY_TIMEOUT_MS: i64 = i32::MAX as i64;

/// Checks a busy timeout set after the open (`what` names where it came from): a
/// whole number of milliseconds from 0 to [`MAX_BUSY_TIMEOUT_MS`], like option `busyTimeout`.
pub fn busy_timeout_ms(value: f64, what: &str) -> Result<u32> {
    if value.fract() != 0.0 || !value.is_finite() || value < 0.0 || value > MAX_BUSY_TIMEOUT_MS as f64 {
        return Err(Error::range(
            "HARDENED_INVALID_ARGUMENT",
            format!("{what} takes a whole number of milliseconds from 0 to {MAX_BUSY_TIMEOUT_MS}, got {value}"),
        ));
    }
    Ok(value as u32)
}

/// The owner must keep read and write access to the database (SQLite needs both),
/// and only permission bits are allowed (no setuid, setgid or sticky bit).
fn file_mode(value: Option<f64>) -> Result<Option<u32>> {
    let Some(mode) = integer("fileMode", value, 0, 0o777)? else { return Ok(None) };
    let mode = mode as u32;
    if mode & 0o600 != 0o600 {
        return Err(invalid(
            "fileMode",
            format!(
                "must give the owner read and write access (the 0o600 bits), got 0o{mode:o}: the database would be \
                 unreadable to the process that creates it; pass 0o600 or 0o{:o}",
                mode | 0o600
            ),
        ));
    }
    Ok(Some(mode))
}

fn invalid(option: &str, message: String) -> Error {
    Error::range("HARDENED_INVALID_OPTION", format!("Option \"{option}\" {message}"))
}

fn integer(option: &str, value: Option<f64>, min: i64, max: i64) -> Result<Option<i64>> {
    let Some(v) = value else { return Ok(None) };
    if v.fract() != 0.0 || !v.is_finite() || v < min as f64 || v > max as f64 {
        return Err(invalid(option, format!("must be a whole number from {min} to {max}, got {v}")));
    }
    Ok(Some(v as i64))
}

fn named(option: &str, value: Option<&str>, names: &[&str]) -> Result<Option<i64>> {
    let Some(v) = value else { return Ok(None) };
    match names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
        Some(i) => Ok(Some(i as i64)),
        None => Err(invalid(option, format!("must be one of {}, got \"{v}\"", names.join(", ")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_hardened_recipe() {
        let s = Settings::from_options(&OpenOptions::default()).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(SYNCHRONOUS[s.synchronous as usize], "NORMAL");
        assert_eq!(TEMP_STORE[s.temp_store as usize], "MEMORY");
        assert_eq!(AUTO_VACUUM[s.auto_vacuum as usize], "NONE");
        assert_eq!((s.busy_timeout_ms, s.file_mode, s.mmap_size), (5000, 0o600, 0));
    }

    #[test]
    fn names_are_case_insensitive() {
        let opts = OpenOptions { synchronous: Some("full".into()), ..Default::default() };
        assert_eq!(Settings::from_options(&opts).unwrap().synchronous, 2);
    }

    #[test]
    fn bad_values_name_the_option() {
        let opts = OpenOptions { synchronous: Some("fast".into()), ..Default::default() };
        let err = Settings::from_options(&opts).unwrap_err();
        assert_eq!(err.code(), "HARDENED_INVALID_OPTION");
        assert!(err.message().contains("\"synchronous\""), "{}", err.message());
        let opts = OpenOptions { busy_timeout: Some(-1.0), ..Default::default() };
        assert!(Settings::from_options(&opts).unwrap_err().message().contains("busyTimeout"));
        let opts = OpenOptions { file_mode: Some(0o1777 as f64), ..Default::default() };
        assert!(Settings::from_options(&opts).is_err());
        for mode in [0o1, 0o400, 0o200, 0o044] {
            let opts = OpenOptions { file_mode: Some(mode as f64), ..Default::default() };
            let err = Settings::from_options(&opts).unwrap_err();
            assert_eq!(err.code(), "HARDENED_INVALID_OPTION");
            assert!(err.message().contains("\"fileMode\" must give the owner read and write"), "{}", err.message());
        }
        let opts = OpenOptions { file_mode: Some(0o640 as f64), ..Default::default() };
        assert_eq!(Settings::from_options(&opts).unwrap().file_mode, 0o640);
    }

    #[test]
    fn busy_timeout_after_the_open_has_the_option_s_range() {
        assert_eq!(busy_timeout_ms(2500.0, "PRAGMA busy_timeout").unwrap(), 2500);
        assert_eq!(busy_timeout_ms(2_147_483_647.0, "x").unwrap(), i32::MAX as u32);
        for bad in [4_294_967_296.0, 99_999_999_999.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            let err = busy_timeout_ms(bad, "PRAGMA busy_timeout").unwrap_err();
            assert_eq!(err.code(), "HARDENED_INVALID_ARGUMENT");
            assert!(err.message().starts_with("PRAGMA busy_timeout takes a whole number"), "{}", err.message());
        }
    }

    #[test]
    fn limits_and_statement_timeout_are_validated() {
        let opts = OpenOptions {
            limits: Some(LimitOptions { attached: Some(0.0), ..Default::default() }),
            statement_timeout: Some(250.0),
            ..Default::default()
        };
        let s = Settings::from_options(&opts).unwrap();
        assert_eq!((s.limits, s.statement_timeout_ms), (vec![(7, 0)], 250));
        for bad in [-1.0, 0.5, 3e9] {
            let opts = OpenOptions { statement_timeout: Some(bad), ..Default::default() };
            let err = Settings::from_options(&opts).unwrap_err();
            assert_eq!(err.code(), "HARDENED_INVALID_OPTION");
            assert!(err.message().contains("\"statementTimeout\""), "{}", err.message());
        }
    }

    #[test]
    fn litestream_replication_leaves_the_wal_alone() {
        let opts = OpenOptions { replication: Some("litestream".into()), ..Default::default() };
        let s = Settings::from_options(&opts).unwrap();
        assert_eq!((s.replication, s.wal_autocheckpoint, s.journal_size_limit), (Replication::Litestream, 0, -1));
        let opts = OpenOptions { replication: Some("litestream".into()), wal_autocheckpoint: Some(1000.0), ..Default::default() };
        assert_eq!(Settings::from_options(&opts).unwrap_err().code(), "HARDENED_INVALID_OPTION");
    }

    #[test]
    fn readonly_never_creates() {
        let opts = OpenOptions { readonly: Some(true), ..Default::default() };
        assert!(!Settings::from_options(&opts).unwrap().create);
    }
}
