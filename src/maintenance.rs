//! The maintenance SQLite leaves to its users: checkpoints, online backups,
//! integrity checks, incremental vacuum, `PRAGMA optimize` and the `-wal` size.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use napi_derive::napi;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, ffi};

use crate::backup_destination;
use crate::errors::{Error, Result};
use crate::permissions::sidecar;
use crate::preflight::directory_of;

/// `PRAGMA wal_checkpoint` modes, weakest first.
pub const CHECKPOINT_MODES: [&str; 4] = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"];

/// What a checkpoint did.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointResult {
    /// A lock it needed was held by another connection (after waiting `busyTimeout`), so it did not finish.
    pub busy: bool,
    /// Frames in the `-wal` (`-1` when the database is not in WAL mode).
    pub wal_frames: i64,
    /// Frames of the `-wal` copied into the database (`-1` when not in WAL mode).
    pub checkpointed_frames: i64,
}

/// Copies WAL frames into the database (`mode`: `PASSIVE`, `FULL`, `RESTART`
/// or `TRUNCATE`, any case; `TRUNCATE` also empties the `-wal` file).
pub fn checkpoint(conn: &Connection, mode: &str) -> Result<CheckpointResult> {
    let Some(mode) = CHECKPOINT_MODES.iter().find(|m| m.eq_ignore_ascii_case(mode)) else {
        return Err(Error::range(
            "HARDENED_INVALID_ARGUMENT",
            format!("Checkpoint mode \"{mode}\" is not one of {}", CHECKPOINT_MODES.join(", ")),
        ));
    };
    let (busy, wal_frames, checkpointed_frames) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(CheckpointResult { busy: busy != 0, wal_frames, checkpointed_frames })
}

/// Size in bytes of the `-wal` next to `db` (`0` when there is none).
pub fn wal_size(db: &Path) -> u64 {
    fs::metadata(sidecar(db, "-wal")).map_or(0, |m| m.len())
}

/// The problems `PRAGMA quick_check` (or `integrity_check` when `quick` is
/// false) reports; empty when the database is sound. When SQLite gives up with
/// `SQLITE_CORRUPT` or `SQLITE_NOTADB` part-way (a page too damaged to walk), the
/// problems reported so far are kept and that error is the last problem.
pub fn integrity_problems(conn: &Connection, quick: bool) -> Result<Vec<String>> {
    let pragma = if quick { "quick_check" } else { "integrity_check" };
    let mut problems = Vec::new();
    let outcome = (|| -> Result<()> {
        let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let line: String = row.get(0)?;
            if line != "ok" {
                problems.push(line);
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(problems),
        Err(Error::Sqlite { code, message }) if matches!(code & 0xff, ffi::SQLITE_CORRUPT | ffi::SQLITE_NOTADB) => {
            problems.push(format!("{pragma} stopped: {message} ({})", crate::errors::code_name(code)));
            Ok(problems)
        }
        Err(other) => Err(other),
    }
}

/// Returns up to `pages` free pages (all when `None`) to the file system;
/// returns how many were freed. Only databases with `auto_vacuum = INCREMENTAL` free any.
pub fn incremental_vacuum(conn: &Connection, pages: Option<u32>) -> Result<i64> {
    let free = |conn: &Connection| conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0));
    let before = free(conn)?;
    let body = pages.map_or_else(|| "incremental_vacuum".to_string(), |n| format!("incremental_vacuum({n})"));
    // Each row of incremental_vacuum is one step; the pragma only runs while it is stepped.
    let mut stmt = conn.prepare(&format!("PRAGMA {body}"))?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    drop(rows);
    Ok(before - free(conn)?)
}

/// Runs `PRAGMA optimize` (refreshes the query planner's statistics where they are stale).
pub fn optimize(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA optimize")?;
    Ok(())
}

/// What a backup wrote.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct BackupResult {
    /// Pages in the snapshot.
    pub total_pages: i64,
    /// Pages left to copy: always `0`, since the snapshot is taken in one step.
    pub remaining_pages: i64,
    /// The destination path as given.
    pub path: String,
    /// Size of the backup file in bytes.
    pub bytes: i64,
}

/// Removes the temporary file (and any journal of it) unless the backup got renamed into place.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = fs::remove_file(sidecar(&self.path, suffix));
            }
        }
    }
}

