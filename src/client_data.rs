//! Per-connection state owned by the connection itself, through SQLite's client
//! data (`sqlite3_set_clientdata`): SQLite frees a value when the connection
//! closes or the value is replaced, so no state outlives its connection.
//!
//! Registries keyed by handle address did not have that property: a connection
//! closed without an explicit `forget` (a failed open, a unit test) left its
//! entry, and a later connection that SQLite allocated at the same address found it.

use std::ffi::{CStr, c_void};

use rusqlite::ffi;

use crate::errors::{Error, Result};

/// Frees a value handed to SQLite by [`attach`].
unsafe extern "C" fn drop_boxed<T>(data: *mut c_void) {
    // SAFETY: `data` came from `Box::<T>::into_raw` in `attach` under a key only
    // ever given `T`s, and SQLite calls the destructor once per value.
    drop(unsafe { Box::from_raw(data.cast::<T>()) });
}

/// Stores `value` on `db` under `key`, freeing the value stored there before,
/// and returns its address, valid until the connection closes or `key` is
/// replaced or removed. Each `key` must always be given the same `T`.
///
/// # Safety
/// `db` is an open connection used by this thread only for the call, and no
/// pointer to the previous value of `key` is used after it.
pub unsafe fn attach<T>(db: *mut ffi::sqlite3, key: &CStr, value: Box<T>) -> Result<*mut T> {
    let data = Box::into_raw(value);
    // SAFETY: `db` is open (caller); from here SQLite owns `data` and frees it with
    // `drop_boxed::<T>`, at once if it cannot store it.
    let rc = unsafe { ffi::sqlite3_set_clientdata(db, key.as_ptr(), data.cast(), Some(drop_boxed::<T>)) };
    if rc != ffi::SQLITE_OK {
        return Err(Error::Sqlite { code: rc, message: format!("out of memory storing {} on the connection", key.to_string_lossy()) });
    }
    Ok(data)
}

/// Runs `f` with the value [`attach`] stored on `db` under `key`; `None` without one.
///
/// # Safety
/// `db` is an open connection, used by one thread at a time, and `key` was only
/// ever given `T`s. `f` must not replace or remove `key` nor close `db`.
pub unsafe fn with<T, R>(db: *mut ffi::sqlite3, key: &CStr, f: impl FnOnce(&T) -> R) -> Option<R> {
    // SAFETY: `db` is open (caller); the result is null or a live `T` (see `attach`),
    // which stays alive during `f` (caller).
    unsafe { ffi::sqlite3_get_clientdata(db, key.as_ptr()).cast::<T>().as_ref() }.map(f)
}

/// Frees the value stored on `db` under `key`, if any.
///
/// # Safety
/// `db` is an open connection, and no pointer to the value is used after this.
pub unsafe fn remove(db: *mut ffi::sqlite3, key: &CStr) {
    // SAFETY: `db` is open (caller); SQLite runs the value's destructor.
    unsafe { ffi::sqlite3_set_clientdata(db, key.as_ptr(), std::ptr::null_mut(), None) };
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use rusqlite::Connection;

    use super::*;

    const KEY: &CStr = c"hardened-sqlite.test";

    #[test]
    fn a_value_is_freed_when_replaced_removed_or_the_connection_closes() {
        let counter = Rc::new(());
        let conn = Connection::open_in_memory().unwrap();
        // SAFETY: the handle is used while `conn` is open, on this thread.
        let db = unsafe { conn.handle() };
        // SAFETY: as above; no pointer to an older value is kept.
        unsafe {
            attach(db, KEY, Box::new(Rc::clone(&counter))).unwrap();
            assert_eq!(with(db, KEY, |value: &Rc<()>| Rc::strong_count(value)), Some(2));
            attach(db, KEY, Box::new(Rc::clone(&counter))).unwrap();
            assert_eq!(Rc::strong_count(&counter), 2);
            remove(db, KEY);
            assert_eq!(Rc::strong_count(&counter), 1);
            assert_eq!(with(db, KEY, |_: &Rc<()>| ()), None);
            attach(db, KEY, Box::new(Rc::clone(&counter))).unwrap();
        }
        drop(conn);
        assert_eq!(Rc::strong_count(&counter), 1);
        let other = Connection::open_in_memory().unwrap();
        // SAFETY: as above.
        assert_eq!(unsafe { with(other.handle(), KEY, |_: &Rc<()>| ()) }, None);
    }
}
