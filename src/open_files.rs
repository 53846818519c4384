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
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    OPEN.lock().ok()?.insert(id, OpenFile { path: real, dev: meta.dev(), ino: meta.ino() });
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
