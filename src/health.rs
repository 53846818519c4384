//! The health report: every promise of the open sequence checked again on the
//! live connection and its files, each failed check with a fix a person can act on.

use std::path::Path;

use napi_derive::napi;
use rusqlite::Connection;

use crate::errors::Result;
use crate::maintenance;
use crate::mounts;
use crate::options::Settings;
use crate::permissions::{FileState, Files, is_wider, octal};
use crate::pragmas::{self, Mismatch};
use crate::preflight;
use crate::probe;

/// The oldest SQLite the report accepts, as `sqlite3_libversion_number()`.
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// One check of the health report.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// What was checked (`pragma.journal_mode`, `file_mode.wal`, `write_probe`).
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// `"error"` (a failure makes the database unhealthy) or `"warning"` (degraded).
    pub severity: String,
    /// What it should be.
    pub expected: String,
    /// What it is.
    pub actual: String,
    /// For a failed check, what to do about it; `null` when it passed.
    pub fix: Option<String>,
}

/// Mode and size of one file of the database.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// Its path.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
    /// Permission bits (`384` is `0o600`), `null` when it does not exist.
    pub mode: Option<u32>,
    /// Size in bytes, `null` when it does not exist.
    pub size: Option<i64>,
}

/// The database file, its `-wal` and its `-shm`.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct HealthFiles {
    /// The database file.
    pub db: FileReport,
    /// The write-ahead log.
    pub wal: FileReport,
    /// The WAL index.
    pub shm: FileReport,
}

/// What `db.health()` returns.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// `"healthy"` (every check passed), `"degraded"` (only warnings failed) or `"unhealthy"`.
    pub status: String,
    /// Every check made, passed or failed.
    pub checks: Vec<HealthCheck>,
    /// The SQLite library version (`"3.54.1"`).
    pub sqlite_version: String,
    /// `PRAGMA journal_mode` (`"wal"`, `"memory"` for an in-memory database).
    pub journal_mode: String,
    /// Size of the `-wal` file in bytes.
    pub wal_bytes: i64,
    /// `PRAGMA user_version`: the schema version migrations reached.
    pub user_version: i64,
    /// Migrations not applied yet; `null` when no `migrations` option was given or they could not be checked.
    pub pending_migrations: Option<i64>,
    /// The database's files; `null` for an in-memory database.
    pub files: Option<HealthFiles>,
}

/// Where the schema stands, as the JS side's `db.migrationStatus()` found it.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationHealth {
    /// `PRAGMA user_version`.
    pub current: i64,
    /// The newest migration's version.
    pub latest: i64,
    /// How many migrations are not applied yet.
    pub pending: i64,
    /// The error `migrationStatus()` threw (a changed migration, schema ahead), if any.
    pub error: Option<String>,
}

/// Which integrity check to run, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    /// None (the default: a full check reads the whole file).
    Skip,
    /// `PRAGMA quick_check`.
    Quick,
    /// `PRAGMA integrity_check`.
    Full,
}

/// The connection and what it promised.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The open connection.
    pub conn: &'a Connection,
    /// The settings it was opened with.
    pub settings: &'a Settings,
    /// The database file, `None` in memory.
    pub path: Option<&'a Path>,
    /// Whether the open created the database (then `auto_vacuum` is part of the recipe).
    pub is_new: bool,
}

pub(crate) fn pass(name: impl Into<String>, severity: &str, expected: impl Into<String>, actual: impl Into<String>) -> HealthCheck {
    HealthCheck {
        name: name.into(),
        ok: true,
        severity: severity.to_string(),
        expected: expected.into(),
        actual: actual.into(),
        fix: None,
    }
}

pub(crate) fn fail(check: HealthCheck, fix: impl Into<String>) -> HealthCheck {
    HealthCheck { ok: false, fix: Some(fix.into()), ..check }
}

pub(crate) fn check(ok: bool, check: HealthCheck, fix: impl FnOnce() -> String) -> HealthCheck {
    if ok { check } else { fail(check, fix()) }
}

