//! Checks made before SQLite is asked to open a file: the classic failures
//! (a directory that is not writable, a `-shm` a reader cannot write, a `-wal`
//! without its database) diagnosed with a message that names the path and the
//! fix, instead of SQLite's `unable to open database file`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::errors::{Error, Result};
use crate::options::Settings;
use crate::permissions::{Files, sidecar};

/// Access this process needs to a path, as `faccessat(2)` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access(i32);

impl Access {
    /// Read permission.
    pub const READ: Access = Access(libc::R_OK);
    /// Read and write permission.
    pub const READ_WRITE: Access = Access(libc::R_OK | libc::W_OK);
    /// Search permission (a directory's `x` bit).
    pub const SEARCH: Access = Access(libc::X_OK);
    /// Write and search permission on a directory (to create files in it).
    pub const CREATE_IN: Access = Access(libc::W_OK | libc::X_OK);
}

/// Whether the effective uid and gid of this process have `access` to `path`.
/// Root passes every check the kernel lets root pass, like the real open would.
pub fn allowed(path: &Path, access: Access) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::faccessat(libc::AT_FDCWD, c_path.as_ptr(), access.0, libc::AT_EACCESS) == 0 }
}

/// The effective uid of this process, for messages.
pub fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The directory that holds `path` (`.` for a bare file name).
pub fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Why the directory of `path` cannot host a WAL-mode database for this
/// connection, or `None` when it can. A `readonly` connection needs no write
/// access when `-wal` and `-shm` already exist.
pub fn directory_problem(path: &Path, settings: &Settings) -> Option<String> {
    let dir = directory_of(path);
    // The usual case, in one system call: the directory exists, is searchable and writable.
    if allowed(&dir, Access::CREATE_IN) {
        return None;
    }
    if !dir.exists() {
        return missing_directory_problem(&dir, settings);
    }
    if !allowed(&dir, Access::SEARCH) {
        let uid = uid();
        return Some(format!(
            "{} is not searchable by uid {uid} (it lacks the x permission): SQLite must look up {} and its -wal and \
             -shm in it; run chmod u+x (or g+x) on {} for uid {uid}",
            dir.display(),
            file_name(path),
            dir.display()
        ));
    }
    if !settings.create && !path.exists() {
        // A missing file that may not be created is HARDENED_FILE_NOT_FOUND, reported by the open.
        return None;
    }
    let sidecars_exist = sidecar(path, "-wal").exists() && sidecar(path, "-shm").exists();
    if settings.readonly && sidecars_exist {
        return None;
    }
    let name = file_name(path);
    let uid = uid();
    Some(format!(
        "{dir} is not writable by uid {uid}: SQLite in WAL mode must create {name}-wal and {name}-shm in {dir}; make \
         {dir} writable by uid {uid} or open with {{ readonly: true }} on a database whose -wal and -shm already exist",
        dir = dir.display()
    ))
}

fn missing_directory_problem(dir: &Path, settings: &Settings) -> Option<String> {
    if !settings.create {
        return None; // The open reports HARDENED_FILE_NOT_FOUND.
    }
    let ancestor = dir.ancestors().skip(1).find(|a| a.as_os_str().is_empty() || a.exists())?;
    let ancestor = if ancestor.as_os_str().is_empty() { Path::new(".") } else { ancestor };
    if allowed(ancestor, Access::CREATE_IN) {
        return None;
    }
    let uid = uid();
    Some(format!(
        "cannot create directory {} for the database: {} is not writable and searchable by uid {uid}; create {} \
         owned by uid {uid}, or make {} writable by uid {uid}",
        dir.display(),
        ancestor.display(),
        dir.display(),
        ancestor.display()
    ))
}

/// Runs every check on the file database at `path`; the first failure wins.
/// Returns the database file and its `-wal` and `-shm` as it found them (one
/// `stat` each), which the rest of the open sequence reuses.
pub fn check(path: &Path, settings: &Settings) -> Result<Files> {
    if let Some(message) = directory_problem(path, settings) {
        return Err(Error::hardened("HARDENED_DIR_NOT_WRITABLE", message));
    }
    let files = Files::of(path);
    if files.db.directory {
        return Err(Error::hardened(
            "HARDENED_PATH_IS_DIRECTORY",
            format!(
                "{} is a directory; pass the path of the database file inside it, such as {}",
                path.display(),
                path.join("app.db").display()
            ),
        ));
    }
    check_foreign_wal(path)?;
    check_orphan_wal(path, &files)?;
    check_access(path, &files, settings)?;
    Ok(files)
}

