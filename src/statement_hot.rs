//! The hot functions (`run`, `get`, `all`, `iterate*`) as plain Node-API
//! callbacks taking a statement's id: napi-rs's generated glue would cost about
//! 200 ns a call. On Bun, src/statement_ffi.rs answers most of these calls first.

use napi::Env;
use napi::sys::{self, napi_value};
use napi_derive::napi;

use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny, RawCallback};
use crate::params_encoded::{self, CallParams};
use crate::statement_class::{NativeStatement, State, UNDEFINED};
use crate::statement_ids::{not_a_statement, with_state};
use crate::values::{self, Sink};

#[napi]
impl NativeStatement {
    /// The hot functions, taking a statement's `id` first: `run(id, ...params)`
    /// (its result goes to the scratch buffer), `get(id, collect, ...params)`,
    /// `all(id, collect, ...params)`, `iterateStart(id, ...params)`,
    /// `iterateNext(id, collect)`, `iterateEnd(id)` (stops an iteration early and
    /// resets the statement). With `stringsAsBytes`, result strings reach JS as
    /// bytes in the scratch buffer rather than as `collect`'s arguments.
    #[napi(ts_args_type = "stringsAsBytes: boolean", ts_return_type = "Record<string, (...args: unknown[]) => unknown>")]
    pub fn hot_functions(env: Env, strings_as_bytes: bool) -> napi::Result<JsAny> {
        values::set_strings_as_bytes(strings_as_bytes);
        let functions: [(&std::ffi::CStr, RawCallback); 6] = [
            (c"run", hot_run),
            (c"get", hot_get),
            (c"all", hot_all),
            (c"iterateStart", hot_iterate_start),
            (c"iterateNext", hot_iterate_next),
            (c"iterateEnd", hot_iterate_end),
        ];
        let js = Js::new(&env);
        to_js(&env, js.object().and_then(|object| js.define_methods(object, &functions).map(|()| JsAny(object))))
    }
}

/// Runs a hot function as a plain Node-API callback. napi-rs's generated glue
/// costs about 200 ns a call (a borrow scope with a registry lock, a type-tag
/// check, an unwrap, argument conversion); this finds the statement by the id in
/// the first argument, and borrows its state mutably (so a reentrant call on the
/// same statement fails instead of aliasing it). `function` gets the arguments
/// after the id, and the count of parameter values JS encoded into the scratch
/// buffer instead (see src/params_encoded.rs).
fn call_hot(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    function: fn(&mut State, Js, &[napi_value], Option<usize>) -> Result<napi_value>,
) -> napi_value {
    // SAFETY: `env` is the environment Node-API passed to the running callback.
    let js = unsafe { Js::from_raw(env) };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<napi_value> {
        // Taken first, so that a call failing below leaves no values behind for the next.
        let encoded = params_encoded::take(js)?;
        let mut inline = [std::ptr::null_mut(); 8];
        let (_, argc) = js.callback_args(info, &mut inline)?;
        let mut spilled = Vec::new();
        let args = if argc <= inline.len() {
            &inline[..argc]
        } else {
            spilled.resize(argc, std::ptr::null_mut());
            js.callback_args(info, &mut spilled)?;
            &spilled[..]
        };
        let (&id, rest) = args.split_first().ok_or_else(not_a_statement)?;
        let id = js.number(id).map_err(|_| not_a_statement())?;
        // `with_state` holds the state's `Rc`, alive even if the statement is collected meanwhile.
        with_state(id, |state| {
            state.inner.connection_idle()?;
            crate::functions::scratch_guard::before_hot_call(js)?;
            // Dropped before the state's borrow ends: a deferred close finalizes
            // the statement while nothing uses its handle any more.
            let call = state.inner.active_call();
            let result = call.timed(|| function(state, js, rest, encoded));
            let restored = state.inner.restore_busy_handler();
            result.and_then(|value| restored.map(|()| value))
        })
    }));
    let napi_env = Env::from_raw(env);
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            error.throw(&napi_env);
            std::ptr::null_mut()
        }
        Err(_) => {
            Error::hardened("HARDENED_PANIC", "hardened-sqlite panicked; please report this as a bug").throw(&napi_env);
            std::ptr::null_mut()
        }
    }
}

/// Splits off the leading `collect` argument; the rest and `encoded` are the
/// call's parameter values.
fn with_collect(args: &[napi_value], encoded: Option<usize>) -> Result<(napi_value, CallParams<'_>)> {
    let (&collect, rest) = args
        .split_first()
        .ok_or_else(|| Error::type_error("HARDENED_INVALID_ARGUMENT", "A row collector function is required"))?;
    Ok((collect, CallParams::new(rest, encoded)?))
}

unsafe extern "C" fn hot_run(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        stmt.run_once(js, CallParams::new(args, encoded)?).map(|()| UNDEFINED)
    })
}

unsafe extern "C" fn hot_get(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        with_collect(args, encoded).and_then(|(collect, params)| stmt.get_row(js, collect, params))
    })
}

unsafe extern "C" fn hot_all(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        with_collect(args, encoded).and_then(|(collect, params)| stmt.all_rows(js, collect, params))
    })
}

unsafe extern "C" fn hot_iterate_start(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        stmt.iterate_begin(js, CallParams::new(args, encoded)?).map(|()| UNDEFINED)
    })
}

unsafe extern "C" fn hot_iterate_next(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, _| {
        let (collect, _) = with_collect(args, None)?;
        stmt.next_rows(Sink::NodeApi(js, collect)).map(|_| UNDEFINED)
    })
}

unsafe extern "C" fn hot_iterate_end(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, _, _, _| {
        stmt.end_iteration();
        Ok(UNDEFINED)
    })
}
