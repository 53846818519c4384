//! A backup taken in steps: SQLite's online backup API copies the source into a
//! temporary file created with `fileMode` next to the destination, a few pages
//! per step (the JS side runs one step per event-loop turn). When the last page
//! is copied the file is fsynced, verified with `integrity_check` and renamed
//! into place, and the directory fsynced; an aborted backup leaves nothing.

use std::ffi::{CStr, CString};
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use napi_derive::napi;
use rusqlite::{Connection, OpenFlags, ffi};

use crate::backup_destination;
use crate::connection::{Shared, last_error};
use crate::errors::{Error, Result};
use crate::maintenance::integrity_problems;
use crate::permissions::sidecar;
use crate::preflight::directory_of;

/// How long a step may keep finding the source locked before the backup fails.
const BACKUP_PATIENCE: Duration = Duration::from_secs(30);

/// Restarts (another connection wrote to the source) after which the rest is
/// copied in one step, inside one read transaction, so a busy source still gets backed up.
const MAX_RESTARTS: u32 = 3;

/// Numbers the temporary files of this process, so concurrent backups never share one.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Where a backup stands: better-sqlite3's progress object.
#[napi(object)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BackupProgress {
    /// Pages in the source database now (the backup will have as many).
    pub total_pages: i32,
    /// Pages still to copy.
    pub remaining_pages: i32,
}

/// What a finished backup wrote.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct BackupResult {
    /// Pages in the backup.
    pub total_pages: i64,
    /// Always `0`.
    pub remaining_pages: i64,
    /// The destination path as given.
    pub path: String,
    /// Size of the backup file in bytes.
    pub bytes: i64,
}

/// The `sqlite3_backup` handle, finished by whichever comes first: the job
/// ending or the source connection closing (see `Shared::register_backup`).
/// Atomic so that a job of the async handle can move to a pool thread.
#[derive(Debug)]
pub struct BackupSlot {
    raw: AtomicPtr<ffi::sqlite3_backup>,
}

impl BackupSlot {
    /// Finishes the backup (once); returns what `sqlite3_backup_finish` returned.
    pub fn finish(&self) -> i32 {
        let raw = self.raw.swap(ptr::null_mut(), Ordering::AcqRel);
        if raw.is_null() {
            return ffi::SQLITE_OK;
        }
        // SAFETY: `raw` came from sqlite3_backup_init; both of its connections are
        // still open (the source finishes its slots before closing, the job finishes
        // its slot before closing the destination), and the slot was nulled above,
        // so the handle is finished exactly once.
        unsafe { ffi::sqlite3_backup_finish(raw) }
    }

    fn get(&self) -> Option<*mut ffi::sqlite3_backup> {
        let raw = self.raw.load(Ordering::Acquire);
        (!raw.is_null()).then_some(raw)
    }
}

/// Removes the temporary file (and any journal of it) unless it was renamed into place.
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

/// A connection a backup reads from: the sync handle's [`Shared`], or the
/// connection the async handle opens for one backup (a `rusqlite::Connection`).
pub trait BackupSource {
    /// The open connection's handle (`HARDENED_NOT_OPEN` once closed).
    fn source_handle(&self) -> Result<*mut ffi::sqlite3>;
    /// Keeps `slot`, so that closing the connection finishes the backup first
    /// (SQLite refuses to close a connection with an unfinished backup).
    fn register(&self, slot: &Arc<BackupSlot>);
}

impl BackupSource for Shared {
    fn source_handle(&self) -> Result<*mut ffi::sqlite3> {
        self.handle()
    }

    fn register(&self, slot: &Arc<BackupSlot>) {
        self.register_backup(slot);
    }
}

impl BackupSource for Connection {
    fn source_handle(&self) -> Result<*mut ffi::sqlite3> {
        // SAFETY: only the pointer is taken; the connection is open while it lives.
        Ok(unsafe { self.handle() })
    }

    /// Nothing to keep: the owner of such a connection drops the job before closing it
    /// (see `r#async::backup`).
    fn register(&self, _slot: &Arc<BackupSlot>) {}
}

/// A backup in progress. Dropping it aborts the backup and removes the temporary file.
pub struct BackupJob {
    slot: Arc<BackupSlot>,
    target: Option<Connection>,
    destination: String,
    source_path: Option<PathBuf>,
    overwrite: Option<bool>,
    progress: BackupProgress,
    stepped: bool,
    restarts: u32,
    busy_since: Option<Instant>,
    done: bool,
    temp: TempFile,
}