fn check_foreign_wal(path: &Path) -> Result<()> {
    let tshm = sidecar(path, "-tshm");
    if !tshm.exists() {
        return Ok(());
    }
    Err(Error::hardened(
        "HARDENED_ORPHAN_WAL",
        format!(
            "{} exists: {} was last opened by another engine (Turso's multi-process WAL), whose committed frames \
             SQLite cannot see; opening it here would discard or corrupt them. Open it with the engine that wrote \
             it, run PRAGMA wal_checkpoint(TRUNCATE) and close it, then delete {} and open it again",
            tshm.display(),
            path.display(),
            tshm.display()
        ),
    ))
}

fn check_orphan_wal(path: &Path, files: &Files) -> Result<()> {
    let wal_has_data = files.wal.size.is_some_and(|size| size > 0);
    if files.db.mode.is_some() || !wal_has_data {
        return Ok(());
    }
    Err(Error::hardened(
        "HARDENED_ORPHAN_WAL",
        format!(
            "{} exists but {} does not: the write-ahead log holds committed data of a database that was moved or \
             deleted; never open it, SQLite would discard or corrupt that data. Put the database file back next to \
             it (restore it from a backup), or move {} away if it is not needed",
            files.wal.path.display(),
            path.display(),
            files.wal.path.display()
        ),
    ))
}

fn check_access(path: &Path, files: &Files, settings: &Settings) -> Result<()> {
    let (need, verb) = if settings.readonly { (Access::READ, "readable") } else { (Access::READ_WRITE, "writable") };
    for file in [&files.db, &files.wal] {
        if file.mode.is_some() && !allowed(&file.path, need) {
            let uid = uid();
            let fix = if settings.readonly {
                format!("give uid {uid} read access to {}", file.path.display())
            } else {
                format!(
                    "give uid {uid} read and write access to {} (chown it to uid {uid}, or run as its owner), or \
                     open with {{ readonly: true }}",
                    file.path.display()
                )
            };
            return Err(Error::hardened(
                if settings.readonly { "HARDENED_FILE_NOT_READABLE" } else { "HARDENED_FILE_NOT_WRITABLE" },
                format!("{} is not {verb} by uid {uid}; {fix}", file.path.display()),
            ));
        }
    }
    if files.shm.mode.is_some() && !allowed(&files.shm.path, Access::READ_WRITE) {
        let uid = uid();
        return Err(Error::hardened(
            "HARDENED_SHM_NOT_WRITABLE",
            format!(
                "{} is not writable by uid {uid}: every connection to {}, even a readonly one, writes the WAL index \
                 in it; give uid {uid} read and write access to it (chown it to uid {uid}, or run as the writer's \
                 uid)",
                files.shm.path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = crate::test_support::temp_dir(&format!("pre-{tag}"));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_fresh_directory_passes() {
        let dir = temp_dir("ok");
        let files = check(&dir.join("app.db"), &Settings::default()).unwrap();
        assert_eq!((files.db.mode, files.wal.mode, files.shm.mode), (None, None, None));
        check(&dir.join("new/deeper/app.db"), &Settings::default()).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_wal_without_its_database_is_refused() {
        let dir = temp_dir("orphan");
        fs::write(dir.join("app.db-wal"), b"frames").unwrap();
        let err = check(&dir.join("app.db"), &Settings::default()).unwrap_err();
        assert_eq!(err.code(), "HARDENED_ORPHAN_WAL");
        assert!(err.message().contains("app.db-wal exists but"), "{}", err.message());
        fs::write(dir.join("app.db-wal"), b"").unwrap();
        check(&dir.join("app.db"), &Settings::default()).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_foreign_wal_index_is_refused() {
        let dir = temp_dir("tshm");
        fs::write(dir.join("app.db"), b"").unwrap();
        fs::write(dir.join("app.db-tshm"), b"").unwrap();
        let err = check(&dir.join("app.db"), &Settings::default()).unwrap_err();
        assert_eq!(err.code(), "HARDENED_ORPHAN_WAL");
        assert!(err.message().contains("app.db-tshm"), "{}", err.message());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_directory_path_is_refused() {
        let dir = temp_dir("isdir");
        let err = check(&dir, &Settings::default()).unwrap_err();
        assert_eq!(err.code(), "HARDENED_PATH_IS_DIRECTORY");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bare_names_live_in_the_current_directory() {
        assert_eq!(directory_of(Path::new("app.db")), PathBuf::from("."));
        assert_eq!(directory_of(Path::new("/srv/app.db")), PathBuf::from("/srv"));
    }
}
