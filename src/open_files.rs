//! The database files this process has open, so that a backup never renames
//! over a live database (or its `-wal`, `-shm`, `-journal`) of another
//! connection in the same process, worker threads included.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::sync::Lazy;
use rusqlite::Connection;

use crate::permissions::FileState;

/// One open database file, as it was when it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// The database file with every symlink resolved.
    pub path: PathBuf,
    /// Device of the file (`st_dev`).
    pub dev: u64,
    /// Inode of the file (`st_ino`).
    pub ino: u64,
}

static OPEN: Lazy<Mutex<HashMap<u64, OpenFile>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Keeps a file in the registry until it is dropped (at `close()`, or when the connection is collected).
#[derive(Debug)]
pub struct Registration {
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN.lock() {
            open.remove(&self.id);
        }
    }
}

/// Records `path` as open; `None` when it cannot be resolved or stated (nothing to protect then).
pub fn register(path: &Path) -> Option<Registration> {
    let real = path.canonicalize().ok()?;
    let meta = fs::metadata(&real).ok()?;
    register_file(OpenFile { path: real, dev: meta.dev(), ino: meta.ino() })
}

/// Records the main database of `conn`, just opened from `before` (the file as the
/// pre-flight checks found it). SQLite has already resolved its path, every symlink
/// included (`sqlite3_db_filename`), and the checks have its device and inode, so
/// this costs no system call where [`register`] makes five or more (a `readlink`
/// per component of the path, then a `stat`).
pub fn register_opened(conn: &Connection, before: &FileState) -> Option<Registration> {
    let Some(real) = conn.path().filter(|p| !p.is_empty()).map(PathBuf::from) else {
        return register(&before.path);
    };
    let (dev, ino) = if before.mode.is_some() {
        before.id
    } else {
        // Created by this open: not stated yet.
        let meta = fs::metadata(&real).ok()?;
        (meta.dev(), meta.ino())
    };
    register_file(OpenFile { path: real, dev, ino })
}

fn register_file(file: OpenFile) -> Option<Registration> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    OPEN.lock().ok()?.insert(id, file);
    Some(Registration { id })
}

/// Every database file open in this process now.
pub fn open_files() -> Vec<OpenFile> {
    OPEN.lock().map(|open| open.values().cloned().collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    #[test]
    fn an_opened_database_is_registered_as_canonicalize_would() {
        let dir = temp_dir("open-files-opened");
        fs::create_dir_all(dir.join("real")).unwrap();
        let real = dir.join("real/app.db");
        fs::write(&real, b"").unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        let given = dir.join("link/app.db");
        let before = crate::permissions::stat(&given);
        let conn = Connection::open(&given).unwrap();
        let registration = register_opened(&conn, &before).unwrap();
        let meta = fs::metadata(&real).unwrap();
        let expected = OpenFile { path: given.canonicalize().unwrap(), dev: meta.dev(), ino: meta.ino() };
        assert!(open_files().contains(&expected), "{:?}", open_files());
        drop((registration, conn));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_registration_lasts_until_dropped() {
        let dir = temp_dir("open-files");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.db");
        fs::write(&path, b"").unwrap();
        let real = path.canonicalize().unwrap();
        let registration = register(&path).unwrap();
        assert!(open_files().iter().any(|f| f.path == real));
        drop(registration);
        assert!(!open_files().iter().any(|f| f.path == real));
        assert!(register(&dir.join("missing.db")).is_none());
        fs::remove_dir_all(dir).unwrap();
    }
}