impl Drop for BackupJob {
    fn drop(&mut self) {
        self.slot.finish();
        self.target.take();
    }
}

impl BackupJob {
    /// Starts backing up schema `attached` of `shared` to `destination` (see
    /// `backup_destination::check` for `overwrite`): checks the destination and
    /// creates the temporary file; copies nothing yet.
    pub fn start(shared: &impl BackupSource, destination: &str, attached: &str, file_mode: u32, overwrite: Option<bool>) -> Result<BackupJob> {
        if destination.trim().is_empty() || destination == ":memory:" {
            return Err(Error::type_error(
                "HARDENED_INVALID_ARGUMENT",
                format!("Backup destination \"{destination}\" is not a file path; pass a path such as \"backups/app.db\""),
            ));
        }
        let schema = CString::new(attached)
            .map_err(|_| Error::type_error("HARDENED_INVALID_ARGUMENT", "The \"attached\" option contains a NUL character"))?;
        let source = shared.source_handle()?;
        // SAFETY: `source` is open.
        if unsafe { ffi::sqlite3_get_autocommit(source) } == 0 {
            // A snapshot taken inside a transaction could hold changes that are later rolled back.
            return Err(Error::type_error(
                "HARDENED_IN_TRANSACTION",
                format!("Cannot back up to {destination} inside a transaction; call db.backup() after COMMIT (or ROLLBACK)"),
            ));
        }
        let dest = PathBuf::from(destination);
        let dir = directory_of(&dest);
        if !dir.is_dir() {
            return Err(Error::type_error(
                "HARDENED_BACKUP_NO_DIRECTORY",
                format!("Cannot save backup because the directory {} does not exist; create it first", dir.display()),
            ));
        }
        let source_path = schema_file(source, &schema);
        backup_destination::check(source_path.as_deref(), &dest, overwrite)?;
        let temp = create_temp(&dir, &dest, file_mode)?;
        let target = Connection::open_with_flags(&temp.path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        // SAFETY: `target` is open (its handle stays valid while `target` lives);
        // `source` is open; both names are NUL-terminated and outlive the call.
        let raw = unsafe { ffi::sqlite3_backup_init(target.handle(), c"main".as_ptr(), source, schema.as_ptr()) };
        if raw.is_null() {
            // SAFETY: `target` is open; sqlite3_backup_init left its error there.
            let err = last_error(unsafe { target.handle() }, unsafe { ffi::sqlite3_errcode(target.handle()) });
            return Err(err);
        }
        let slot = Arc::new(BackupSlot { raw: AtomicPtr::new(raw) });
        shared.register(&slot);
        Ok(BackupJob {
            slot,
            target: Some(target),
            destination: destination.to_string(),
            source_path,
            overwrite,
            progress: BackupProgress::default(),
            stepped: false,
            restarts: 0,
            busy_since: None,
            done: false,
            temp,
        })
    }

    /// Whether every page has been copied (then call [`BackupJob::finish`]).
    pub fn done(&self) -> bool {
        self.done
    }

    /// Copies up to `pages` pages (all when negative, none when `0`). While the
    /// source connection is inside a transaction nothing is copied (its changes
    /// could still be rolled back). Locks held elsewhere only delay the step.
    pub fn step(&mut self, shared: &impl BackupSource, pages: i32) -> Result<BackupProgress> {
        let source = shared.source_handle()?;
        let Some(raw) = self.slot.get() else { return Err(Error::not_open()) };
        // SAFETY: `source` is open.
        if self.done || unsafe { ffi::sqlite3_get_autocommit(source) } == 0 {
            return Ok(self.progress);
        }
        let pages = if pages != 0 && self.restarts >= MAX_RESTARTS { -1 } else { pages };
        // SAFETY: `raw` is live (the slot is not finished) and both connections are open.
        let (rc, now) = unsafe {
            let rc = ffi::sqlite3_backup_step(raw, pages);
            (rc, BackupProgress { total_pages: ffi::sqlite3_backup_pagecount(raw), remaining_pages: ffi::sqlite3_backup_remaining(raw) })
        };
        match rc & 0xff {
            ffi::SQLITE_OK => {}
            ffi::SQLITE_DONE => self.done = true,
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => return self.wait(),
            _ => return Err(self.target_error(rc)),
        }
        self.busy_since = None;
        if self.stepped && restarted(self.progress, now, pages) {
            self.restarts += 1;
        }
        self.stepped = true;
        self.progress = now;
        Ok(now)
    }

    /// A step found a lock: report the last progress, or give up after `BACKUP_PATIENCE`.
    fn wait(&mut self) -> Result<BackupProgress> {
        let since = *self.busy_since.get_or_insert_with(Instant::now);
        if since.elapsed() < BACKUP_PATIENCE {
            return Ok(self.progress);
        }
        Err(Error::hardened(
            "HARDENED_BACKUP_FAILED",
            format!(
                "the database stayed locked for {} s during the backup to {}; retry when the lock is released",
                BACKUP_PATIENCE.as_secs(),
                self.destination
            ),
        ))
    }

    fn target_error(&self, rc: i32) -> Error {
        match &self.target {
            // SAFETY: the target connection is open while the job holds it.
            Some(target) => last_error(unsafe { target.handle() }, rc),
            None => Error::Sqlite { code: rc, message: String::new() },
        }
        .context(format!("backup to {}", self.destination))
    }

    /// Once [`BackupJob::done`]: fsyncs and verifies the copy, renames it into
    /// place (checking the destination again) and fsyncs the directory.
    pub fn finish(&mut self) -> Result<BackupResult> {
        if !self.done {
            return Err(Error::hardened("HARDENED_INTERNAL", "finish() called on a backup that is not done"));
        }
        let rc = self.slot.finish();
        if rc != ffi::SQLITE_OK {
            return Err(self.target_error(rc));
        }
        if let Some(target) = self.target.take() {
            target.close().map_err(|(_, e)| Error::from(e))?;
        }
        fs::File::open(&self.temp.path)?.sync_all()?;
        verify(&self.temp.path, &self.destination)?;
        let dest = PathBuf::from(&self.destination);
        // The destination may have changed while the pages were copied.
        backup_destination::check(self.source_path.as_deref(), &dest, self.overwrite)?;
        fs::rename(&self.temp.path, &dest).map_err(|e| {
            Error::hardened("HARDENED_BACKUP_FAILED", format!("cannot rename the backup into place at {}: {e}", self.destination))
        })?;
        self.temp.keep = true;
        // The rename is durable once the directory entry is on disk.
        if let Ok(handle) = fs::File::open(directory_of(&dest)) {
            let _ = handle.sync_all();
        }
        let bytes = fs::metadata(&dest)?.len() as i64;
        Ok(BackupResult {
            total_pages: self.progress.total_pages.into(),
            remaining_pages: 0,
            path: self.destination.clone(),
            bytes,
        })
    }
}

/// Whether the source restarted the copy between `before` and `now` (another
/// connection wrote to it): more pages remain than the step could have left.
fn restarted(before: BackupProgress, now: BackupProgress, pages: i32) -> bool {
    let copied = if pages < 0 { before.remaining_pages } else { pages.min(before.remaining_pages) };
    let grown = (now.total_pages - before.total_pages).max(0);
    now.remaining_pages > before.remaining_pages - copied + grown
}

/// The file of schema `schema` on `db`; `None` in memory, for temp, or when there is no such schema.
fn schema_file(db: *mut ffi::sqlite3, schema: &CStr) -> Option<PathBuf> {
    // SAFETY: `db` is open and `schema` NUL-terminated; the returned string is
    // owned by SQLite and copied before any other call.
    let name = unsafe { ffi::sqlite3_db_filename(db, schema.as_ptr()) };
    if name.is_null() {
        return None;
    }
    // SAFETY: non-null, NUL-terminated, valid until the schema is detached.
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned();
    (!name.is_empty()).then(|| PathBuf::from(name))
}

/// Creates the empty temporary file beside `dest` with `file_mode`, exclusively.
fn create_temp(dir: &Path, dest: &Path, file_mode: u32) -> Result<TempFile> {
    let name = dest.file_name().map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
    let temp = TempFile { path: dir.join(format!(".{name}.tmp-{}-{n}", std::process::id())), keep: false };
    // Only a dead process with this pid can have left these.
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = fs::remove_file(sidecar(&temp.path, suffix));
    }
    let file = fs::OpenOptions::new().write(true).create_new(true).mode(file_mode).open(&temp.path).map_err(|e| {
        Error::hardened("HARDENED_BACKUP_FAILED", format!("cannot create {}: {e}; make {} writable", temp.path.display(), dir.display()))
    })?;
    file.set_permissions(fs::Permissions::from_mode(file_mode))?;
    Ok(temp)
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
#[path = "backup_tests.rs"]
mod tests;