/// Builds the report. Reads only, except the write probe (one transaction that
/// rewrites `user_version` with its own value).
pub fn report(subject: Subject<'_>, integrity: Integrity, migrations: Option<&MigrationHealth>) -> Result<HealthReport> {
    let conn = subject.conn;
    let mut checks = vec![sqlite_version_check()];
    checks.extend(pragma_checks(subject)?);
    if let Some(state) = migrations {
        checks.push(migration_check(state));
    }
    checks.push(probe::probe(conn, subject.settings.readonly));
    // After the probe, so the files are reported as the probe left them.
    let files = subject.path.map(Files::of);
    if let (Some(path), Some(files)) = (subject.path, &files) {
        checks.extend(file_checks(path, files, subject.settings));
        let settings = subject.settings;
        checks.extend(crate::replication::checks(conn, path, settings.replication, settings.journal_size_limit)?);
    }
    match integrity {
        Integrity::Skip => {}
        Integrity::Quick => checks.push(integrity_check(conn, true)?),
        Integrity::Full => checks.push(integrity_check(conn, false)?),
    }
    let failed = |severity: &str| checks.iter().any(|c| !c.ok && c.severity == severity);
    let status = if failed("error") {
        "unhealthy"
    } else if failed("warning") {
        "degraded"
    } else {
        "healthy"
    };
    Ok(HealthReport {
        status: status.to_string(),
        sqlite_version: rusqlite::version().to_string(),
        journal_mode: conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
        wal_bytes: subject.path.map_or(0, |p| maintenance::wal_size(p) as i64),
        user_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        pending_migrations: migrations.filter(|m| m.error.is_none()).map(|m| m.pending),
        files: files.map(|f| HealthFiles { db: file_report(&f.db), wal: file_report(&f.wal), shm: file_report(&f.shm) }),
        checks,
    })
}

fn file_report(file: &FileState) -> FileReport {
    FileReport {
        path: file.path.display().to_string(),
        exists: file.mode.is_some(),
        mode: file.mode,
        size: file.size.map(|s| s as i64),
    }
}

fn sqlite_version_check() -> HealthCheck {
    let version = rusqlite::version_number();
    check(
        version >= MIN_SQLITE_VERSION,
        pass("sqlite_version", "error", ">= 3.51.3", rusqlite::version()),
        || {
            "SQLite before 3.51.3 has a known bug that can corrupt a WAL database; upgrade hardened-sqlite, which \
             bundles a fixed SQLite"
                .to_string()
        },
    )
}

fn pragma_checks(subject: Subject<'_>) -> Result<Vec<HealthCheck>> {
    let memory = subject.path.is_none();
    let recipe = [
        pragmas::file_recipe(subject.settings, memory, subject.is_new),
        pragmas::connection_recipe(subject.settings, memory),
    ]
    .concat();
    let wrong = pragmas::mismatches(subject.conn, &recipe)?;
    Ok(recipe
        .iter()
        .map(|expected| {
            let severity = if expected.name == "journal_mode" { "error" } else { "warning" };
            let ok = pass(format!("pragma.{}", expected.name), severity, expected.label(), expected.label());
            match wrong.iter().find(|m| m.expected.name == expected.name) {
                None => ok,
                Some(mismatch) => pragma_failure(ok, mismatch),
            }
        })
        .collect())
}

fn pragma_failure(ok: HealthCheck, mismatch: &Mismatch) -> HealthCheck {
    let name = mismatch.expected.name;
    let actual = mismatch.actual.as_ref().map_or_else(|| "nothing".to_string(), ToString::to_string);
    let fix = if name == "journal_mode" {
        format!(
            "the database left WAL mode (journal_mode is {actual}): another tool or a db.pragma() call changed it; \
             find it, then reopen with hardened-sqlite, which sets WAL again"
        )
    } else {
        format!(
            "PRAGMA {name} was changed after the open (a db.pragma() call?); remove that call, or pass the value you \
             want as an open option so the hardened sequence sets and checks it"
        )
    };
    fail(HealthCheck { actual, ..ok }, fix)
}

fn file_checks(path: &Path, files: &Files, settings: &Settings) -> Vec<HealthCheck> {
    let allowed = settings.file_mode;
    let mut checks: Vec<HealthCheck> = files
        .labelled()
        .iter()
        .map(|(label, file)| {
            let expected = format!("{} or narrower", octal(allowed));
            match file.mode {
                None => pass(format!("file_mode.{label}"), "warning", expected, "absent"),
                Some(mode) => check(
                    !is_wider(mode, allowed),
                    pass(format!("file_mode.{label}"), "warning", expected, octal(mode)),
                    || crate::permissions::wide_message(&file.path, mode, allowed),
                ),
            }
        })
        .collect();
    let uid = preflight::uid();
    let dir = preflight::directory_of(path);
    let problem = preflight::directory_problem(path, settings);
    checks.push(check(
        problem.is_none(),
        pass(
            "directory",
            "error",
            format!("{} writable and searchable by uid {uid}", dir.display()),
            if problem.is_none() { "writable and searchable" } else { "not writable or not searchable" },
        ),
        || problem.unwrap_or_default(),
    ));
    checks.push(file_system_check(path));
    checks
}

fn file_system_check(path: &Path) -> HealthCheck {
    let fs_type = mounts::fs_type_of(path);
    let actual = fs_type.clone().unwrap_or_else(|| "unknown (no /proc/mounts)".to_string());
    let network = fs_type.as_deref().is_some_and(mounts::is_network);
    check(!network, pass("file_system", "error", "a local file system", actual.clone()), || {
        format!(
            "{} is on a network file system ({actual}), where SQLite's locks and the shared-memory WAL index are not \
             safe: concurrent writers can corrupt it. Move the database to a local disk (a Docker volume on the host, \
             not a share)",
            path.display()
        )
    })
}

