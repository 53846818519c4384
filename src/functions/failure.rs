//! What a user-defined function threw, kept per connection until the call
//! that ran the statement rethrows it.
//!
//! Inside SQLite the function only fails the statement with SQLITE_ERROR and a
//! message naming the function. When that error reaches
//! [`crate::connection::last_error`], [`take`] matches the message and turns the
//! error back into what was thrown: the very same JS value (better-sqlite3
//! rethrows it unchanged), or the library's own error (an invalid result).
//! One failure is kept per connection; rethrowing it, the next one or closing drops it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use napi::sys;
use rusqlite::ffi;

use super::env::JsRef;
use crate::errors::Error;

/// What failed.
pub enum Thrown {
    /// The function threw this JS value.
    Js(JsRef),
    /// The library refused the call or its result.
    Native(Error),
}

struct Kept {
    /// The message SQLite recorded for the statement.
    message: String,
    serial: u64,
    thrown: Thrown,
}

thread_local! {
    static KEPT: RefCell<HashMap<usize, Kept>> = RefCell::new(HashMap::new());
    static SERIAL: Cell<u64> = const { Cell::new(0) };
}

/// Keeps the failure of a function run by connection `db`, which reported `message` to SQLite.
pub fn keep(db: *mut ffi::sqlite3, message: String, thrown: Thrown) {
    let serial = SERIAL.get() + 1;
    SERIAL.set(serial);
    // The old entry is dropped after the borrow ends (its reference is deleted then).
    let old = KEPT.with_borrow_mut(|kept| kept.insert(db as usize, Kept { message, serial, thrown }));
    drop(old);
}

/// The error to report for a statement of `db` that failed with `message`, if
/// a function's failure caused it.
pub fn take(db: *mut ffi::sqlite3, message: &str) -> Option<Error> {
    KEPT.try_with(|kept| {
        let kept = kept.try_borrow().ok()?;
        let entry = kept.get(&(db as usize)).filter(|entry| entry.message == message)?;
        Some(match &entry.thrown {
            Thrown::Js(_) => Error::Js { db: db as usize, serial: entry.serial },
            Thrown::Native(err) => err.clone(),
        })
    })
    .ok()
    .flatten()
}

/// Throws the JS value of failure `serial` of `db` into `env` and stops keeping
/// it; false when it is no longer kept (the caller throws a stand-in).
///
/// # Safety
/// `env` must be the live environment of the current call on this thread.
pub unsafe fn rethrow(env: sys::napi_env, db: usize, serial: u64) -> bool {
    let taken = KEPT.with_borrow_mut(|kept| match kept.get(&db) {
        Some(entry) if entry.serial == serial && matches!(entry.thrown, Thrown::Js(_)) => kept.remove(&db),
        _ => None,
    });
    let Some(Kept { thrown: Thrown::Js(reference), .. }) = taken else { return false };
    // SAFETY: the caller's guarantee; the reference lives in this environment
    // (functions are registered and called on this thread only).
    let js = unsafe { crate::js::Js::from_raw(env) };
    match reference.get(js) {
        // SAFETY: as above; `value` was just read from the reference, and stays
        // alive as the pending exception once the reference is deleted.
        Ok(value) => (unsafe { sys::napi_throw(env, value) }) == sys::Status::napi_ok,
        Err(_) => false,
    }
}

/// Drops the failure kept for a connection that closed.
pub fn forget(db: usize) {
    let old = KEPT.try_with(|kept| kept.try_borrow_mut().ok().and_then(|mut kept| kept.remove(&db)));
    drop(old);
}

/// Drops every kept failure (the environment ends).
pub fn clear_all() {
    let old = KEPT.try_with(|kept| kept.try_borrow_mut().map(|mut kept| std::mem::take(&mut *kept)).ok());
    drop(old);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_error_replaces_only_the_statement_error_it_caused() {
        let db = 0x1000 as *mut ffi::sqlite3;
        let err = Error::type_error("HARDENED_FUNCTION_RESULT", "User-defined function f() returned an invalid value");
        keep(db, err.message().to_string(), Thrown::Native(err.clone()));
        assert_eq!(take(db, "no such table: t"), None);
        assert_eq!(take(0x2000 as *mut ffi::sqlite3, err.message()), None);
        assert_eq!(take(db, err.message()), Some(err.clone()));
        forget(db as usize);
        assert_eq!(take(db, err.message()), None);
    }
}
