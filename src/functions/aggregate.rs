//! SQLite's callbacks of a user-defined aggregate (`db.aggregate()`), which is
//! a window function too when it has `inverse`.
//!
//! Each group's accumulator lives in SQLite's aggregate context as a
//! reference to a JS value, made on the first call (`start`, called or
//! copied) and released by the final call. After a callback failed, the
//! accumulator is released and the group's later calls do nothing, as in
//! better-sqlite3. For a window function, `xValue` gives each row's result
//! and `xFinal` only releases.

use std::ptr;

use napi::sys;
use rusqlite::ffi;

use super::convert;
use super::env;
use super::registry::{Aggregate, Callbacks, Registered, Start};
use super::trampoline::{self, Call, Failure};
use crate::errors::Error;

/// A group's state, in memory SQLite zeroes (all-zero is "not started").
#[repr(C)]
struct Accumulator {
    /// A reference to a one-element array holding the current value (see
    /// `env::boxed`); null once released (or after a failure).
    value: sys::napi_ref,
    started: bool,
    /// `xValue` was called: this is a window, and `xFinal` only releases.
    window: bool,
}

fn callbacks(registered: &Registered) -> Result<&Aggregate, Failure> {
    match &registered.callbacks {
        Callbacks::Aggregate(aggregate) => Ok(aggregate),
        _ => Err(Failure::Native(Error::hardened("HARDENED_INTERNAL", "an aggregate call reached another registration"))),
    }
}

/// The group's accumulator, started if new; `None` after an earlier failure.
///
/// # Safety
/// `ctx` must be the live context of an aggregate callback.
unsafe fn accumulator<'a>(call: &Call, ctx: *mut ffi::sqlite3_context) -> Result<Option<&'a mut Accumulator>, Failure> {
    // SAFETY: `ctx` is live; SQLite returns zeroed memory of the size asked, the
    // same for every call of this group, and frees it after `xFinal`.
    let acc = unsafe { ffi::sqlite3_aggregate_context(ctx, std::mem::size_of::<Accumulator>() as i32) };
    if acc.is_null() {
        return Err(Failure::Native(Error::Sqlite { code: ffi::SQLITE_NOMEM, message: "out of memory".into() }));
    }
    // SAFETY: as above; all-zero is a valid `Accumulator`, and only this group's
    // callbacks (one at a time, on this thread) use it.
    let acc = unsafe { &mut *acc.cast::<Accumulator>() };
    if !acc.started {
        acc.started = true;
        let seed = match &callbacks(call.registered)?.start {
            Start::Call(start) => call.call(start, &[])?,
            Start::Value(value) => value.get(call.js)?,
        };
        acc.value = env::boxed(call.js, seed)?;
    }
    Ok((!acc.value.is_null()).then_some(acc))
}

/// Releases the accumulator's value (the group is done, or failed).
fn release(env: sys::napi_env, acc: &mut Accumulator) {
    let value = std::mem::replace(&mut acc.value, ptr::null_mut());
    if !value.is_null() && env::is_alive(env) {
        // SAFETY: the reference was made in `env`, which is alive, and was just
        // taken out of the accumulator, so it is deleted once.
        unsafe { sys::napi_delete_reference(env, value) };
    }
}

/// Runs `f` on the accumulator, releasing it if `f` fails.
fn with_accumulator(
    call: &Call,
    acc: &mut Accumulator,
    f: impl FnOnce(&mut Accumulator) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let result = f(acc);
    if result.is_err() {
        release(call.registered.env, acc);
    }
    result
}

/// `step` or `inverse` with the accumulator and the row's arguments; a
/// returned value other than `undefined` becomes the accumulator.
unsafe fn step_with(
    ctx: *mut ffi::sqlite3_context,
    argc: i32,
    argv: *mut *mut ffi::sqlite3_value,
    pick: fn(&Aggregate) -> Option<&super::env::JsRef>,
) {
    // SAFETY: SQLite calls this only for aggregates `register` created, passing
    // `argc` live arguments at `argv`.
    unsafe {
        trampoline::run(ctx, |call| {
            let registered = call.registered;
            let Some(function) = pick(callbacks(registered)?) else {
                return Err(Failure::Native(Error::hardened("HARDENED_INTERNAL", "an inverse call without inverse()")));
            };
            let Some(acc) = accumulator(call, ctx)? else { return Ok(()) };
            with_accumulator(call, acc, |acc| {
                let mut args = Vec::with_capacity(argc.max(0) as usize + 1);
                args.push(env::unbox(call.js, acc.value)?);
                convert::arguments(call.js, argc, argv, registered, &mut args)?;
                let next = call.call(function, &args)?;
                if call.js.kind(next)? != crate::js::Kind::Undefined {
                    env::rebox(call.js, acc.value, next)?;
                }
                Ok(())
            })
        })
    }
}

/// `xStep`: one more row in the group (or window).
pub unsafe extern "C" fn x_step(ctx: *mut ffi::sqlite3_context, argc: i32, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: forwarded from SQLite's call.
    unsafe { step_with(ctx, argc, argv, |aggregate| Some(&aggregate.step)) }
}

/// `xInverse`: a row leaves the window.
pub unsafe extern "C" fn x_inverse(ctx: *mut ffi::sqlite3_context, argc: i32, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: forwarded from SQLite's call.
    unsafe { step_with(ctx, argc, argv, |aggregate| aggregate.inverse.as_ref()) }
}

/// `xValue`: the window's current result.
pub unsafe extern "C" fn x_value(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: forwarded from SQLite's call.
    unsafe { value_with(ctx, false) }
}

/// `xFinal`: the group's result (not for a window, whose rows had theirs);
/// always releases the accumulator, even when JS may not run any more.
pub unsafe extern "C" fn x_final(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: forwarded from SQLite's call.
    unsafe {
        let registered = trampoline::registered(ctx);
        if trampoline::may_call_js(registered).is_ok() {
            value_with(ctx, true);
        }
        // Asking for no bytes allocates nothing: null if the group never started.
        let acc = ffi::sqlite3_aggregate_context(ctx, 0);
        if !acc.is_null() {
            release(registered.env, &mut *acc.cast::<Accumulator>());
        }
    }
}

unsafe fn value_with(ctx: *mut ffi::sqlite3_context, is_final: bool) {
    // SAFETY: SQLite calls this only for aggregates `register` created.
    unsafe {
        trampoline::run(ctx, |call| {
            let registered = call.registered;
            let aggregate = callbacks(registered)?;
            let Some(acc) = accumulator(call, ctx)? else { return Ok(()) };
            if !is_final {
                acc.window = true;
            } else if acc.window {
                release(registered.env, acc);
                return Ok(());
            }
            let result = with_accumulator(call, acc, |acc| {
                let mut value = env::unbox(call.js, acc.value)?;
                if let Some(result) = &aggregate.result {
                    value = call.call(result, &[value])?;
                }
                convert::set_result(call.js, ctx, value, registered)?;
                Ok(())
            });
            if is_final {
                release(registered.env, acc);
            }
            result
        })
    }
}