/// How long a backup retries while the source is locked before giving up.
const BACKUP_PATIENCE: Duration = Duration::from_secs(30);

/// Writes a consistent snapshot of `conn`'s main database to `destination`:
/// SQLite's online backup API copies every page in one step (one read
/// transaction, so other processes keep writing) into a temporary file created
/// with `file_mode` next to the destination, which is fsynced, verified with
/// `integrity_check` and renamed into place. An existing destination is refused
/// unless `overwrite`, and so is one that is not a regular file or is a live
/// database of this process or its sidecar (see `backup_destination`).
pub fn backup(conn: &Connection, destination: &str, file_mode: u32, overwrite: bool) -> Result<BackupResult> {
    let dest = PathBuf::from(destination);
    if destination.is_empty() || destination == ":memory:" {
        return Err(Error::type_error(
            "HARDENED_INVALID_ARGUMENT",
            format!("Backup destination \"{destination}\" is not a file path; pass a path such as \"backups/app.db\""),
        ));
    }
    if !conn.is_autocommit() {
        // The backup reads through this connection, which would wait on its own write lock; and a
        // snapshot taken inside a transaction could hold changes that are later rolled back.
        return Err(Error::type_error(
            "HARDENED_IN_TRANSACTION",
            format!("Cannot back up to {destination} inside a transaction; call db.backup() after COMMIT (or ROLLBACK)"),
        ));
    }
    let source = conn.path().filter(|p| !p.is_empty()).map(PathBuf::from);
    backup_destination::check(source.as_deref(), &dest, overwrite)?;
    let dir = directory_of(&dest);
    fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| {
        Error::hardened("HARDENED_BACKUP_FAILED", format!("cannot create directory {} for the backup: {e}", dir.display()))
    })?;
    let name = dest.file_name().map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    let mut temp = TempFile { path: dir.join(format!(".{name}.tmp-{}", std::process::id())), keep: false };
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = fs::remove_file(sidecar(&temp.path, suffix));
    }
    let file = fs::OpenOptions::new().write(true).create_new(true).mode(file_mode).open(&temp.path).map_err(|e| {
        Error::hardened("HARDENED_BACKUP_FAILED", format!("cannot create {}: {e}; make {} writable", temp.path.display(), dir.display()))
    })?;
    file.set_permissions(fs::Permissions::from_mode(file_mode))?;
    drop(file);

    let total_pages = copy_pages(conn, &temp.path)?;
    fs::File::open(&temp.path)?.sync_all()?;
    verify(&temp.path, destination)?;
    fs::rename(&temp.path, &dest).map_err(|e| {
        Error::hardened("HARDENED_BACKUP_FAILED", format!("cannot rename the backup into place at {destination}: {e}"))
    })?;
    temp.keep = true;
    // The rename is durable once the directory entry is on disk.
    if let Ok(handle) = fs::File::open(&dir) {
        let _ = handle.sync_all();
    }
    let bytes = fs::metadata(&dest)?.len() as i64;
    Ok(BackupResult { total_pages, remaining_pages: 0, path: destination.to_string(), bytes })
}

/// Copies every page of `conn`'s main database into the file at `path` in one step.
fn copy_pages(conn: &Connection, path: &Path) -> Result<i64> {
    let mut target = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let started = Instant::now();
    let total = {
        let backup = Backup::new(conn, &mut target)?;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked if started.elapsed() < BACKUP_PATIENCE => {
                    thread::sleep(Duration::from_millis(20));
                }
                StepResult::More => {}
                _ => {
                    return Err(Error::hardened(
                        "HARDENED_BACKUP_FAILED",
                        format!("the database stayed locked for {} s; retry the backup when the lock is released", BACKUP_PATIENCE.as_secs()),
                    ));
                }
            }
        }
        backup.progress().pagecount
    };
    target.close().map_err(|(_, e)| Error::from(e))?;
    Ok(total.into())
}

