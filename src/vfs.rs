//! The VFS that gives every file SQLite creates through a hardened connection
//! the connection's `fileMode`, whatever the umask.
//!
//! A thin wrapper around SQLite's `unix` VFS, registered (never as the default,
//! never unregistered) once per `fileMode` and access, as `hardened-0640` or, for
//! `readonly` connections, `hardened-0640-ro`. Only `xOpen` does anything of its
//! own; every other method forwards to `unix` with `unix`'s own VFS pointer, and
//! the files it opens carry `unix`'s I/O methods, so reads and writes cost nothing extra.
//!
//! `xOpen`, for a named file SQLite asks to create that is not a sidecar (the
//! database of an `ATTACH` or a `VACUUM INTO`, the super-journal of a commit
//! across attached databases):
//! - creates it first itself, with `O_CREAT | O_EXCL | O_NOFOLLOW`, and sets
//!   `fileMode` with `fchmod` on that descriptor: the umask never counts, no path
//!   is looked up twice, and a file that already exists (or a symlink) is never
//!   touched, because `O_EXCL` fails on it and the open goes to `unix` unchanged;
//! - then lets `unix` open the file it just made (without `SQLITE_OPEN_EXCLUSIVE`,
//!   which that creation already honoured), and removes it again if that fails.
//! - On a `readonly` connection it instead drops `SQLITE_OPEN_CREATE`, so such a
//!   file is never created (`SQLITE_CANTOPEN`).
//! - The main database of the open sequence skips that creation ([`open_existing`]):
//!   the sequence found the file or created it with `fileMode` just before.
//!
//! The `-wal` and `-journal` (and the `-shm`, which `unix` creates outside
//! `xOpen`) are left to `unix`, which gives them exactly the database file's mode
//! and, as root, its owner: `fileMode` for every database a hardened connection
//! created. Temporary files have no name to set a mode on: `unix` makes them with
//! `O_TMPFILE` (or unlinks them at once) with mode 0600.

use std::collections::HashMap;
use std::cell::Cell;
use std::ffi::{CStr, CString, OsStr, c_char, c_int, c_void};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::ptr;
use std::sync::Mutex;

use once_cell::sync::Lazy;
use rusqlite::ffi;

use crate::errors::{Error, Result};

/// What one registered VFS wraps and enforces; its `pAppData`.
#[derive(Debug)]
struct State {
    /// The `unix` VFS every call goes to.
    inner: *mut ffi::sqlite3_vfs,
    /// Permission bits for the files it creates.
    mode: u32,
    /// Create no database files at all.
    readonly: bool,
}

/// Names of the VFSes registered so far, by (`fileMode`, readonly). Held while one
/// registers, so worker threads opening at once register each name once.
static REGISTERED: Lazy<Mutex<HashMap<(u32, bool), &'static CStr>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// The name of the VFS that creates files with `mode` (and, if `readonly`,
/// creates no database files), registering it on first use.
pub fn name(mode: u32, readonly: bool) -> Result<&'static CStr> {
    let mut registered = REGISTERED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(name) = registered.get(&(mode, readonly)) {
        return Ok(name);
    }
    let name = register(mode, readonly)?;
    registered.insert((mode, readonly), name);
    Ok(name)
}

