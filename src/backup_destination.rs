//! What a backup may be renamed over: a new path; an existing SQLite database
//! (or empty file) unless `overwrite: false`, as better-sqlite3 writes over one;
//! any other regular file only with `overwrite: true`. Never a live database of
//! this process nor one of its `-wal`, `-shm` or `-journal` files, nor a file with
//! a non-empty `-wal` or `-journal` beside it (SQLite would replay it into the copy).

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::errors::{Error, Result};
use crate::open_files::{self, OpenFile};
use crate::permissions::sidecar;
use crate::preflight::directory_of;

/// The files SQLite keeps beside a database, with the database itself first.
const DATABASE_FILES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

/// The first 16 bytes of every SQLite database file.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a `dest` that the backup must not replace. `source` is the backed-up
/// database's file (`None` in memory); every database open in this process is
/// protected as well. `overwrite`: `Some(true)` replaces any regular file,
/// `Some(false)` none, `None` (better-sqlite3's behaviour) only a SQLite database
/// or an empty file; anything else fails with `SQLITE_NOTADB` and is left untouched.
pub fn check(source: Option<&Path>, dest: &Path, overwrite: Option<bool>) -> Result<()> {
    let target = resolve(dest);
    // Follows symlinks: what the destination really is.
    let target_meta = fs::metadata(dest).ok();
    if target_meta.as_ref().is_some_and(fs::Metadata::is_dir) {
        return Err(Error::hardened(
            "HARDENED_PATH_IS_DIRECTORY",
            format!("Backup destination {} is a directory; pass a file path such as {}", dest.display(), dest.join("app.db").display()),
        ));
    }
    if let Some(kind) = target_meta.as_ref().and_then(|m| special_kind(m.file_type())) {
        return Err(refused(dest, &format!("is {kind}, not a regular file")));
    }
    let mut databases: Vec<OpenFile> = open_files::open_files();
    if let Some(real) = source.and_then(|s| s.canonicalize().ok()) {
        databases.push(OpenFile { path: real, dev: 0, ino: 0 });
    }
    for db in &databases {
        if let Some(role) = role_in(db, &target, target_meta.as_ref()) {
            return Err(refused(
                dest,
                &format!("is {role} {}, open in this process; replacing it would corrupt that database", db.path.display()),
            ));
        }
    }
    for suffix in ["-wal", "-journal"] {
        let journal = sidecar(dest, suffix);
        if fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
            return Err(refused(
                dest,
                &format!(
                    "has a non-empty {suffix} beside it ({}): it may be open in another process, and SQLite would \
                     replay that file into the new copy; close that database (or remove the stale {suffix})",
                    journal.display()
                ),
            ));
        }
    }
    // symlink_metadata: a dangling symlink exists too, and the rename would replace it.
    if fs::symlink_metadata(dest).is_err() || overwrite == Some(true) {
        return Ok(());
    }
    if overwrite.is_none() && target_meta.is_some_and(|m| m.is_file()) {
        return if is_database(dest) {
            Ok(())
        } else {
            Err(Error::Sqlite {
                code: rusqlite::ffi::SQLITE_NOTADB,
                message: format!(
                    "Backup destination {} exists and is not a SQLite database (file is not a database); it was left \
                     untouched: pass {{ overwrite: true }} to replace it, or choose a new path",
                    dest.display()
                ),
            })
        };
    }
    Err(Error::hardened(
        "HARDENED_BACKUP_EXISTS",
        format!("Backup destination {} already exists; pass {{ overwrite: true }} to replace it, or choose a new path", dest.display()),
    ))
}

/// Whether `path` is empty or starts with the SQLite header (what SQLite itself would open).
fn is_database(path: &Path) -> bool {
    let mut head = Vec::with_capacity(HEADER.len());
    let read = fs::File::open(path).and_then(|f| f.take(HEADER.len() as u64).read_to_end(&mut head));
    read.is_ok() && (head.is_empty() || head.as_slice() == HEADER)
}

fn refused(dest: &Path, why: &str) -> Error {
    Error::hardened(
        "HARDENED_BACKUP_DESTINATION",
        format!("Backup destination {} {why}; pass the path of a new or regular file, such as backups/app.db", dest.display()),
    )
}

/// What `dest` would replace of database `db`, by path or by device and inode.
fn role_in(db: &OpenFile, target: &Path, target_meta: Option<&fs::Metadata>) -> Option<&'static str> {
    let same_inode = |meta: &fs::Metadata| target_meta.is_some_and(|t| t.dev() == meta.dev() && t.ino() == meta.ino());
    let moved = db.ino != 0 && target_meta.is_some_and(|t| t.dev() == db.dev && t.ino() == db.ino);
    if moved {
        return Some("the database");
    }
    DATABASE_FILES.iter().find_map(|suffix| {
        let file = sidecar(&db.path, suffix);
        let hit = file == target || fs::metadata(&file).is_ok_and(|m| same_inode(&m));
        hit.then_some(match *suffix {
            "" => "the database",
            "-wal" => "the -wal of the database",
            "-shm" => "the -shm of the database",
            _ => "the -journal of the database",
        })
    })
}

