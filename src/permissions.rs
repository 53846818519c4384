//! File modes of the database and its `-wal` and `-shm`: reading them, and what
//! to do when one grants more than `fileMode` (warn, fix with chmod, or refuse).

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
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
}

/// Reads the mode and size of `path` (following symlinks, as SQLite does).
pub fn stat(path: &Path) -> FileState {
    match fs::metadata(path) {
        Ok(meta) => FileState {
            path: path.to_path_buf(),
            mode: Some(meta.permissions().mode() & 0o777),
            size: Some(meta.len()),
        },
        Err(_) => FileState { path: path.to_path_buf(), mode: None, size: None },
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

/// The existing files of `db` whose mode is wider than `allowed`, as warning messages.
pub fn wide_files(db: &Path, allowed: u32) -> Vec<String> {
    Files::of(db)
        .labelled()
        .iter()
        .filter_map(|(_, file)| file.mode.filter(|m| is_wider(*m, allowed)).map(|m| (file, m)))
        .map(|(file, mode)| wide_message(&file.path, mode, allowed))
        .collect()
}

/// Applies `policy` to every existing file of `db` whose mode is wider than
/// `allowed`: `Throw` refuses, `Fix` narrows the mode, `Warn` leaves it for the
/// warning the JS facade emits after the open (see [`wide_files`]).
pub fn enforce(db: &Path, allowed: u32, policy: Policy) -> Result<()> {
    if policy == Policy::Warn {
        return Ok(());
    }
    for (_, file) in Files::of(db).labelled() {
        let Some(mode) = file.mode.filter(|m| is_wider(*m, allowed)) else { continue };
        if policy == Policy::Throw {
            return Err(Error::hardened(
                "HARDENED_FILE_MODE",
                format!("{} (refused because of {{ permissions: \"throw\" }})", wide_message(&file.path, mode, allowed)),
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
    fn warn_lists_each_wide_file_and_changes_nothing() {
        let (dir, db) = temp_db("warn");
        write_with_mode(&db, 0o644);
        write_with_mode(&sidecar(&db, "-shm"), 0o666);
        enforce(&db, 0o600, Policy::Warn).unwrap();
        let found = wide_files(&db, 0o600);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("app.db has mode 0644, wider than fileMode 0600"), "{}", found[0]);
        assert!(found[1].contains("app.db-shm has mode 0666"), "{}", found[1]);
        assert_eq!(stat(&db).mode, Some(0o644));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fix_narrows_and_throw_refuses() {
        let (dir, db) = temp_db("fix");
        write_with_mode(&db, 0o644);
        let err = enforce(&db, 0o600, Policy::Throw).unwrap_err();
        assert_eq!(err.code(), "HARDENED_FILE_MODE");
        assert!(err.message().contains("chmod 600"), "{}", err.message());
        assert_eq!(stat(&db).mode, Some(0o644));
        enforce(&db, 0o600, Policy::Fix).unwrap();
        assert_eq!(stat(&db).mode, Some(0o600));
        assert!(wide_files(&db, 0o600).is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
