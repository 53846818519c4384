//! `NativeDatabase.createFunction()` and `createAggregate()`: registering JS
//! functions with SQLite. lib/functions.js checks the arguments as
//! better-sqlite3 does and calls these.

use std::ffi::CString;
use std::rc::Rc;

use napi::Env;
use napi_derive::napi;
use rusqlite::ffi;

use super::env::{self, JsRef};
use super::registry::{self, Aggregate, Callbacks, Registered, Start};
use super::{aggregate, napi_raw, scalar};
use crate::connection::{Shared, last_error};
use crate::database::NativeDatabase;
use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};

/// Longest function name SQLite accepts, in UTF-8 bytes.
const MAX_NAME_BYTES: usize = 255;

/// How a function behaves, as SQLite flags and argument conversion.
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct FunctionFlags {
    /// INTEGER arguments arrive as bigint; `undefined`: the database's default at registration.
    pub safe_integers: Option<bool>,
    /// Same arguments, same result (`SQLITE_DETERMINISTIC`): usable in indexes and CHECK.
    pub deterministic: bool,
    /// Only top-level SQL may call it, never a view, trigger or schema (`SQLITE_DIRECTONLY`).
    pub direct_only: bool,
    /// Harmless even if the schema is hostile (`SQLITE_INNOCUOUS`): views, triggers,
    /// CHECK constraints and defaults may call it although `trusted_schema` is off.
    pub innocuous: bool,
}

impl FunctionFlags {
    fn text_rep(&self) -> Result<i32> {
        if self.innocuous && self.direct_only {
            return Err(Error::type_error(
                "HARDENED_INVALID_ARGUMENT",
                "A function cannot be both directOnly and innocuous: pick one",
            ));
        }
        let mut flags = ffi::SQLITE_UTF8;
        if self.deterministic {
            flags |= ffi::SQLITE_DETERMINISTIC;
        }
        if self.direct_only {
            flags |= ffi::SQLITE_DIRECTONLY;
        }
        if self.innocuous {
            flags |= ffi::SQLITE_INNOCUOUS;
        }
        Ok(flags)
    }
}

/// What every registration checks and needs: the connection idle and without
/// a running statement, a valid name, the teardown hook.
fn prepare(js: Js, shared: &Rc<Shared>, name: &str) -> Result<(*mut ffi::sqlite3, CString)> {
    crate::idle::require_idle(shared)?;
    let db = shared.handle()?;
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::range(
            "HARDENED_INVALID_ARGUMENT",
            format!("User-defined function names are at most {MAX_NAME_BYTES} bytes of UTF-8; shorten \"{name}\""),
        ));
    }
    let c_name = CString::new(name).map_err(|_| {
        Error::type_error("HARDENED_INVALID_ARGUMENT", "The function name contains a NUL character")
    })?;
    env::ensure_teardown_hook(js)?;
    Ok((db, c_name))
}

fn registered(js: Js, shared: &Rc<Shared>, name: String, flags: &FunctionFlags, callbacks: Callbacks) -> Registered {
    shared.calls_js.set(true);
    Registered {
        env: js.raw_env(),
        name,
        shared: Rc::downgrade(shared),
        safe_integers: flags.safe_integers.unwrap_or_else(|| shared.default_safe_integers.get()),
        face: shared.face.get(),
        callbacks,
    }
}

fn check_rc(db: *mut ffi::sqlite3, rc: i32, name: &str) -> Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    Err(last_error(db, rc).context(format!("Registering user-defined function {name}()")))
}

fn function_ref(js: Js, value: JsAny, what: &str) -> Result<JsRef> {
    if !napi_raw::is_function(js, value.0)? {
        return Err(Error::type_error("HARDENED_INVALID_ARGUMENT", format!("Expected {what} to be a function")));
    }
    JsRef::new(js, value.0)
}

