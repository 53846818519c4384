//! `run()`, `get()` and `iterate()`'s calls as plain C functions that Bun calls
//! through bun:ffi (lib/ffi.js).
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
use crate::statement_class::{NativeStatement, State};
use crate::statement_ids::live_state;
use crate::statement_iteration::Batch;
use crate::values::{self, Sink};

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
pub extern "C" fn hardened_sqlite_ffi_run(id: f64) -> i32 {
    answer(|| run(id))
}

/// `get()` of live statement `id`, as [`hardened_sqlite_ffi_run`]; the row (or
/// none) waits in the scratch buffer. Only a read-only statement, which may run
/// again through Node-API after a value needed it ([`RETRY`]).
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_get(id: f64) -> i32 {
    answer(|| get(id))
}

/// `iterate()`'s start for live statement `id`: binds the values encoded for
/// it (or none) and opens the iteration, stepping nothing yet.
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_iterate_start(id: f64) -> i32 {
    answer(|| iterate_start(id))
}

/// The next batch of the open iteration of live statement `id`, left in the
/// scratch buffer (an empty one at the end); [`FALLBACK`] when its first row
/// needs Node-API (the row waits for the Node-API call).
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_iterate_next(id: f64) -> i32 {
    answer(|| iterate_next(id))
}

/// Ends the iteration of live statement `id` early (resets it).
#[unsafe(no_mangle)]
pub extern "C" fn hardened_sqlite_ffi_iterate_end(id: f64) -> i32 {
    answer(|| {
        let Some((_, state)) = ready(id) else { return Ok(FALLBACK) };
        let Ok(mut state) = state.try_borrow_mut() else { return Ok(FALLBACK) };
        state.end_iteration();
        Ok(DONE)
    })
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
fn ready(id: f64) -> Option<(*mut u8, Rc<RefCell<State>>)> {
    let data = values::scratch_if_created()?;
    if crate::functions::scratch_guard::in_callback() {
        return None;
    }
    Some((data, live_state(id)?))
}

/// Runs `work` on statement `id` as a hot call does (the connection idle, an
/// active call, the statement timeout, a `PRAGMA busy_timeout` handler put back)
/// with the scratch memory and the values encoded for the call, once `may` says
/// the statement may run here; [`FALLBACK`] otherwise, with nothing changed.
fn call(
    id: f64,
    may: impl FnOnce(&State, *mut u8) -> bool,
    work: impl FnOnce(&mut State, *mut u8, Option<usize>) -> Result<i32>,
) -> Result<i32> {
    let Some((data, state)) = ready(id) else { return Ok(FALLBACK) };
    let Ok(mut state) = state.try_borrow_mut() else { return Ok(FALLBACK) };
    if state.inner.connection_calls_js() || !may(&state, data) {
        return Ok(FALLBACK);
    }
    // Taken before anything can fail, so that no values are left for the next call.
    let encoded = params_encoded::take_from(data)?;
    state.inner.connection_idle()?;
    // Declared after `state`, so dropped first (see `call_hot`).
    let active = state.inner.active_call();
    let result = active.timed(|| work(&mut state, data, encoded));
    let restored = state.inner.restore_busy_handler();
    let code = result?;
    restored?;
    Ok(code)
}

fn run(id: f64) -> Result<i32> {
    call(id, values_at_hand, |state, data, encoded| {
        // As in better-sqlite3, run() waits for open iterators whatever the statement.
        state.inner.require_may_run(true)?;
        let raw = start(state, data, encoded)?;
        let (changes, rowid) = state.run_to_end(raw)?;
        values::put_run_result(data, changes, rowid, state.inner.safe_integers);
        Ok(DONE)
    })
}

fn get(id: f64) -> Result<i32> {
    // Every string would need Node-API without `strings_as_bytes`; a statement
    // that writes (`... RETURNING`) must run once: Node-API runs it.
    let may = |state: &State, data| {
        values::strings_as_bytes() && matches!(state.inner.readonly(), Ok(true)) && values_at_hand(state, data)
    };
    call(id, may, |state, data, encoded| {
        state.may_read()?;
        let raw = start(state, data, encoded)?;
        match state.first_row(raw, Sink::ScratchOnly(data)) {
            Ok(()) => Ok(DONE),
            Err(e) if e.code() == values::NEEDS_NODE_API => Ok(if encoded.is_some() { RETRY } else { FALLBACK }),
            Err(e) => Err(e),
        }
    })
}

fn iterate_start(id: f64) -> Result<i32> {
    call(id, values_at_hand, |state, data, encoded| {
        state.may_read()?;
        start(state, data, encoded)?;
        state.open_iteration();
        Ok(DONE)
    })
}

fn iterate_next(id: f64) -> Result<i32> {
    // Every string would need Node-API without `strings_as_bytes`; a row left
    // by the last batch is read by Node-API.
    let may = |state: &State, _| values::strings_as_bytes() && !state.row_pending;
    call(id, may, |state, data, _| {
        let batch = state.next_rows(Sink::ScratchOnly(data))?;
        Ok(if batch == Batch::NeedsNodeApi { FALLBACK } else { DONE })
    })
}

/// Whether the call's values are where a bun:ffi call can bind them: encoded
/// in the scratch buffer, or not needed (none to bind, or bound for good).
fn values_at_hand(state: &State, data: *mut u8) -> bool {
    params_encoded::is_waiting(data) || state.inner.params.is_empty() || state.inner.bound
}

/// Binds the values encoded for the call, if any (unless bound for good), and
/// returns the statement's handle ([`State::start`] without Node-API).
fn start(state: &mut State, data: *mut u8, encoded: Option<usize>) -> Result<*mut ffi::sqlite3_stmt> {
    state.start_binding(encoded.is_some(), |stmt, raw| match encoded {
        Some(count) => params_encoded::bind(data, stmt, raw, count),
        None => Ok(()),
    })
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