fn register(mode: u32, readonly: bool) -> Result<&'static CStr> {
    let text = format!("hardened-{mode:04o}{}", if readonly { "-ro" } else { "" });
    let name: &'static CStr = Box::leak(
        CString::new(text).map_err(|e| Error::Sqlite { code: ffi::SQLITE_MISUSE, message: e.to_string() })?.into_boxed_c_str(),
    );
    // SAFETY: the argument is a NUL-terminated string; the unix VFS, if found, is a
    // static of SQLite's that stays registered for the life of the process.
    let inner = unsafe { ffi::sqlite3_vfs_find(c"unix".as_ptr()) };
    if inner.is_null() {
        return Err(Error::Sqlite {
            code: ffi::SQLITE_ERROR,
            message: "SQLite's \"unix\" VFS is missing, so fileMode cannot be enforced; this build of SQLite is not \
                      supported"
                .to_string(),
        });
    }
    // SAFETY: `inner` is non-null and points to the unix VFS (see above); it is only read.
    let base = unsafe { &*inner };
    let state = Box::into_raw(Box::new(State { inner, mode, readonly }));
    let vfs = Box::into_raw(Box::new(ffi::sqlite3_vfs {
        iVersion: base.iVersion,
        szOsFile: base.szOsFile,
        mxPathname: base.mxPathname,
        pNext: ptr::null_mut(),
        zName: name.as_ptr(),
        pAppData: state.cast(),
        xOpen: Some(x_open),
        xDelete: base.xDelete.and(Some(x_delete)),
        xAccess: base.xAccess.and(Some(x_access)),
        xFullPathname: base.xFullPathname.and(Some(x_full_pathname)),
        xDlOpen: base.xDlOpen.and(Some(x_dl_open)),
        xDlError: base.xDlError.and(Some(x_dl_error)),
        xDlSym: base.xDlSym.and(Some(x_dl_sym)),
        xDlClose: base.xDlClose.and(Some(x_dl_close)),
        xRandomness: base.xRandomness.and(Some(x_randomness)),
        xSleep: base.xSleep.and(Some(x_sleep)),
        xCurrentTime: base.xCurrentTime.and(Some(x_current_time)),
        xGetLastError: base.xGetLastError.and(Some(x_get_last_error)),
        xCurrentTimeInt64: base.xCurrentTimeInt64.and(Some(x_current_time_int64)),
        xSetSystemCall: base.xSetSystemCall.and(Some(x_set_system_call)),
        xGetSystemCall: base.xGetSystemCall.and(Some(x_get_system_call)),
        xNextSystemCall: base.xNextSystemCall.and(Some(x_next_system_call)),
    }));
    // SAFETY: `vfs`, its name and its state are leaked, so they outlive every
    // connection that could use them; it is registered once (under REGISTERED's
    // lock) and never unregistered. makeDflt = 0: other code keeps `unix` as default.
    let rc = unsafe { ffi::sqlite3_vfs_register(vfs, 0) };
    if rc != ffi::SQLITE_OK {
        return Err(Error::Sqlite { code: rc, message: format!("cannot register the VFS {}", name.to_string_lossy()) });
    }
    Ok(name)
}

/// The state of one of our VFSes.
///
/// # Safety
/// `vfs` is a VFS made by [`register`], which SQLite passes back to its methods.
unsafe fn state<'a>(vfs: *mut ffi::sqlite3_vfs) -> &'a State {
    // SAFETY: forwarded from the caller: `pAppData` is the leaked `State`, never freed.
    unsafe { &*(*vfs).pAppData.cast::<State>() }
}

thread_local! {
    /// Set while [`open_existing`] runs: the main database it opens exists.
    static MAIN_DB_EXISTS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `open`, which opens a main database file that the open sequence made
/// sure exists (found it, or created it with `fileMode`): its `xOpen` skips the
/// `O_EXCL` creation, which could only fail with `EEXIST` (one system call per
/// open, with the path looked up again). Should the file vanish in between,
/// `unix` creates it with the build's 0600, never a wider mode.
pub fn open_existing<T>(open: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            MAIN_DB_EXISTS.set(false);
        }
    }
    MAIN_DB_EXISTS.set(true);
    let _reset = Reset;
    open()
}

/// Whether `xOpen` with `flags` asks to create a named file whose mode SQLite
/// does not copy from a database (any but `-wal`, `-journal` and temporary files).
fn is_claimed(flags: c_int) -> bool {
    let sidecar = ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_MAIN_JOURNAL;
    flags & ffi::SQLITE_OPEN_CREATE != 0 && flags & (sidecar | ffi::SQLITE_OPEN_DELETEONCLOSE) == 0
}