#[napi]
impl NativeDatabase {
    /// Registers (or replaces) the SQL function `name` taking `argCount`
    /// arguments (-1: any number) that calls `func`.
    #[napi(ts_args_type = "name: string, func: (...args: any[]) => unknown, argCount: number, flags: FunctionFlags")]
    pub fn create_function(&self, env: Env, name: String, func: JsAny, arg_count: i32, flags: FunctionFlags) -> napi::Result<()> {
        let js = Js::new(&env);
        let created = (|| {
            let (db, c_name) = prepare(js, &self.shared, &name)?;
            let text_rep = flags.text_rep()?;
            let callbacks = Callbacks::Scalar(function_ref(js, func, "the function")?);
            let data = registered(js, &self.shared, name.clone(), &flags, callbacks).into_user_data();
            // SAFETY: `db` is open; `c_name` outlives the call; `data` is a
            // `Registered` that SQLite owns from here and frees with `x_destroy`
            // (also if this fails).
            let rc = unsafe {
                ffi::sqlite3_create_function_v2(
                    db,
                    c_name.as_ptr(),
                    arg_count,
                    text_rep,
                    data,
                    Some(scalar::x_func),
                    None,
                    None,
                    Some(registry::x_destroy),
                )
            };
            check_rc(db, rc, &name)
        })();
        to_js(&env, created)
    }

    /// Registers (or replaces) the SQL aggregate `name`: a window function
    /// too when `inverse` is given. `start` is the first accumulator, or a
    /// function returning it when `startIsFunction`.
    #[napi(
        ts_args_type = "name: string, start: unknown, startIsFunction: boolean, step: (...args: any[]) => unknown, inverse: ((...args: any[]) => unknown) | null, result: ((acc: any) => unknown) | null, argCount: number, flags: FunctionFlags"
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn create_aggregate(
        &self,
        env: Env,
        name: String,
        start: JsAny,
        start_is_function: bool,
        step: JsAny,
        inverse: Option<JsAny>,
        result: Option<JsAny>,
        arg_count: i32,
        flags: FunctionFlags,
    ) -> napi::Result<()> {
        let js = Js::new(&env);
        let created = (|| {
            let (db, c_name) = prepare(js, &self.shared, &name)?;
            let text_rep = flags.text_rep()?;
            let window = inverse.is_some();
            let aggregate = Aggregate {
                start: if start_is_function {
                    Start::Call(function_ref(js, start, "the \"start\" option")?)
                } else {
                    Start::Value(JsRef::boxed(js, start.0)?)
                },
                step: function_ref(js, step, "the \"step\" option")?,
                inverse: inverse.map(|f| function_ref(js, f, "the \"inverse\" option")).transpose()?,
                result: result.map(|f| function_ref(js, f, "the \"result\" option")).transpose()?,
            };
            let data = registered(js, &self.shared, name.clone(), &flags, Callbacks::Aggregate(aggregate)).into_user_data();
            // SAFETY: as in `create_function`; the window callbacks are given only
            // with `inverse`, so SQLite refuses OVER (...) for a plain aggregate.
            let rc = unsafe {
                ffi::sqlite3_create_window_function(
                    db,
                    c_name.as_ptr(),
                    arg_count,
                    text_rep,
                    data,
                    Some(aggregate::x_step),
                    Some(aggregate::x_final),
                    if window { Some(aggregate::x_value) } else { None },
                    if window { Some(aggregate::x_inverse) } else { None },
                    Some(registry::x_destroy),
                )
            };
            check_rc(db, rc, &name)
        })();
        to_js(&env, created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_sqlite_and_refuse_direct_only_with_innocuous() {
        let flags = FunctionFlags { deterministic: true, innocuous: true, ..Default::default() };
        assert_eq!(flags.text_rep().unwrap(), ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS);
        let both = FunctionFlags { direct_only: true, innocuous: true, ..Default::default() };
        assert_eq!(both.text_rep().unwrap_err().code(), "HARDENED_INVALID_ARGUMENT");
    }

}
