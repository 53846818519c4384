//! `run()` and `get()` as plain C functions that Bun calls through bun:ffi (lib/ffi.js).
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
//! passed as arguments, a busy or unknown statement; for `get()`, a statement
//! that writes (`... RETURNING`). A `get()` whose row holds a value that must
//! become a JS value through Node-API (a string or BLOB over 64 KiB) resets the
//! read-only statement and answers [`RETRY`]: JS runs it again through Node-API.
//! An error is kept and JS throws it through [`NativeStatement::throw_ffi_failure`].

use std::cell::RefCell;
use std::rc::Rc;

use napi::Env;
use napi_derive::napi;
use rusqlite::ffi;

use crate::errors::{Error, Result, to_js};
use crate::params_encoded;
use crate::statement::Statement;
use crate::statement_class::{NativeStatement, State, live_state};
use crate::values::{self, RowWriter};

/// The statement ran; its result is in the scratch buffer.
pub const DONE: i32 = 0;
/// Nothing was done, the encoded values still wait: make the Node-API call without arguments.
pub const FALLBACK: i32 = 1;
/// The call failed: `NativeStatement.throwFfiFailure()` throws its error.
pub const FAILED: i32 = 2;
/// A value of the row needed Node-API: the statement was reset, its encoded
/// values are used up; make the Node-API call with the values as arguments.
pub const RETRY: i32 = 3;

thread_local! {
    /// The error of the last call that answered [`FAILED`].
    static FAILURE: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// `run()` of live statement `id` with the values encoded for it (or none, when
/// it takes none or has them bound for good); see the module documentation.
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_run(id: u32) -> i32 {
    answer(|| run(id as usize))
}

/// `get()` of live statement `id`, as [`hardened_sqlite_ffi_run`]; the row (or
/// none) waits in the scratch buffer. Only a read-only statement, which may run
/// again through Node-API after a value needed it ([`RETRY`]).
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_get(id: u32) -> i32 {
    answer(|| get(id as usize))
}

/// The code for `call`'s outcome; an error (or a panic) is kept for JS.
fn answer(call: impl FnOnce() -> Result<i32> + std::panic::UnwindSafe) -> i32 {
    let failure = match std::panic::catch_unwind(call) {
        Ok(Ok(code)) => return code,
        Ok(Err(error)) => error,
        Err(_) => Error::hardened("HARDENED_PANIC", "hardened-sqlite panicked; please report this as a bug"),
    };
    FAILURE.set(Some(failure));
    FAILED
}

/// The scratch memory and the state of statement `id`, when a bun:ffi call may
/// run it: not from inside a user-defined function (the Node-API call saves the
/// scratch buffer first), and the statement known.
fn ready(id: usize) -> Option<(*mut u8, Rc<RefCell<State>>)> {
    let data = values::scratch_if_created()?;
    if crate::functions::scratch_guard::in_callback() {
        return None;
    }
    Some((data, live_state(id)?))
}

fn run(id: usize) -> Result<i32> {
    let Some((data, state)) = ready(id) else { return Ok(FALLBACK) };
    let Ok(mut state) = state.try_borrow_mut() else { return Ok(FALLBACK) };
    if state.inner.connection_calls_js() || !values_at_hand(data, &state)? {
        return Ok(FALLBACK);
    }
    let encoded = params_encoded::take_from(data)?;
    state.inner.connection_idle()?;
    // Declared after `state`, so dropped first (see `call_hot`).
    let call = state.inner.active_call();
    let result = call.timed(|| {
        // As in better-sqlite3, run() waits for open iterators whatever the statement.
        state.inner.require_may_run(true)?;
        let raw = state.start_binding(encoded.is_some(), |stmt, raw| bind(data, stmt, raw, encoded))?;
        state.run_to_end(raw)
    });
    let restored = state.inner.restore_busy_handler();
    let (changes, rowid) = result?;
    restored?;
    values::put_run_result(data, changes, rowid, state.inner.safe_integers);
    Ok(DONE)
}

fn get(id: usize) -> Result<i32> {
    if !values::strings_as_bytes() {
        return Ok(FALLBACK); // every string would need Node-API
    }
    let Some((data, state)) = ready(id) else { return Ok(FALLBACK) };
    let Ok(mut state) = state.try_borrow_mut() else { return Ok(FALLBACK) };
    // A statement that writes (`... RETURNING`) must run once: Node-API runs it.
    if state.inner.connection_calls_js() || !matches!(state.inner.readonly(), Ok(true)) || !values_at_hand(data, &state)? {
        return Ok(FALLBACK);
    }
    let encoded = params_encoded::take_from(data)?;
    state.inner.connection_idle()?;
    // Declared after `state`, so dropped first (see `call_hot`).
    let call = state.inner.active_call();
    let result = call.timed(|| {
        state.may_read()?;
        let raw = state.start_binding(encoded.is_some(), |stmt, raw| bind(data, stmt, raw, encoded))?;
        let written = match state.inner.step(raw) {
            Ok(true) => (|| {
                let mut rows = RowWriter::without_node_api(data, &state.inner);
                rows.number(state.inner.layout_id(raw).into())?;
                rows.row(raw, state.inner.column_count(raw), None)?;
                rows.finish()
            })(),
            Ok(false) => {
                values::put_no_rows(data);
                Ok(())
            }
            Err(e) => Err(e),
        };
        state.inner.reset();
        written
    });
    let restored = state.inner.restore_busy_handler();
    match result {
        Err(e) if e.code() == values::NEEDS_NODE_API => {
            restored?;
            Ok(if encoded.is_some() { RETRY } else { FALLBACK })
        }
        result => {
            result?;
            restored?;
            Ok(DONE)
        }
    }
}

/// Whether the call's values are where a bun:ffi call can bind them: encoded
/// in the scratch buffer, or not needed (none to bind, or bound for good).
fn values_at_hand(data: *mut u8, state: &State) -> Result<bool> {
    Ok(params_encoded::is_waiting(data) || state.inner.params.is_empty() || state.inner.bound)
}

/// Binds the `encoded` values, if any.
fn bind(data: *mut u8, stmt: &Statement, raw: *mut ffi::sqlite3_stmt, encoded: Option<usize>) -> Result<()> {
    match encoded {
        Some(count) => params_encoded::bind(data, stmt, raw, count),
        None => Ok(()),
    }
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
        library_file()
    }
}

/// The file this library was loaded from, as the dynamic loader knows it.
#[cfg(unix)]
fn library_file() -> Option<String> {
    // SAFETY: `dladdr` only reads the address and fills `info`, a zeroed plain C
    // struct; `dli_fname`, when set, is a NUL-terminated string that lives as
    // long as the library stays loaded (it is, as this runs).
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        let symbol = hardened_sqlite_ffi_run as *const libc::c_void;
        if libc::dladdr(symbol, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(info.dli_fname).to_str().ok().map(str::to_owned)
    }
}

/// Without `dladdr` (Windows), bun:ffi is not used: every call goes through Node-API.
#[cfg(not(unix))]
fn library_file() -> Option<String> {
    None
}
