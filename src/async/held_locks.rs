//! The sync+async rule of one process: a sync write on a JS thread that waits
//! for the write lock an async transaction of that same thread holds can only
//! time out (the transaction needs that thread's event loop to finish), so the
//! busy handler gives up at once and the write fails with
//! `HARDENED_ASYNC_DEADLOCK` instead of stalling `busyTimeout`.
//!
//! Pool threads record, after each request, whether their connection is left
//! inside a transaction, with its file and the JS thread that asked.

use std::cell::Cell;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;

use once_cell::sync::Lazy;
use rusqlite::ffi;

use crate::errors::Error;

/// A database file: device and inode.
pub type FileId = (u64, u64);

/// Async connections (by handle address) inside a transaction: their file and JS thread.
static HELD: Lazy<Mutex<HashMap<usize, (FileId, ThreadId)>>> = Lazy::new(|| Mutex::new(HashMap::new()));
/// `HELD.len()`, read without the lock by every busy wait.
static COUNT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The connection whose busy wait gave up here, for its error.
    static FAILED_FAST: Cell<usize> = const { Cell::new(0) };
}

/// The file of the main database of `db`, if it is a file.
pub fn file_id(db: *mut ffi::sqlite3) -> Option<FileId> {
    // SAFETY: `db` is open; the returned name is owned by SQLite and read at once.
    let name = unsafe {
        let ptr = ffi::sqlite3_db_filename(db, c"main".as_ptr());
        if ptr.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(ptr).to_str().ok()?.to_owned()
    };
    if name.is_empty() {
        return None;
    }
    let meta = std::fs::metadata(name).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Records whether async connection `db` (of `file`, asked from `js_thread`) is inside a transaction.
pub fn record(db: usize, file: Option<FileId>, js_thread: ThreadId, in_transaction: bool) {
    if !in_transaction && COUNT.load(Ordering::Acquire) == 0 {
        // Nothing held: the common case costs no lock. (Only this connection's own
        // pool task could add its entry, and it is the one running.)
        return;
    }
    let Ok(mut held) = HELD.lock() else { return };
    match file {
        Some(file) if in_transaction => {
            held.insert(db, (file, js_thread));
        }
        _ => {
            held.remove(&db);
        }
    }
    COUNT.store(held.len(), Ordering::Release);
}

/// Whether the busy wait of connection `db` on this thread must give up now:
/// an async transaction of this thread holds the lock of its file.
pub fn must_fail_fast(db: usize) -> bool {
    if COUNT.load(Ordering::Acquire) == 0 {
        return false;
    }
    let Some(file) = file_id(db as *mut ffi::sqlite3) else { return false };
    let me = std::thread::current().id();
    let hit = HELD.lock().map(|held| held.iter().any(|(&other, &(f, t))| other != db && f == file && t == me)).unwrap_or(false);
    if hit {
        FAILED_FAST.set(db);
    }
    hit
}

/// The error for a `SQLITE_BUSY` of `db` whose busy wait gave up by [`must_fail_fast`], if it did.
pub fn take_failure(db: *mut ffi::sqlite3, busy: Error) -> std::result::Result<Error, Error> {
    if FAILED_FAST.get() != db as usize {
        return Err(busy);
    }
    FAILED_FAST.set(0);
    Ok(Error::Hardened {
        code: "HARDENED_ASYNC_DEADLOCK",
        message: "This synchronous call waits for the write lock that an async transaction of this same thread holds \
                  (db.transaction() of HardenedDb.openAsync()); that transaction needs the event loop this call blocks, \
                  so it failed at once instead of after busyTimeout: make the write through the async handle (tx inside \
                  the transaction), or await the transaction first"
            .into(),
        cause: Some(Box::new(busy)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_fast_only_for_the_same_file_and_thread() {
        let dir = crate::test_support::temp_dir("held-locks");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.db");
        let async_conn = rusqlite::Connection::open(&path).unwrap();
        let sync_conn = rusqlite::Connection::open(&path).unwrap();
        // SAFETY: addresses only.
        let (a, s) = unsafe { (async_conn.handle(), sync_conn.handle()) };
        let file = file_id(a);
        assert!(file.is_some());
        record(a as usize, file, std::thread::current().id(), true);
        assert!(must_fail_fast(s as usize));
        let busy = Error::Sqlite { code: ffi::SQLITE_BUSY, message: "database is locked".into() };
        assert_eq!(take_failure(s, busy.clone()).unwrap().code(), "HARDENED_ASYNC_DEADLOCK");
        assert!(take_failure(s, busy.clone()).is_err(), "taken once");
        let address = s as usize;
        let other_thread = std::thread::spawn(move || must_fail_fast(address)).join().unwrap();
        assert!(!other_thread);
        record(a as usize, file, std::thread::current().id(), false);
        assert!(!must_fail_fast(s as usize));
        drop((async_conn, sync_conn));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