fn migration_check(state: &MigrationHealth) -> HealthCheck {
    let expected = format!("version {}, 0 pending", state.latest);
    let actual = format!("version {}, {} pending", state.current, state.pending);
    if let Some(error) = &state.error {
        return fail(pass("migrations", "error", expected, error.clone()), error.clone());
    }
    if state.pending > 0 {
        return fail(
            pass("migrations", "warning", expected, actual),
            "run db.migrate() at startup, or `hardened-sqlite migrate <db> --migrations <dir>` before starting the app",
        );
    }
    pass("migrations", "error", expected, actual)
}

fn integrity_check(conn: &Connection, quick: bool) -> Result<HealthCheck> {
    let problems = maintenance::integrity_problems(conn, quick)?;
    let name = if quick { "integrity.quick_check" } else { "integrity.integrity_check" };
    let actual = if problems.is_empty() { "ok".to_string() } else { problems.iter().take(10).cloned().collect::<Vec<_>>().join("; ") };
    Ok(check(problems.is_empty(), pass(name, "error", "ok", actual), || {
        "the database file is damaged: stop writing to it, restore the latest backup (`hardened-sqlite backup` makes \
         verified ones), or salvage what is readable with the sqlite3 shell's .recover command"
            .to_string()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use crate::open::open;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;


    fn failed(report: &HealthReport) -> Vec<&str> {
        report.checks.iter().filter(|c| !c.ok).map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn a_fresh_database_is_healthy_and_the_probe_leaves_nothing() {
        let dir = temp_dir("health-fresh");
        let path = dir.join("app.db");
        let settings = Settings::default();
        let opened = open(path.to_str().unwrap(), &settings).unwrap();
        opened.conn.execute_batch("PRAGMA user_version = 7").unwrap();
        let subject = Subject { conn: &opened.conn, settings: &settings, path: Some(&path), is_new: true };
        let report = report(subject, Integrity::Full, None).unwrap();
        assert_eq!(report.status, "healthy", "{:?}", failed(&report));
        assert_eq!(report.user_version, 7);
        assert_eq!(report.journal_mode, "wal");
        assert!(report.checks.iter().any(|c| c.name == "pragma.synchronous"));
        assert!(report.checks.iter().any(|c| c.name == "write_probe" && c.ok));
        assert!(report.wal_bytes > 0, "the probe's commit went through the -wal");
        let tables: i64 = opened.conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0);
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_wide_mode_degrades_and_a_changed_journal_mode_is_unhealthy() {
        let dir = temp_dir("health-wide");
        let path = dir.join("app.db");
        let settings = Settings::default();
        let opened = open(path.to_str().unwrap(), &settings).unwrap();
        opened.conn.execute_batch("CREATE TABLE t(x)").unwrap(); // creates -wal and -shm as 0600
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let subject = Subject { conn: &opened.conn, settings: &settings, path: Some(&path), is_new: true };
        let degraded = report(subject, Integrity::Skip, None).unwrap();
        assert_eq!((degraded.status.as_str(), failed(&degraded)), ("degraded", vec!["file_mode.db"]));
        let fix = degraded.checks.iter().find(|c| !c.ok).and_then(|c| c.fix.clone()).unwrap();
        assert!(fix.contains("chmod 600"), "{fix}");
        // journal_mode = DELETE is a weaker pragma: only unsafe mode lets it through.
        crate::defensive::set_unsafe_mode(&opened.conn, true).unwrap();
        opened.conn.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = DELETE").unwrap();
        let unhealthy = report(subject, Integrity::Skip, None).unwrap();
        assert_eq!(unhealthy.status, "unhealthy");
        assert_eq!(failed(&unhealthy), vec!["pragma.journal_mode", "pragma.foreign_keys", "file_mode.db"]);
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn migrations_pending_degrade_and_errors_are_unhealthy() {
        let conn = Connection::open_in_memory().unwrap();
        let settings = Settings::default();
        pragmas::ensure(&conn, &pragmas::connection_recipe(&settings, true), ":memory:").unwrap();
        let subject = Subject { conn: &conn, settings: &settings, path: None, is_new: true };
        let pending = MigrationHealth { current: 1, latest: 3, pending: 2, error: None };
        let r = report(subject, Integrity::Quick, Some(&pending)).unwrap();
        assert_eq!((r.status.as_str(), r.pending_migrations), ("degraded", Some(2)));
        assert!(r.files.is_none());
        let ahead = MigrationHealth { error: Some("The database is at schema version 5".into()), ..pending };
        assert_eq!(report(subject, Integrity::Skip, Some(&ahead)).unwrap().status, "unhealthy");
    }
}
