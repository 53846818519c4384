//! Helpers shared by the unit tests of several modules.

use std::path::PathBuf;

/// A path under the temp dir, unique to `tag` and this test process, emptied of
/// anything an earlier run left there (the directory itself is not created).
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