/// Creates `path` with exactly `mode` if nothing (not even a symlink) is there;
/// says whether this call created it.
fn create_new(path: &Path, mode: u32) -> bool {
    let created = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(path);
    match created {
        Ok(file) => {
            // open(2) applied the umask; fchmod on the descriptor does not. Should it
            // fail, the file keeps the narrower umasked mode, never a wider one.
            let _ = file.set_permissions(fs::Permissions::from_mode(mode));
            true
        }
        // Exists (theirs, left as it is), or cannot be created: unix reports why.
        Err(_) => false,
    }
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite calls xOpen with the VFS it was registered as.
    let state = unsafe { state(vfs) };
    // SAFETY: `inner` is the unix VFS, which lives as long as the process.
    let Some(inner_open) = (unsafe { (*state.inner).xOpen }) else { return ffi::SQLITE_CANTOPEN };
    let mut flags = flags;
    let mut created = None;
    let known_to_exist = flags & ffi::SQLITE_OPEN_MAIN_DB != 0 && MAIN_DB_EXISTS.get();
    if !name.is_null() && is_claimed(flags) && !known_to_exist {
        // SAFETY: a non-null name given to xOpen is a NUL-terminated path valid for the call.
        let path = Path::new(OsStr::from_bytes(unsafe { CStr::from_ptr(name) }.to_bytes()));
        if state.readonly {
            flags &= !(ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_EXCLUSIVE);
        } else if create_new(path, state.mode) {
            // O_EXCL already made sure the file is new; unix must now open it, not fail on it.
            flags &= !ffi::SQLITE_OPEN_EXCLUSIVE;
            created = Some(path);
        }
    }
    // SAFETY: the unix VFS's own xOpen, with its own VFS pointer and the caller's
    // arguments (`file` has room for `szOsFile`, which is unix's).
    let rc = unsafe { inner_open(state.inner, name, file, flags, out_flags) };
    if rc != ffi::SQLITE_OK
        && let Some(path) = created
    {
        // The empty file this call made would be left behind for nothing.
        let _ = fs::remove_file(path);
    }
    rc
}

/// Defines a VFS method that calls the same method of the wrapped VFS, passing
/// that VFS's own pointer (unix reads its `pAppData`), or returns `$missing`.
macro_rules! forward {
    ($shim:ident, $method:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty, $missing:expr) => {
        unsafe extern "C" fn $shim(vfs: *mut ffi::sqlite3_vfs, $($arg: $ty),*) -> $ret {
            // SAFETY: SQLite calls the method with the VFS it was registered as.
            let inner = unsafe { state(vfs) }.inner;
            // SAFETY: `inner` is the unix VFS, which lives as long as the process.
            match unsafe { (*inner).$method } {
                // SAFETY: the unix VFS's own method, its own pointer, the caller's arguments.
                Some(method) => unsafe { method(inner, $($arg),*) },
                None => $missing,
            }
        }
    };
}

/// What `xDlSym` returns.
type Symbol = Option<unsafe extern "C" fn(*mut ffi::sqlite3_vfs, *mut c_void, *const c_char)>;