/// Opens the finished temporary file on its own and runs `integrity_check`.
fn verify(path: &Path, destination: &str) -> Result<()> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let problems = integrity_problems(&conn, false)?;
    conn.close().map_err(|(_, e)| Error::from(e))?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::hardened(
        "HARDENED_BACKUP_FAILED",
        format!(
            "the backup for {destination} failed integrity_check ({}); it was not written. Run db.integrityCheck() on \
             the source database",
            problems.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use crate::open::open;
    use crate::options::Settings;


    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn truncate_checkpoint_empties_the_wal() {
        let dir = temp_dir("maint-ckpt");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened.conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(10000))").unwrap();
        assert!(wal_size(&path) > 0);
        let result = checkpoint(&opened.conn, "truncate").unwrap();
        assert!(!result.busy);
        assert_eq!((result.wal_frames, result.checkpointed_frames), (0, 0));
        assert_eq!(wal_size(&path), 0);
        assert_eq!(checkpoint(&opened.conn, "sometimes").unwrap_err().code(), "HARDENED_INVALID_ARGUMENT");
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn backup_is_verified_renamed_and_has_the_file_mode() {
        let dir = temp_dir("maint-backup");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened.conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)").unwrap();
        let dest = dir.join("copies/app-backup.db");
        let result = backup(&opened.conn, dest.to_str().unwrap(), 0o600, false).unwrap();
        assert_eq!(result.remaining_pages, 0);
        assert!(result.total_pages > 0);
        assert_eq!(result.bytes as u64, fs::metadata(&dest).unwrap().len());
        assert_eq!(mode(&dest), 0o600);
        let copy = Connection::open(&dest).unwrap();
        assert_eq!(copy.query_row("SELECT sum(x) FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 3);
        drop(copy);
        let err = backup(&opened.conn, dest.to_str().unwrap(), 0o600, false).unwrap_err();
        assert_eq!(err.code(), "HARDENED_BACKUP_EXISTS");
        backup(&opened.conn, dest.to_str().unwrap(), 0o600, true).unwrap();
        let leftovers: Vec<_> = fs::read_dir(dir.join("copies")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("app-backup.db")]);
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn backup_inside_a_transaction_is_refused_at_once() {
        let dir = temp_dir("maint-backup-tx");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened.conn.execute_batch("CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)").unwrap();
        let dest = dir.join("copy.db");
        let err = backup(&opened.conn, dest.to_str().unwrap(), 0o600, false).unwrap_err();
        assert_eq!(err.code(), "HARDENED_IN_TRANSACTION");
        assert!(err.message().contains("after COMMIT"), "{}", err.message());
        assert!(!dest.exists());
        opened.conn.execute_batch("COMMIT").unwrap();
        backup(&opened.conn, dest.to_str().unwrap(), 0o600, false).unwrap();
        let wal = sidecar(&path, "-wal");
        let err = backup(&opened.conn, wal.to_str().unwrap(), 0o600, true).unwrap_err();
        assert_eq!(err.code(), "HARDENED_BACKUP_DESTINATION");
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn integrity_check_keeps_the_problems_found_before_sqlite_gave_up() {
        let dir = temp_dir("maint-corrupt");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened
            .conn
            .execute_batch(
                "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT); CREATE INDEX ta ON t(a); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) \
                 INSERT INTO t (a, b) SELECT 'a' || (i * 7919 % 3000), printf('%.50c', 'x') FROM n;",
            )
            .unwrap();
        drop(opened);
        let mut bytes = fs::read(&path).unwrap();
        for (i, byte) in bytes[2 * 4096..5 * 4096].iter_mut().enumerate() {
            *byte = (i * 131 + 7) as u8;
        }
        fs::write(&path, bytes).unwrap();
        let conn = Connection::open(&path).unwrap();
        for quick in [false, true] {
            let problems = integrity_problems(&conn, quick).unwrap();
            assert!(problems.len() > 1, "{problems:?}");
            assert!(problems.last().unwrap().ends_with("(SQLITE_CORRUPT)"), "{problems:?}");
        }
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn integrity_vacuum_and_optimize_run_on_a_sound_database() {
        let dir = temp_dir("maint-vacuum");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        let conn = &opened.conn;
        conn.execute_batch(
            "CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
             INSERT INTO t SELECT randomblob(4000) FROM n;",
        )
        .unwrap();
        conn.execute_batch("DELETE FROM t").unwrap();
        assert!(integrity_problems(conn, true).unwrap().is_empty());
        assert!(integrity_problems(conn, false).unwrap().is_empty());
        assert_eq!(incremental_vacuum(conn, Some(5)).unwrap(), 5);
        assert!(incremental_vacuum(conn, None).unwrap() > 0);
        assert_eq!(conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
        optimize(conn).unwrap();
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }
}
