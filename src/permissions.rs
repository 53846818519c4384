//! File modes of the database and its `-wal` and `-shm`: reading them, and what
//! to do when one grants more than `fileMode` (warn, fix with chmod, or refuse).

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::errors::{Error, Result};

/// What the open sequence does about a file whose mode is wider than `fileMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Report it through `process.emitWarning` (code `HARDENED_FILE_MODE`). The default.
    #[default]
    Warn,
    /// Narrow it with `chmod` to the bits `fileMode` allows.
    Fix,
    /// Refuse to open with `HARDENED_FILE_MODE`.
    Throw,
}

/// The `permissions` option's values, in [`Policy`] order.
pub const POLICIES: [&str; 3] = ["warn", "fix", "throw"];

impl Policy {
    /// The policy at `index` of [`POLICIES`].
    pub fn from_index(index: i64) -> Policy {
        match index {
            1 => Policy::Fix,
            2 => Policy::Throw,
            _ => Policy::Warn,
        }
    }
}

/// `path` with `suffix` appended to its file name (`app.db` → `app.db-wal`).
pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// One of the database's files as found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct FileState {
    /// Where it is.
    pub path: PathBuf,
    /// Its permission bits, `None` when it does not exist.
    pub mode: Option<u32>,
    /// Its size in bytes, `None` when it does not exist.
    pub size: Option<u64>,
    /// It is a directory.
    pub directory: bool,
    /// Its device and inode (`st_dev`, `st_ino`), 0 when it does not exist.
    pub id: (u64, u64),
}

/// Reads the mode and size of `path` (following symlinks, as SQLite does).
pub fn stat(path: &Path) -> FileState {
    match fs::metadata(path) {
        Ok(meta) => FileState {
            path: path.to_path_buf(),
            mode: Some(meta.permissions().mode() & 0o777),
            size: Some(meta.len()),
            directory: meta.is_dir(),
            id: (meta.dev(), meta.ino()),
        },
        Err(_) => FileState { path: path.to_path_buf(), mode: None, size: None, directory: false, id: (0, 0) },
    }
}

/// The database file and its two WAL-mode companions.
#[derive(Debug, Clone, PartialEq)]
pub struct Files {
    /// The database file.
    pub db: FileState,
    /// The write-ahead log, `<db>-wal`.
    pub wal: FileState,
    /// The WAL index, `<db>-shm`.
    pub shm: FileState,
}

impl Files {
    /// Stats `db`, `db-wal` and `db-shm`.
    pub fn of(db: &Path) -> Files {
        Files { db: stat(db), wal: stat(&sidecar(db, "-wal")), shm: stat(&sidecar(db, "-shm")) }
    }

