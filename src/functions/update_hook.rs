//! `sqlite3_update_hook` for the bun face's `db.onInsert`, `db.onUpdate` and
//! `db.onDelete`: SQLite calls one JS dispatcher (lib/bun/update-hooks.js)
//! for each row a statement of the connection inserts, updates or deletes,
//! while the statement runs.
//!
//! The dispatcher runs under the guards of user-defined functions (see
//! [`super::trampoline`]): never while the environment tears down or SQLite
//! finalizes, the connection busy meanwhile (every other use of it throws),
//! the outer call's row buffer kept. It cannot fail the statement: the
//! dispatcher reports what a hook threw itself, and anything left is dropped.
//! SQLite is handed the connection's address, not a pointer: the hook is
//! looked up per call, so replacing it from inside a call frees nothing in use.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};

use napi::Env;
use napi::sys;
use napi_derive::napi;
use rusqlite::ffi;

use super::env::{self, JsRef};
use super::napi_raw;
use super::scratch_guard::Frame;
use super::trampoline;
use crate::connection::Shared;
use crate::database::NativeDatabase;
use crate::errors::{Result, to_js};
use crate::js::{Js, JsAny};

/// The dispatcher of one connection.
struct Hook {
    env: sys::napi_env,
    dispatch: JsRef,
    shared: Weak<Shared>,
}

thread_local! {
    /// The dispatchers by connection address (connections never leave their thread).
    static HOOKS: RefCell<HashMap<usize, Rc<Hook>>> = RefCell::new(HashMap::new());
}

/// Drops the dispatcher of the connection at `handle` (it closed).
pub fn forget(handle: usize) {
    // Taken out first: dropping it deletes a reference, outside the borrow.
    let hook = HOOKS.with_borrow_mut(|hooks| hooks.remove(&handle));
    drop(hook);
}

#[napi]
impl NativeDatabase {
    /// Sets `dispatch(op, schema, table, rowid)` as the connection's update
    /// hook (`op`: 18 insert, 23 update, 9 delete; `rowid` a bigint), or
    /// removes it with `null`. Refused while a callback of the connection runs.
    #[napi(ts_args_type = "dispatch: ((op: number, schema: string, table: string, rowid: bigint) => void) | null")]
    pub fn set_update_hook(&self, env: Env, dispatch: Option<JsAny>) -> napi::Result<()> {
        let js = Js::new(&env);
        let set = (|| -> Result<()> {
            self.shared.ensure_idle()?;
            let db = self.shared.handle()?;
            let handle = db as usize;
            let previous = match dispatch {
                Some(dispatch) => {
                    env::ensure_teardown_hook(js)?;
                    self.shared.calls_js.set(true);
                    let hook = Hook { env: js.raw_env(), dispatch: JsRef::new(js, dispatch.0)?, shared: Rc::downgrade(&self.shared) };
                    let previous = HOOKS.with_borrow_mut(|hooks| hooks.insert(handle, Rc::new(hook)));
                    // SAFETY: `db` is open; the argument is only an address, read back by `on_change`.
                    unsafe { ffi::sqlite3_update_hook(db, Some(on_change), handle as *mut c_void) };
                    previous
                }
                None => {
                    // SAFETY: `db` is open; this removes the hook.
                    unsafe { ffi::sqlite3_update_hook(db, None, std::ptr::null_mut()) };
                    HOOKS.with_borrow_mut(|hooks| hooks.remove(&handle))
                }
            };
            drop(previous);
            Ok(())
        })();
        to_js(&env, set)
    }
}

/// SQLite's update hook: calls the connection's dispatcher under the guards.
unsafe extern "C" fn on_change(arg: *mut c_void, op: c_int, schema: *const c_char, table: *const c_char, rowid: i64) {
    // Nothing may unwind into SQLite.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let Some(hook) = HOOKS.with_borrow(|hooks| hooks.get(&(arg as usize)).cloned()) else { return };
        if !env::is_alive(hook.env) || trampoline::is_quiet() {
            return;
        }
        let Some(shared) = hook.shared.upgrade().filter(|shared| shared.is_open()) else { return };
        // SAFETY: SQLite passes NUL-terminated names that live for the call.
        let (schema, table) = unsafe { (CStr::from_ptr(schema), CStr::from_ptr(table)) };
        // SAFETY: the environment is alive, and SQLite calls the hook on the thread
        // that set it (connections never leave it).
        let js = unsafe { Js::from_raw(hook.env) };
        let Ok(scope) = js.escapable_scope() else { return };
        let _busy = trampoline::Busy::enter(shared);
        let frame = Frame::enter();
        let called = (|| -> Result<()> {
            let args = [napi_raw::double(js, f64::from(op))?, js.str_bytes(schema.to_bytes())?, js.str_bytes(table.to_bytes())?, napi_raw::bigint(js, rowid)?];
            napi_raw::call(js, hook.dispatch.get(js)?, &args)?;
            Ok(())
        })();
        // The dispatcher reports what a hook threw; an exception left (a failed
        // Node-API call) cannot fail the statement and is dropped.
        let _ = called;
        let _ = napi_raw::take_exception(js);
        drop(frame);
        drop(scope);
    }));
}
