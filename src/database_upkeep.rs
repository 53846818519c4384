//! `NativeDatabase`'s health and maintenance methods: thin calls into
//! `health`, `maintenance` and `permissions`, kept apart from the core methods.

use std::path::PathBuf;

use napi::Env;
use napi_derive::napi;

use crate::database::NativeDatabase;
use crate::errors::{Error, Result, to_js};
use crate::health::{self, HealthReport, Integrity, MigrationHealth, Subject};
use crate::location::Location;
use crate::backup::BackupJob;
use crate::backup_class::NativeBackup;
use crate::maintenance::{self, CheckpointResult};
use crate::options::{Settings, busy_timeout_ms};
use crate::replication;

/// What the health and maintenance methods need to know about the open.
#[derive(Debug, Clone)]
pub struct Upkeep {
    /// The settings the connection was opened with.
    pub settings: Settings,
    /// The database file, `None` in memory.
    pub path: Option<PathBuf>,
    /// Warnings about wide file modes found by the open, taken once by JS.
    pub mode_warnings: std::cell::RefCell<Vec<String>>,
}

impl Upkeep {
    /// Records what the open sequence found.
    pub fn new(location: &Location, settings: Settings, mode_warnings: Vec<String>) -> Upkeep {
        let path = match location {
            Location::File(path) => Some(path.clone()),
            Location::Memory | Location::Temporary => None,
        };
        Upkeep { settings, path, mode_warnings: std::cell::RefCell::new(mode_warnings) }
    }
}

/// Options of `db.health()`.
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct HealthOptions {
    /// Also run `"quick"` (`PRAGMA quick_check`) or `"full"` (`PRAGMA integrity_check`). Default: neither.
    pub integrity: Option<String>,
    /// Where the schema stands (filled in by the JS facade from `db.migrationStatus()`).
    pub migrations: Option<MigrationHealth>,
}

/// Options of `db.backup()`.
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct BackupOptions {
    /// `true`: replace any existing regular file; `false`: refuse every existing file;
    /// unset: replace only a SQLite database (or an empty file), as better-sqlite3 does.
    pub overwrite: Option<bool>,
    /// The schema to back up: `"main"` (default), `"temp"` or an attached name.
    pub attached: Option<String>,
}

fn integrity(value: Option<&str>) -> Result<Integrity> {
    match value {
        None => Ok(Integrity::Skip),
        Some(v) if v.eq_ignore_ascii_case("quick") => Ok(Integrity::Quick),
        Some(v) if v.eq_ignore_ascii_case("full") => Ok(Integrity::Full),
        Some(v) => Err(Error::range(
            "HARDENED_INVALID_ARGUMENT",
            format!("Health option \"integrity\" must be \"quick\" or \"full\", got \"{v}\""),
        )),
    }
}

#[napi]
impl NativeDatabase {
    /// Checks every promise of the open sequence; see `HealthReport`.
    #[napi]
    pub fn health(&self, env: Env, options: Option<HealthOptions>) -> napi::Result<HealthReport> {
        let options = options.unwrap_or_default();
        let upkeep = &self.upkeep;
        let report = integrity(options.integrity.as_deref()).and_then(|integrity| {
            self.shared.with(|conn| {
                let subject = Subject { conn, settings: &upkeep.settings, path: upkeep.path.as_deref(), is_new: self.is_new };
                health::report(subject, integrity, options.migrations.as_ref())
            })
        });
        to_js(&env, report)
    }

    /// Runs a checkpoint: `"PASSIVE"` (default), `"FULL"`, `"RESTART"` or `"TRUNCATE"`. The last
    /// three wait for readers at most `timeout_ms` (default 1000 ms capped by the busy timeout;
    /// 0 under option `replication`), so they never hold the write lock longer than that.
    #[napi]
    pub fn checkpoint(&self, env: Env, mode: Option<String>, timeout_ms: Option<f64>) -> napi::Result<CheckpointResult> {
        let mode = mode.unwrap_or_else(|| "PASSIVE".to_string());
        let settings = &self.upkeep.settings;
        let path = self.upkeep.path.as_deref();
        let result = timeout_ms.map(|ms| busy_timeout_ms(ms, "checkpoint option \"timeout\"")).transpose().and_then(|requested| {
            self.shared.with(|conn| replication::checkpoint(conn, &mode, settings, path, requested))
        });
        to_js(&env, result)
    }

    /// Starts a backup to `destination` (see `backup::BackupJob`); the caller steps it.
    #[napi]
    pub fn start_backup(&self, env: Env, destination: String, options: Option<BackupOptions>) -> napi::Result<NativeBackup> {
        let options = options.unwrap_or_default();
        let attached = options.attached.as_deref().unwrap_or("main");
        let mode = self.upkeep.settings.file_mode;
        // Allowed while an iterator is open, as in better-sqlite3: the steps only read the source.
        let job = BackupJob::start(&*self.shared, &destination, attached, mode, options.overwrite);
        to_js(&env, job.map(|job| NativeBackup::new(self.shared.clone(), job)))
    }

    /// The problems `quick_check` (`quick: true`) or `integrity_check` reports; empty when sound.
    #[napi]
    pub fn integrity_check(&self, env: Env, quick: Option<bool>) -> napi::Result<Vec<String>> {
        to_js(&env, self.shared.with(|conn| maintenance::integrity_problems(conn, quick.unwrap_or(false))))
    }

    /// Frees up to `pages` free pages (all by default); returns how many were freed.
    #[napi]
    pub fn incremental_vacuum(&self, env: Env, pages: Option<u32>) -> napi::Result<i64> {
        to_js(&env, self.shared.with(|conn| maintenance::incremental_vacuum(conn, pages)))
    }

    /// Runs `PRAGMA optimize`.
    #[napi]
    pub fn optimize(&self, env: Env) -> napi::Result<()> {
        to_js(&env, self.shared.with(maintenance::optimize))
    }

    /// Size of the `-wal` file in bytes (`0` when there is none, or in memory).
    #[napi]
    pub fn wal_size(&self, env: Env) -> napi::Result<i64> {
        let size = self.shared.with(|_| Ok(self.upkeep.path.as_deref().map_or(0, maintenance::wal_size) as i64));
        to_js(&env, size)
    }

    /// The wide-file-mode warnings of the open (`permissions: "warn"`), once.
    #[napi]
    pub fn take_mode_warnings(&self) -> Vec<String> {
        self.upkeep.mode_warnings.take()
    }
}
