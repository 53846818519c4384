//! `db.loadExtension(path, entryPoint)`: loads a native SQLite extension through
//! the C API only. `SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION` is switched on for
//! the one call and off again, so the SQL function `load_extension()` stays
//! unavailable (the authorizer refuses it as well). Loading an extension runs
//! its native code in this process: it is a trust decision, like `require()`.

use std::ffi::{CStr, CString};
use std::ptr;

use rusqlite::ffi;

use crate::connection::Shared;
use crate::errors::{Error, Result};

/// Switches loading extensions through the C API on or off; returns SQLite's code.
fn set_enabled(db: *mut ffi::sqlite3, on: bool) -> i32 {
    // SAFETY: `db` is open; this verb takes an int and a nullable int pointer.
    unsafe { ffi::sqlite3_db_config(db, ffi::SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, i32::from(on), ptr::null_mut::<i32>()) }
}

/// Loads the extension at `path` (entry point `entry_point`, or SQLite's default
/// derived from the file name) into `shared`'s connection.
pub fn load(shared: &Shared, path: &str, entry_point: Option<&str>) -> Result<()> {
    let nul = |what: &str| Error::type_error("HARDENED_INVALID_ARGUMENT", format!("The extension {what} contains a NUL character"));
    let c_path = CString::new(path).map_err(|_| nul("path"))?;
    let c_entry = entry_point.map(CString::new).transpose().map_err(|_| nul("entry point"))?;
    crate::idle::require_idle(shared)?;
    let db = shared.handle()?;
    let rc = set_enabled(db, true);
    if rc != ffi::SQLITE_OK {
        return Err(Error::Sqlite { code: rc, message: format!("cannot enable loading extensions for {path}") });
    }
    let mut message: *mut std::os::raw::c_char = ptr::null_mut();
    // SAFETY: `db` is open; both strings are NUL-terminated and outlive the call;
    // `message` is a valid out pointer, freed below with sqlite3_free.
    let rc = unsafe {
        ffi::sqlite3_load_extension(db, c_path.as_ptr(), c_entry.as_ref().map_or(ptr::null(), |e| e.as_ptr()), &mut message)
    };
    // Off again whatever happened: only this call may load code.
    set_enabled(db, false);
    let text = if message.is_null() {
        String::new()
    } else {
        // SAFETY: SQLite wrote a NUL-terminated string allocated with sqlite3_malloc;
        // it is copied, then freed exactly once.
        unsafe {
            let text = CStr::from_ptr(message).to_string_lossy().into_owned();
            ffi::sqlite3_free(message.cast());
            text
        }
    };
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    let detail = if text.is_empty() { "SQLite gave no reason".to_string() } else { text };
    Err(Error::Sqlite {
        code: rc,
        message: format!("{detail}: check the path of the extension ({path}) and that it was built for SQLite {}", rusqlite::version()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn shared() -> std::rc::Rc<Shared> {
        Shared::new(Connection::open_in_memory().unwrap(), false, None)
    }

    fn load_enabled(shared: &Shared) -> i32 {
        let mut on = -1;
        let db = shared.handle().unwrap();
        // SAFETY: `db` is open; -1 queries without changing; `on` is a valid out pointer.
        unsafe { ffi::sqlite3_db_config(db, ffi::SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, -1, &mut on as *mut i32) };
        on
    }

    #[test]
    fn a_missing_extension_is_a_sqlite_error_and_loading_stays_disabled() {
        let db = shared();
        let err = load(&db, "/nonexistent/ext.so", None).unwrap_err();
        assert_eq!(err.code(), "SQLITE_ERROR");
        assert!(err.message().contains("/nonexistent/ext.so"), "{}", err.message());
        assert_eq!(load_enabled(&db), 0);
        assert_eq!(load(&db, "a\0b", None).unwrap_err().code(), "HARDENED_INVALID_ARGUMENT");
    }
}
