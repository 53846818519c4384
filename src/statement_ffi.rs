//! `run()` as a plain C function that Bun calls through bun:ffi (lib/ffi.js).
//! JavaScriptCore calls it for about 5 ns, where a Node-API call costs Bun about
//! 80 ns (an empty hot call, 2026-11-30); a 100-insert transaction makes a
//! hundred of them. It takes the statement's id and finds its values encoded in
//! the scratch buffer (src/params_encoded.rs), so it makes no Node-API call at
//! all: it may not, since it runs outside any Node-API callback.
//!
//! Whatever it cannot do without Node-API it leaves alone and answers
//! [`FALLBACK`], having changed nothing, and JS makes the Node-API call: a
//! connection with a user-defined function, virtual table or update hook (SQLite
//! may call JS while stepping), a call made from inside such a function, values
//! passed as arguments, a busy or unknown statement. An error is kept and JS
//! throws it through [`NativeStatement::throw_ffi_failure`].

use std::cell::RefCell;

use napi::Env;
use napi_derive::napi;

use crate::errors::{Error, Result, to_js};
use crate::params_encoded;
use crate::statement_class::{NativeStatement, live_state};
use crate::values;

/// The statement ran; its result is in the scratch buffer.
pub const DONE: i32 = 0;
/// Nothing was done: make the Node-API call instead.
pub const FALLBACK: i32 = 1;
/// The call failed: `NativeStatement.throwFfiFailure()` throws its error.
pub const FAILED: i32 = 2;

thread_local! {
    /// The error of the last call that answered [`FAILED`].
    static FAILURE: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// `run()` of live statement `id` with the values encoded for it (or none, when
/// it takes none or has them bound for good); see the module documentation.
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_run(id: u32) -> i32 {
    let outcome = std::panic::catch_unwind(|| run(id as usize));
    let failure = match outcome {
        Ok(Ok(code)) => return code,
        Ok(Err(error)) => error,
        Err(_) => Error::hardened("HARDENED_PANIC", "hardened-sqlite panicked; please report this as a bug"),
    };
    FAILURE.set(Some(failure));
    FAILED
}

fn run(id: usize) -> Result<i32> {
    let Some(data) = values::scratch_if_created() else { return Ok(FALLBACK) };
    if crate::functions::scratch_guard::in_callback() {
        // The Node-API call saves the scratch buffer of the running function first.
        return Ok(FALLBACK);
    }
    let Some(state) = live_state(id) else { return Ok(FALLBACK) };
    let Ok(mut state) = state.try_borrow_mut() else { return Ok(FALLBACK) };
    if state.inner.connection_calls_js() {
        return Ok(FALLBACK);
    }
    let encoded = params_encoded::take_from(data)?;
    if encoded.is_none() && !state.inner.params.is_empty() && !state.inner.bound {
        // Values come as arguments, or (the bun face) stay bound from the last call.
        return Ok(FALLBACK);
    }
    state.inner.connection_idle()?;
    // Declared after `state`, so dropped first (see `call_hot`).
    let call = state.inner.active_call();
    let result = call.timed(|| {
        // As in better-sqlite3, run() waits for open iterators whatever the statement.
        state.inner.require_may_run(true)?;
        let raw = state.start_binding(encoded.is_some(), |stmt, raw| match encoded {
            Some(count) => params_encoded::bind(data, stmt, raw, count),
            None => Ok(()),
        })?;
        state.run_to_end(raw)
    });
    let restored = state.inner.restore_busy_handler();
    let (changes, rowid) = result?;
    restored?;
    values::put_run_result(data, changes, rowid, state.inner.safe_integers);
    Ok(DONE)
}

#[napi]
impl NativeStatement {
    /// Throws the error of the bun:ffi call that answered `FAILED`.
    #[napi]
    pub fn throw_ffi_failure(env: Env) -> napi::Result<()> {
        let failure = FAILURE.take().unwrap_or_else(|| {
            Error::hardened("HARDENED_INTERNAL", "A bun:ffi call failed without an error; please report this as a bug")
        });
        to_js(&env, Err(failure))
    }

    /// The path of this native library, for bun:ffi to open it again
    /// (lib/ffi.js); `null` when the loader cannot tell.
    #[napi]
    pub fn library_path() -> Option<String> {
        // SAFETY: `dladdr` only reads the address and fills `info`, a zeroed
        // plain C struct; `dli_fname`, when set, is a NUL-terminated string
        // that lives as long as the library stays loaded (it is, as this runs).
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let symbol = hardened_sqlite_ffi_run as *const libc::c_void;
            if libc::dladdr(symbol, &mut info) == 0 || info.dli_fname.is_null() {
                return None;
            }
            std::ffi::CStr::from_ptr(info.dli_fname).to_str().ok().map(str::to_owned)
        }
    }
}