forward!(x_delete, xDelete, (name: *const c_char, sync_dir: c_int) -> c_int, ffi::SQLITE_IOERR_DELETE);
forward!(x_access, xAccess, (name: *const c_char, flags: c_int, out: *mut c_int) -> c_int, ffi::SQLITE_IOERR_ACCESS);
forward!(x_full_pathname, xFullPathname, (name: *const c_char, n: c_int, out: *mut c_char) -> c_int, ffi::SQLITE_CANTOPEN);
forward!(x_dl_open, xDlOpen, (name: *const c_char) -> *mut c_void, ptr::null_mut());
forward!(x_dl_error, xDlError, (n: c_int, out: *mut c_char) -> (), ());
forward!(x_dl_sym, xDlSym, (handle: *mut c_void, symbol: *const c_char) -> Symbol, None);
forward!(x_dl_close, xDlClose, (handle: *mut c_void) -> (), ());
forward!(x_randomness, xRandomness, (n: c_int, out: *mut c_char) -> c_int, 0);
forward!(x_sleep, xSleep, (microseconds: c_int) -> c_int, 0);
forward!(x_current_time, xCurrentTime, (out: *mut f64) -> c_int, ffi::SQLITE_ERROR);
forward!(x_get_last_error, xGetLastError, (n: c_int, out: *mut c_char) -> c_int, 0);
forward!(x_current_time_int64, xCurrentTimeInt64, (out: *mut ffi::sqlite3_int64) -> c_int, ffi::SQLITE_ERROR);
forward!(x_set_system_call, xSetSystemCall, (name: *const c_char, call: ffi::sqlite3_syscall_ptr) -> c_int, ffi::SQLITE_NOTFOUND);
forward!(x_get_system_call, xGetSystemCall, (name: *const c_char) -> ffi::sqlite3_syscall_ptr, None);
forward!(x_next_system_call, xNextSystemCall, (name: *const c_char) -> *const c_char, ptr::null());

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use rusqlite::{Connection, OpenFlags};
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;

    fn mode_of(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A connection on `dir/main.db` through the VFS for `mode`.
    fn connect(dir: &Path, mode: u32, readonly: bool) -> Connection {
        fs::create_dir_all(dir).unwrap();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Connection::open_with_flags_and_vfs(dir.join("main.db"), flags, name(mode, readonly).unwrap()).unwrap()
    }

    // 0o640 cannot come from SQLite itself: it is built to create 0600 minus the umask.
    #[test]
    fn attached_and_vacuum_into_files_get_the_mode() {
        let dir = temp_dir("vfs-modes");
        let conn = connect(&dir, 0o640, false);
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);").unwrap();
        let attached = dir.join("new.db");
        conn.execute("ATTACH ?1 AS aux", [attached.to_str().unwrap()]).unwrap();
        conn.execute_batch("CREATE TABLE aux.u(y)").unwrap();
        let copy = dir.join("copy.db");
        conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()]).unwrap();
        assert_eq!(mode_of(&attached), 0o640);
        assert_eq!(mode_of(&copy), 0o640);
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn open_existing_skips_the_creation_of_its_main_database_only() {
        let dir = temp_dir("vfs-open-existing");
        fs::create_dir_all(&dir).unwrap();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let vfs = name(0o640, false).unwrap();
        // A main database that vanished before its open: unix creates it, with the build's 0600.
        let main = dir.join("main.db");
        let conn = open_existing(|| Connection::open_with_flags_and_vfs(&main, flags, vfs)).unwrap();
        assert!(!MAIN_DB_EXISTS.get(), "the hint ends with the open");
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        assert_eq!(mode_of(&main), 0o600);
        // A file attached after the open is created by this VFS, with its mode.
        let attached = dir.join("attached.db");
        conn.execute("ATTACH ?1 AS aux", [attached.to_str().unwrap()]).unwrap();
        conn.execute_batch("CREATE TABLE aux.u(y)").unwrap();
        assert_eq!(mode_of(&attached), 0o640);
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn existing_files_and_symlinks_are_left_alone() {
        let dir = temp_dir("vfs-existing");
        let conn = connect(&dir, 0o600, false);
        let existing = dir.join("existing.db");
        fs::write(&existing, b"").unwrap();
        fs::set_permissions(&existing, fs::Permissions::from_mode(0o644)).unwrap();
        conn.execute("ATTACH ?1 AS aux", [existing.to_str().unwrap()]).unwrap();
        conn.execute_batch("CREATE TABLE aux.u(y)").unwrap();
        assert_eq!(mode_of(&existing), 0o644);
        // unix resolves a symlink to its target (xFullPathname): an existing empty
        // file, which VACUUM INTO may fill, keeps its mode.
        let target = dir.join("target");
        fs::write(&target, b"").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.join("link.db");
        symlink(&target, &link).unwrap();
        conn.execute("VACUUM INTO ?1", [link.to_str().unwrap()]).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(mode_of(&target), 0o644);
        assert!(fs::metadata(&target).unwrap().len() > 0);
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn readonly_creates_no_database_file() {
        let dir = temp_dir("vfs-readonly");
        drop(connect(&dir, 0o600, false));
        let conn = connect(&dir, 0o600, true);
        let attached = dir.join("new.db");
        let err = conn.execute("ATTACH ?1 AS aux", [attached.to_str().unwrap()]).unwrap_err();
        assert_eq!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::CannotOpen));
        let copy = dir.join("copy.db");
        assert!(conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()]).is_err());
        assert!(!attached.exists() && !copy.exists());
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn one_registration_per_mode_and_access() {
        let names: Vec<&CStr> = [(0o600, false), (0o640, false), (0o600, true), (0o600, false)]
            .iter()
            .map(|&(mode, ro)| name(mode, ro).unwrap())
            .collect();
        assert_eq!(names[0], c"hardened-0600");
        assert_eq!(names[1], c"hardened-0640");
        assert_eq!(names[2], c"hardened-0600-ro");
        assert_eq!(names[0].as_ptr(), names[3].as_ptr());
        // Never the default: connections of other code keep unix.
        // SAFETY: null asks for the default VFS; its name is a static C string.
        let default = unsafe { CStr::from_ptr((*ffi::sqlite3_vfs_find(ptr::null())).zName) };
        assert_eq!(default, c"unix");
    }

    #[test]
    fn uri_names_are_plain_paths() {
        let dir = temp_dir("vfs-uri");
        let conn = connect(&dir, 0o640, false);
        let uri = format!("file:{}?vfs=unix", dir.join("uri.db").display());
        // Without URI support the name is a relative path under a "file:" directory that does not exist.
        assert!(conn.execute("ATTACH ?1 AS aux", [uri.as_str()]).is_err());
        assert!(!dir.join("uri.db").exists());
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn built_with_0600_default_and_without_uri_names() {
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|o| o.unwrap()).collect();
        assert!(options.iter().any(|o| o == "DEFAULT_FILE_PERMISSIONS=0600"), "{options:?}");
        assert!(!options.iter().any(|o| o.starts_with("USE_URI")), "{options:?}");
    }

    /// Modes of the files unix unlinked while the recording `unlink` was installed.
    static UNLINKED: Mutex<Vec<(PathBuf, u32)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn recording_unlink(path: *const c_char) -> c_int {
        // SAFETY: unix passes a NUL-terminated path, valid for the call.
        let file = PathBuf::from(OsStr::from_bytes(unsafe { CStr::from_ptr(path) }.to_bytes()));
        if let Ok(meta) = fs::symlink_metadata(&file) {
            UNLINKED.lock().unwrap().push((file, meta.permissions().mode() & 0o777));
        }
        // SAFETY: the real unlink with the caller's argument.
        unsafe { libc::unlink(path) }
    }

    // The super-journal lives only while a commit across attached rollback-mode
    // databases runs; unix's `unlink` is swapped for one that records its mode first.
    #[test]
    fn super_journal_gets_the_mode() {
        let dir = temp_dir("vfs-super");
        let conn = connect(&dir, 0o640, false);
        for (file, schema) in [("a.db", "a"), ("b.db", "b")] {
            conn.execute(&format!("ATTACH ?1 AS {schema}"), [dir.join(file).to_str().unwrap()]).unwrap();
            conn.execute_batch(&format!("CREATE TABLE {schema}.t(x)")).unwrap();
        }
        // SAFETY: the unix VFS is static; a syscall is `unsafe extern "C" fn()` by
        // SQLite's convention and cast back to unlink's real type by unix.
        let unix = unsafe { &*ffi::sqlite3_vfs_find(c"unix".as_ptr()) };
        let set = unix.xSetSystemCall.unwrap();
        type Unlink = unsafe extern "C" fn(*const c_char) -> c_int;
        // SAFETY: as above; every other caller of unlink meanwhile gets the real unlink through it.
        let recording = unsafe { std::mem::transmute::<Unlink, unsafe extern "C" fn()>(recording_unlink) };
        // SAFETY: as above.
        assert_eq!(unsafe { set(ptr::from_ref(unix).cast_mut(), c"unlink".as_ptr(), Some(recording)) }, 0);
        let committed = conn.execute_batch("BEGIN; INSERT INTO a.t VALUES (1); INSERT INTO b.t VALUES (2); COMMIT;");
        // SAFETY: a null system call restores unix's default unlink.
        unsafe { set(ptr::from_ref(unix).cast_mut(), c"unlink".as_ptr(), None) };
        committed.unwrap();
        let supers: Vec<(PathBuf, u32)> = UNLINKED
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| path.starts_with(&dir) && path.to_string_lossy().contains("-mj"))
            .cloned()
            .collect();
        assert_eq!(supers.len(), 1, "{supers:?}");
        assert_eq!(supers[0].1, 0o640);
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }
}
