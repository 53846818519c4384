//! Frees the native state of a statement whose JS object the garbage collector
//! took, without waiting for the event loop to turn.
//!
//! A statement is known by an id (src/statement_ids.rs) that JS keeps in a
//! plain object, its handle (lib/native-statement.js). A `FinalizationRegistry`
//! there releases the id once the handle is collected, but only when the event
//! loop turns, as Node-API finalizers ran: a loop that prepares statements and
//! lets them go without ever yielding (a script, a CLI, a synchronous request
//! handler) kept every one, its SQLite statement (about 3.5 KB) and, while
//! statements were Node-API wrappers, 0.6–1 KB more, until it yielded
//! (bench/memory.mjs, docs/performance.md). A weak reference to each handle is
//! cleared during the collection itself, so `prepare` sweeps this thread's list
//! (amortised: when it has doubled) and releases the ids whose handle is gone.
//! Releasing twice is a no-op: ids carry a generation (see `release`).
//!
//! A weak reference is only cleared when the collector runs, and V8 keeps
//! old objects until a full collection, which JS allocations alone seldom
//! trigger: the memory of each listed SQLite statement
//! (`SQLITE_STMTSTATUS_MEMUSED`) is reported to the engine as external memory
//! (`napi_adjust_external_memory`), so that the engine collects sooner as
//! statements pile up, and given back when the statement leaves the list.
//!
//! Releasing a statement that a running call uses is safe: the call holds its
//! own `Rc` of the state, and the SQLite statement is finalized when it drops.

use std::cell::RefCell;
use std::ptr;

use napi::sys;
use rusqlite::ffi;

use crate::errors::Result;
use crate::js::Js;
use crate::statement::Statement;
use crate::statement_ids::{live_state, register, release};

/// Smallest list that is swept.
const MIN_SWEEP: usize = 64;

thread_local! {
    static TRACKED: RefCell<Tracked> = RefCell::new(Tracked::default());
}

/// Keeps `statement` as a live statement followed through `handle`, its JS
/// object (lib/native-statement.js), and returns its id; whether it gives rows
/// waits in the scratch buffer (`layout::PREPARED_READER`).
pub fn register_followed(js: Js, statement: Statement, handle: sys::napi_value) -> Result<f64> {
    let bytes = statement.slot().get().map_or(0, |raw| {
        // SAFETY: `raw` is the live statement the slot holds; reading a counter
        // (without resetting it) has no other effect.
        i64::from(unsafe { ffi::sqlite3_stmt_status(raw, ffi::SQLITE_STMTSTATUS_MEMUSED, 0) })
    });
    let reader = statement.reader()?;
    let reference = js.weak_reference(handle)?;
    let id = match register(js, statement) {
        Ok(id) => id,
        Err(error) => {
            delete(js.raw_env(), reference);
            return Err(error);
        }
    };
    let collected = TRACKED.with_borrow_mut(|tracked| tracked.push(js.raw_env(), reference, id, bytes));
    // Released outside the borrow of TRACKED: dropping a state finalizes its statement.
    for id in collected {
        release(id);
    }
    // Last, once nothing else can write the scratch buffer before JS reads it.
    crate::values::write_prepared_reader(js, reader)?;
    Ok(id)
}

/// Weak references to this thread's statement handles.
#[derive(Default)]
struct Tracked {
    /// Each handle's reference, its statement's id, and the bytes reported for it
    /// (0 once its SQLite statement is finalized).
    entries: Vec<(sys::napi_ref, f64, i64)>,
    /// `entries.len()` at which the next `push` sweeps.
    sweep_at: usize,
    /// Bytes not reported to the engine yet (see [`Tracked::report`]).
    unreported: i64,
}

/// Bytes that [`Tracked::report`] gathers before it tells the engine. A
/// `napi_adjust_external_memory` call cost Bun about 0.4 µs, 6% of a `prepare`
/// (2026-11-30); the engine only needs the sum, which is off by less than this.
const REPORT_EVERY: i64 = 256 * 1024;

impl Tracked {
    /// Follows the handle behind `reference`; sweeps first when the list has
    /// doubled since the last sweep. Returns the ids the sweep found collected,
    /// for the caller to release outside this list's borrow.
    fn push(&mut self, env: sys::napi_env, reference: sys::napi_ref, id: f64, bytes: i64) -> Vec<f64> {
        let mut collected = Vec::new();
        if self.entries.len() >= self.sweep_at.max(MIN_SWEEP) {
            collected = self.sweep(env);
            self.sweep_at = (self.entries.len() * 2).max(MIN_SWEEP);
        }
        self.entries.push((reference, id, bytes));
        self.report(env, bytes);
        collected
    }

    /// Drops the entries whose handle was collected (their ids are returned) or
    /// whose id was released already (by the handle's `FinalizationRegistry`),
    /// and gives back the bytes of SQLite statements finalized meanwhile (by
    /// `finalize()` or their connection's close).
    fn sweep(&mut self, env: sys::napi_env) -> Vec<f64> {
        let mut collected = Vec::new();
        let mut released = 0;
        self.entries.retain_mut(|(reference, id, bytes)| {
            let live = live_state(*id);
            let mut value = ptr::null_mut();
            // SAFETY: `env` is this thread's environment (sweeps run inside `prepare`),
            // and `reference` was made in it and not deleted yet (each entry's reference
            // is deleted once, as it leaves the list).
            let status = unsafe { sys::napi_get_reference_value(env, *reference, &mut value) };
            let gone = status == sys::Status::napi_ok && value.is_null();
            if gone || live.is_none() {
                if gone {
                    collected.push(*id);
                }
                delete(env, *reference);
                released += *bytes;
                return false;
            }
            if *bytes != 0 && live.is_some_and(|state| state.try_borrow().is_ok_and(|state| state.inner.is_finalized())) {
                released += std::mem::take(bytes);
            }
            true
        });
        self.report(env, -released);
        collected
    }

    /// Tells the engine of `bytes` more (fewer, when negative) native memory kept
    /// alive by statement handles, once the changes add up to [`REPORT_EVERY`].
    fn report(&mut self, env: sys::napi_env, bytes: i64) {
        self.unreported += bytes;
        if self.unreported.abs() >= REPORT_EVERY {
            adjust(env, std::mem::take(&mut self.unreported));
        }
    }
}

/// Tells the engine that native memory kept alive by JS objects grew by `bytes`
/// (shrank when negative).
fn adjust(env: sys::napi_env, bytes: i64) {
    if bytes != 0 {
        let mut total = 0;
        // SAFETY: `env` is this thread's environment, live while its JS runs (this
        // runs inside a call from it); `total` is a local out pointer.
        unsafe { sys::napi_adjust_external_memory(env, bytes, &mut total) };
    }
}

fn delete(env: sys::napi_env, reference: sys::napi_ref) {
    // SAFETY: `reference` was made in `env`, this thread's environment, and is
    // deleted once: as it leaves the list, or before it entered it.
    unsafe { sys::napi_delete_reference(env, reference) };
}