/// A FIFO, socket or device, named for the message; `None` for files, directories and symlinks.
fn special_kind(kind: fs::FileType) -> Option<&'static str> {
    if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        Some("a device")
    } else {
        None
    }
}

/// The file `path` ends at after following every symlink, even to a file that does not
/// exist yet, with its directory canonical (so it compares equal to a canonical database path).
fn resolve(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&current) {
            // A relative link is relative to the link's directory; an absolute one replaces it.
            Ok(link) => current = directory_of(&current).join(link),
            Err(_) => break,
        }
    }
    match (directory_of(&current).canonicalize(), current.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;

    fn mkfifo(path: &Path) {
        let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `c_path` is NUL-terminated and outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn refuses_special_files_directories_and_existing_files() {
        let dir = temp_dir("backup-dest");
        fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        mkfifo(&fifo);
        symlink(&fifo, dir.join("to-fifo")).unwrap();
        symlink(&dir, dir.join("to-dir")).unwrap();
        for path in [&fifo, &dir.join("to-fifo")] {
            let err = check(None, path, Some(true)).unwrap_err();
            assert_eq!(err.code(), "HARDENED_BACKUP_DESTINATION");
            assert!(err.message().contains("is a FIFO, not a regular file"), "{}", err.message());
        }
        assert_eq!(check(None, &dir.join("to-dir"), Some(true)).unwrap_err().code(), "HARDENED_PATH_IS_DIRECTORY");
        fs::write(dir.join("old.db"), b"old").unwrap();
        assert_eq!(check(None, &dir.join("old.db"), Some(false)).unwrap_err().code(), "HARDENED_BACKUP_EXISTS");
        assert_eq!(check(None, &dir.join("old.db"), None).unwrap_err().code(), "SQLITE_NOTADB");
        check(None, &dir.join("old.db"), Some(true)).unwrap();
        symlink(dir.join("nowhere"), dir.join("dangling")).unwrap();
        assert_eq!(check(None, &dir.join("dangling"), Some(false)).unwrap_err().code(), "HARDENED_BACKUP_EXISTS");
        assert_eq!(check(None, &dir.join("dangling"), None).unwrap_err().code(), "HARDENED_BACKUP_EXISTS");
        check(None, &dir.join("new.db"), Some(false)).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_the_database_and_its_sidecars_by_path_inode_and_link() {
        let dir = temp_dir("backup-self");
        fs::create_dir_all(dir.join("sub")).unwrap();
        let db = dir.join("app.db");
        fs::write(&db, b"").unwrap();
        fs::write(sidecar(&db, "-wal"), b"").unwrap();
        fs::hard_link(sidecar(&db, "-wal"), dir.join("wal-link")).unwrap();
        symlink(&db, dir.join("db-link")).unwrap();
        symlink(sidecar(&db, "-journal"), dir.join("journal-link")).unwrap();
        let roundabout = dir.join("sub/../app.db-shm");
        let cases = [
            (db.clone(), "is the database"),
            (dir.join("db-link"), "is the database"),
            (sidecar(&db, "-wal"), "is the -wal of the database"),
            (dir.join("wal-link"), "is the -wal of the database"),
            (roundabout, "is the -shm of the database"),
            (dir.join("journal-link"), "is the -journal of the database"),
        ];
        for (dest, why) in cases {
            let err = check(Some(&db), &dest, Some(true)).unwrap_err();
            assert_eq!(err.code(), "HARDENED_BACKUP_DESTINATION", "{}", dest.display());
            assert!(err.message().contains(why), "{}: {}", dest.display(), err.message());
        }
        check(Some(&db), &dir.join("copy.db"), Some(false)).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_a_database_another_connection_of_this_process_has_open() {
        let dir = temp_dir("backup-other");
        fs::create_dir_all(&dir).unwrap();
        let other = dir.join("other.db");
        fs::write(&other, b"").unwrap();
        let registration = open_files::register(&other).unwrap();
        let err = check(None, &sidecar(&other, "-wal"), Some(true)).unwrap_err();
        assert!(err.message().contains("is the -wal of the database"), "{}", err.message());
        assert_eq!(check(None, &other, Some(true)).unwrap_err().code(), "HARDENED_BACKUP_DESTINATION");
        drop(registration);
        check(None, &other, Some(true)).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }
}
