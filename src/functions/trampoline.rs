//! The one guarded way SQLite calls into JS (user-defined functions and
//! aggregates, virtual tables; later progress and busy callbacks).
//!
//! [`run`] catches panics, refuses to call JS when the environment is tearing
//! down, the connection closed or SQLite is finalizing (which may happen in a
//! garbage collector's finalizer: see [`quiet`]), marks the connection busy
//! (it refuses every other use until the function returns, so a function
//! cannot close it or run its statements mid-step), keeps the scratch buffer
//! of the outer call, and turns a JS exception or an error into a failed
//! statement whose caller rethrows it (see [`super::failure`]).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use napi::sys::napi_value;
use rusqlite::ffi;

use super::env::{self, JsRef};
use super::failure::{self, Thrown};
use super::napi_raw::{self, Called};
use super::registry::Registered;
use super::scratch_guard::Frame;
use crate::connection::Shared;
use crate::errors::Error;
use crate::js::Js;

/// Why a call did not complete.
pub enum Failure {
    /// The JS function threw this value.
    Js(napi_value),
    /// The library refused (an invalid result, a Node-API failure, ...).
    Native(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Native(err)
    }
}

/// What a callback body gets: the environment and the registration.
pub struct Call<'a> {
    /// The environment the function was registered in (alive).
    pub js: Js,
    /// The registration SQLite passed.
    pub registered: &'a Registered,
}

impl Call<'_> {
    /// Calls the JS function held by `function` with `args`; its exception becomes a [`Failure::Js`].
    pub fn call(&self, function: &JsRef, args: &[napi_value]) -> Result<napi_value, Failure> {
        match napi_raw::call(self.js, function.get(self.js)?, args)? {
            Called::Returned(value) => Ok(value),
            Called::Threw(value) => Err(Failure::Js(value)),
        }
    }
}

thread_local! {
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// While alive, functions do not call JS (SQLite is finalizing a statement,
/// which may end an aggregate midway; this may run in a garbage collector's
/// finalizer, where JS must not run).
pub struct Quiet(());

/// Whether a [`Quiet`] period is on (callbacks must not call JS).
pub fn is_quiet() -> bool {
    QUIET.get() > 0
}

/// Starts a [`Quiet`] period.
pub fn quiet() -> Quiet {
    QUIET.set(QUIET.get() + 1);
    Quiet(())
}

impl Drop for Quiet {
    fn drop(&mut self) {
        QUIET.set(QUIET.get().saturating_sub(1));
    }
}

/// The registration SQLite passes to the callbacks of `ctx`.
///
/// # Safety
/// `ctx` must be the context of a callback of a function registered by `super::register`.
pub unsafe fn registered<'a>(ctx: *mut ffi::sqlite3_context) -> &'a Registered {
    // SAFETY: the user data is the `Registered` given at registration; SQLite destroys
    // it (`x_destroy`) only when no call of the function is running.
    unsafe { &*ffi::sqlite3_user_data(ctx).cast::<Registered>() }
}

/// Whether the function may call JS now; the connection if so.
pub fn may_call_js(registered: &Registered) -> Result<Rc<Shared>, Error> {
    if !env::is_alive(registered.env) {
        return Err(Error::hardened(
            "HARDENED_ENVIRONMENT_ENDING",
            format!("{} was not called: its JavaScript environment is shutting down", registered.label()),
        ));
    }
    if QUIET.get() > 0 {
        return Err(Error::hardened(
            "HARDENED_INTERNAL",
            format!("{} was not called: SQLite is finalizing the statement", registered.label()),
        ));
    }
    match registered.shared.upgrade() {
        Some(shared) if shared.is_open() => Ok(shared),
        _ => Err(Error::not_open()),
    }
}

/// Marks the connection busy while a function (or the update hook) runs JS.
pub struct Busy(Rc<Shared>);

impl Busy {
    /// Marks `shared` busy until the returned guard drops.
    pub fn enter(shared: Rc<Shared>) -> Busy {
        shared.callbacks.set(shared.callbacks.get() + 1);
        Busy(shared)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.callbacks.set(self.0.callbacks.get().saturating_sub(1));
    }
}

/// Runs `body` for the callback of `ctx` under every guard (see the module
/// docs); a failure fails the statement and is kept for its caller.
///
/// # Safety
/// `ctx` must be the context of a running callback of a function registered by
/// `super::register`.
pub unsafe fn run(ctx: *mut ffi::sqlite3_context, body: impl FnOnce(&Call) -> Result<(), Failure>) {
    // SAFETY: the caller's guarantee.
    let registered = unsafe { registered(ctx) };
    // SAFETY: `ctx` is a live context.
    let db = unsafe { ffi::sqlite3_context_db_handle(ctx) };
    // SAFETY: `registered` is live for the call and `db` is its connection.
    if let Err(message) = unsafe { guard(registered, db, body) } {
        // SAFETY: `ctx` is live; SQLite copies the message (its length is given).
        unsafe { ffi::sqlite3_result_error(ctx, message.as_ptr().cast(), message.len() as i32) };
    }
}

/// Runs `body` under every guard (see the module docs) for any callback of
/// `registered` on connection `db` (a function, or a virtual table's
/// xConnect/xFilter/xNext/xColumn). On failure the failure is kept for the
/// statement's caller and the message to report to SQLite is returned.
///
/// # Safety
/// `registered` must stay alive for the call, and `db` be the open connection
/// SQLite runs the callback for.
pub unsafe fn guard(
    registered: &Registered,
    db: *mut ffi::sqlite3,
    body: impl FnOnce(&Call) -> Result<(), Failure>,
) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), Thrown> {
        let shared = may_call_js(registered).map_err(Thrown::Native)?;
        // SAFETY: `may_call_js` checked the environment is alive, and SQLite calls
        // functions on the thread that registered them (connections never leave it).
        let js = unsafe { Js::from_raw(registered.env) };
        let scope = js.escapable_scope().map_err(Thrown::Native)?;
        let _busy = Busy::enter(shared);
        let frame = Frame::enter();
        let result = body(&Call { js, registered });
        // A Node-API call that failed may have left an exception pending: it wins.
        let pending = napi_raw::take_exception(js).ok().flatten();
        let failure = match (result, pending) {
            (_, Some(thrown)) => Some(Failure::Js(thrown)),
            (Err(failure), None) => Some(failure),
            (Ok(()), None) => None,
        };
        // The outer call's rows go back in the buffer before SQLite goes on.
        drop(frame);
        let kept = failure.map(|failure| match failure {
            Failure::Js(value) => JsRef::boxed(js, value).map_or_else(Thrown::Native, Thrown::Js),
            Failure::Native(err) => Thrown::Native(err),
        });
        drop(scope);
        kept.map_or(Ok(()), Err)
    }));
    let thrown = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(thrown)) => thrown,
        Err(_) => Thrown::Native(Error::hardened(
            "HARDENED_PANIC",
            format!("hardened-sqlite panicked in {}; please report this as a bug", registered.label()),
        )),
    };
    let message = match &thrown {
        Thrown::Js(_) => format!("{} threw an exception", registered.label()),
        Thrown::Native(err) => err.message().to_string(),
    };
    failure::keep(db, message.clone(), thrown);
    Err(message)
}