    /// The three files with their labels (`db`, `wal`, `shm`).
    pub fn labelled(&self) -> [(&'static str, &FileState); 3] {
        [("db", &self.db), ("wal", &self.wal), ("shm", &self.shm)]
    }
}

/// Whether `mode` grants any permission bit that `allowed` does not.
pub fn is_wider(mode: u32, allowed: u32) -> bool {
    mode & 0o777 & !allowed != 0
}

/// Formats permission bits as `0644`.
pub fn octal(mode: u32) -> String {
    format!("{:04o}", mode & 0o777)
}

/// The sentence that says what is wrong with a wide file and how to fix it.
pub fn wide_message(path: &Path, mode: u32, allowed: u32) -> String {
    format!(
        "{} has mode {}, wider than fileMode {}: other users can read or change the database; run \
         chmod {:o} {} or open with {{ permissions: \"fix\" }}",
        path.display(),
        octal(mode),
        octal(allowed),
        allowed,
        path.display()
    )
}

/// The files of a database just opened whose mode is wider than `allowed`, as
/// warning messages, from `before`: the files as the pre-flight checks found them.
/// The open changes the mode of no file that existed (SQLite never chmods; as
/// root it only gives a new `-wal` or `-shm` the database's owner), so only
/// those that did not exist are looked at again: SQLite may have just created
/// them, with the database file's mode. A reopened WAL database costs no `stat`.
pub fn wide_files_after_open(before: &Files, allowed: u32) -> Vec<String> {
    let now = before.labelled().map(|(_, file)| if file.mode.is_some() { file.clone() } else { stat(&file.path) });
    wide_messages(&now, allowed)
}

fn wide_messages(files: &[FileState], allowed: u32) -> Vec<String> {
    files
        .iter()
        .filter_map(|file| file.mode.filter(|m| is_wider(*m, allowed)).map(|m| wide_message(&file.path, m, allowed)))
        .collect()
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether the file at `path` is empty (a database yet to be written) or starts with a
/// database header SQLite accepts: the magic string, a page size that is a power of two
/// from 512 to 65536, and the fixed payload fractions 64, 32, 32.
fn holds_a_database(path: &Path) -> bool {
    let Ok(mut file) = fs::File::open(path) else { return false };
    let mut head = [0u8; 100];
    if file.read_exact(&mut head).is_err() {
        return file.metadata().is_ok_and(|m| m.len() == 0);
    }
    let page_size = match u32::from(u16::from_be_bytes([head[16], head[17]])) {
        1 => 65536,
        size => size,
    };
    head.starts_with(SQLITE_HEADER) && page_size.is_power_of_two() && page_size >= 512 && head[21..24] == [64, 32, 32]
}

/// Applies `policy` to every existing file of `db` whose mode is wider than
/// `allowed`: `Throw` refuses, `Fix` narrows the mode, `Warn` leaves it for the
/// warning the JS facade emits after the open (see [`wide_files_after_open`]).
///
/// `Fix` changes nothing unless `db` holds a database (so a wrong path fails the
/// open's header check with its file untouched). It works on the files SQLite
/// uses: the `-wal` and `-shm` beside the file a symlinked `db` points to, and it
/// never chmods through a symlink in place of a `-wal` or `-shm`.
pub fn enforce(db: &Path, allowed: u32, policy: Policy) -> Result<()> {
    if policy == Policy::Warn {
        return Ok(());
    }
    let real = db.canonicalize().unwrap_or_else(|_| db.to_path_buf());
    if policy == Policy::Fix && !holds_a_database(&real) {
        return Ok(());
    }
    for (label, file) in Files::of(&real).labelled() {
        let Some(mode) = file.mode.filter(|m| is_wider(*m, allowed)) else { continue };
        if policy == Policy::Throw {
            return Err(Error::hardened(
                "HARDENED_FILE_MODE",
                format!("{} (refused because of {{ permissions: \"throw\" }})", wide_message(&file.path, mode, allowed)),
            ));
        }
        if label != "db" && !fs::symlink_metadata(&file.path).is_ok_and(|m| m.is_file()) {
            return Err(Error::hardened(
                "HARDENED_FILE_MODE",
                format!(
                    "{} is a symlink or a special file, not a regular file (mode {}); {{ permissions: \"fix\" }} \
                     does not chmod through links: remove it (SQLite creates the real file) or fix the mode yourself",
                    file.path.display(),
                    octal(mode)
                ),
            ));
        }
        let narrowed = mode & allowed;
        fs::set_permissions(&file.path, fs::Permissions::from_mode(narrowed)).map_err(|e| {
            Error::hardened(
                "HARDENED_FILE_MODE",
                format!(
                    "{} has mode {} and {{ permissions: \"fix\" }} cannot chmod it to {}: {e}; run chmod {:o} {} as \
                     the file's owner",
                    file.path.display(),
                    octal(mode),
                    octal(narrowed),
                    narrowed,
                    file.path.display()
                ),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(tag: &str) -> (PathBuf, PathBuf) {
        let dir = crate::test_support::temp_dir(&format!("perm-{tag}"));
        fs::create_dir_all(&dir).unwrap();
        let db = dir.join("app.db");
        (dir, db)
    }

    fn write_with_mode(path: &Path, mode: u32) {
        fs::write(path, b"x").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn wider_means_a_bit_outside_the_allowed_set() {
        assert!(is_wider(0o644, 0o600));
        assert!(!is_wider(0o600, 0o600));
        assert!(!is_wider(0o400, 0o600));
        assert!(is_wider(0o640, 0o604));
        assert_eq!(octal(0o600), "0600");
    }

    #[test]
    fn sidecars_append_to_the_file_name() {
        assert_eq!(sidecar(Path::new("/srv/app.db"), "-wal"), PathBuf::from("/srv/app.db-wal"));
    }

    #[test]
    fn after_the_open_only_files_that_were_missing_are_looked_at_again() {
        let (dir, db) = temp_db("after-open");
        write_with_mode(&db, 0o644);
        let before = Files::of(&db);
        // What the open does: SQLite creates the -wal with the database's mode.
        write_with_mode(&sidecar(&db, "-wal"), 0o644);
        let found = wide_files_after_open(&before, 0o600);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].contains("app.db-wal has mode 0644"), "{}", found[1]);
        // A file that existed is reported as the pre-flight checks found it.
        fs::set_permissions(&db, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(wide_files_after_open(&before, 0o600)[0].contains("app.db has mode 0644"));
        assert_eq!(wide_files_after_open(&Files::of(&db), 0o600).len(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn warn_lists_each_wide_file_and_changes_nothing() {
        let (dir, db) = temp_db("warn");
        write_with_mode(&db, 0o644);
        write_with_mode(&sidecar(&db, "-shm"), 0o666);
        enforce(&db, 0o600, Policy::Warn).unwrap();
        let found = wide_files_after_open(&Files::of(&db), 0o600);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("app.db has mode 0644, wider than fileMode 0600"), "{}", found[0]);
        assert!(found[1].contains("app.db-shm has mode 0666"), "{}", found[1]);
        assert_eq!(stat(&db).mode, Some(0o644));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fix_leaves_a_file_that_is_not_a_database_alone_even_through_a_symlink() {
        let (dir, db) = temp_db("fix-notadb");
        let mut bytes = b"SQLite format 3\0".to_vec(); // the magic string, then no valid header
        bytes.extend(b"notes, not a database".repeat(100));
        fs::write(&db, &bytes).unwrap();
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.join("link.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        for path in [&db, &link] {
            enforce(path, 0o600, Policy::Fix).unwrap();
            assert_eq!(stat(&db).mode, Some(0o644));
            assert_eq!(fs::read(&db).unwrap(), bytes);
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fix_narrows_the_files_sqlite_uses_behind_a_symlinked_database() {
        let (dir, db) = temp_db("fix-link");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        drop(conn);
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
        write_with_mode(&sidecar(&db, "-wal"), 0o644);
        let link = dir.join("link.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        write_with_mode(&sidecar(&link, "-wal"), 0o644); // not the database's: SQLite uses app.db-wal
        enforce(&link, 0o600, Policy::Fix).unwrap();
        assert_eq!(stat(&db).mode, Some(0o600));
        assert_eq!(stat(&sidecar(&db, "-wal")).mode, Some(0o600));
        assert_eq!(stat(&sidecar(&link, "-wal")).mode, Some(0o644));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fix_refuses_to_chmod_through_a_symlinked_sidecar() {
        let (dir, db) = temp_db("fix-sidecar-link");
        fs::write(&db, b"").unwrap();
        let elsewhere = dir.join("elsewhere");
        write_with_mode(&elsewhere, 0o644);
        std::os::unix::fs::symlink(&elsewhere, sidecar(&db, "-shm")).unwrap();
        let err = enforce(&db, 0o600, Policy::Fix).unwrap_err();
        assert_eq!(err.code(), "HARDENED_FILE_MODE");
        assert!(err.message().contains("app.db-shm is a symlink"), "{}", err.message());
        assert_eq!(stat(&elsewhere).mode, Some(0o644));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fix_narrows_and_throw_refuses() {
        let (dir, db) = temp_db("fix");
        write_with_mode(&db, 0o644);
        fs::write(&db, b"").unwrap(); // an empty file is a database yet to be written
        let err = enforce(&db, 0o600, Policy::Throw).unwrap_err();
        assert_eq!(err.code(), "HARDENED_FILE_MODE");
        assert!(err.message().contains("chmod 600"), "{}", err.message());
        assert_eq!(stat(&db).mode, Some(0o644));
        enforce(&db, 0o600, Policy::Fix).unwrap();
        assert_eq!(stat(&db).mode, Some(0o600));
        assert!(wide_files_after_open(&Files::of(&db), 0o600).is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
