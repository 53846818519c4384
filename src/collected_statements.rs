//! Finalizes the SQLite statement of a `Statement` the garbage collector took,
//! without waiting for its Node-API finalizer.
//!
//! Node (up to Node-API 8 modules) and Bun run the finalizer of a wrapped
//! object only once the event loop turns, not during the collection. A loop
//! that prepares statements and lets them go without ever yielding (a script,
//! a CLI, a synchronous request handler) kept every SQLite statement, about
//! 3.5 KB each, until it yielded: 20,000 `prepare` + `get` grew RSS by 70 MiB
//! on Node 20 and on Bun, where better-sqlite3 and `bun:sqlite` stay flat
//! (bench/memory.mjs, docs/performance.md). A weak reference to each
//! statement's JS object is cleared during the collection itself, so each
//! `prepare` of the connection sweeps the list (amortised: when it has doubled)
//! and finalizes the statements whose object is gone. The finalizer still
//! frees the rest later; finalizing twice is a no-op (`StmtSlot::finalize`).
//!
//! A weak reference is only cleared when the collector runs, and V8 keeps a
//! wrapped object until a full collection, which JS allocations alone seldom
//! trigger: the memory of each listed SQLite statement
//! (`SQLITE_STMTSTATUS_MEMUSED`) is reported to the engine as external memory
//! (`napi_adjust_external_memory`), so that the engine collects sooner as
//! statements pile up, and given back when the statement leaves the list.

use std::ptr;
use std::rc::{Rc, Weak};

use napi::sys;
use rusqlite::ffi;

use napi::Env;
use napi::bindgen_prelude::{ClassInstance, JavaScriptClassExt};

use crate::connection::{Shared, StmtSlot};
use crate::errors::{Result, to_js};
use crate::js::Js;
use crate::statement::Statement;
use crate::statement_class::NativeStatement;

/// `statement` as the JS object `db.prepare()` returns, followed by its connection.
pub fn statement_object<'env>(env: &'env Env, shared: &Shared, statement: Statement) -> napi::Result<ClassInstance<'env, NativeStatement>> {
    let slot = Rc::clone(statement.slot());
    let object = NativeStatement::new(statement).into_instance(env)?;
    to_js(env, shared.track_statement_object(Js::new(env), object.value, &slot))?;
    Ok(object)
}

/// Smallest list that is swept.
const MIN_SWEEP: usize = 64;

/// Weak references to the JS objects of a connection's statements.
#[derive(Debug)]
pub struct CollectedStatements {
    env: sys::napi_env,
    /// Each statement's JS object, its slot, and the bytes reported for it.
    entries: Vec<(sys::napi_ref, Weak<StmtSlot>, i64)>,
    /// `entries.len()` at which the next `track` sweeps.
    sweep_at: usize,
}

impl Default for CollectedStatements {
    fn default() -> Self {
        CollectedStatements { env: ptr::null_mut(), entries: Vec::new(), sweep_at: MIN_SWEEP }
    }
}

impl CollectedStatements {
    /// Follows `object`, the JS object of the statement holding `slot`; sweeps first
    /// when the list has doubled since the last sweep and `idle` (no call of the
    /// connection is running, so no statement handle is in use).
    pub fn track(&mut self, js: Js, object: sys::napi_value, slot: &Rc<StmtSlot>, idle: bool) -> Result<()> {
        if idle && self.entries.len() >= self.sweep_at {
            self.sweep();
            self.sweep_at = (self.entries.len() * 2).max(MIN_SWEEP);
        }
        self.env = js.raw_env();
        let reference = js.weak_reference(object)?;
        let bytes = slot.get().map_or(0, |raw| {
            // SAFETY: `raw` is the live statement the slot holds; reading a counter
            // (without resetting it) has no other effect.
            i64::from(unsafe { ffi::sqlite3_stmt_status(raw, ffi::SQLITE_STMTSTATUS_MEMUSED, 0) })
        });
        self.entries.push((reference, Rc::downgrade(slot), bytes));
        adjust(self.env, bytes);
        Ok(())
    }

    /// Finalizes the statements whose JS object was collected, and forgets those
    /// already finalized (by `finalize()` or by their own finalizer).
    fn sweep(&mut self) {
        let env = self.env;
        let mut released = 0;
        self.entries.retain(|&(reference, ref weak, bytes)| {
            let Some(slot) = weak.upgrade().filter(|slot| slot.get().is_some()) else {
                delete(env, reference);
                released += bytes;
                return false;
            };
            let mut value = ptr::null_mut();
            // SAFETY: `env` is the environment of the current call (sweeps run inside
            // `prepare`, on the connection's thread), and `reference` was made in it
            // and not deleted yet (each entry's reference is deleted once, as it leaves).
            let status = unsafe { sys::napi_get_reference_value(env, reference, &mut value) };
            if status != sys::Status::napi_ok || !value.is_null() {
                return true;
            }
            slot.finalize();
            delete(env, reference);
            released += bytes;
            false
        });
        adjust(env, -released);
    }

    /// Deletes every reference (the connection is closing and has finalized them all).
    pub fn forget_all(&mut self) {
        let env = self.env;
        let mut released = 0;
        for (reference, _, bytes) in self.entries.drain(..) {
            delete(env, reference);
            released += bytes;
        }
        adjust(env, -released);
    }
}

/// Tells the engine that native memory kept alive by JS objects grew by `bytes`
/// (shrank when negative).
fn adjust(env: sys::napi_env, bytes: i64) {
    if bytes != 0 && !env.is_null() {
        let mut total = 0;
        // SAFETY: `env` is the environment the connection's statements were made in,
        // live as long as they are (see `delete`); `total` is a local out pointer.
        unsafe { sys::napi_adjust_external_memory(env, bytes, &mut total) };
    }
}

fn delete(env: sys::napi_env, reference: sys::napi_ref) {
    // SAFETY: `reference` was made in `env` by `track` and leaves the list here, so
    // it is deleted once. `env` outlives it: the connection lives on the thread whose
    // environment made it, and an environment being torn down finalizes wrapped
    // objects (this connection's owner) before the plain references it still holds.
    unsafe { sys::napi_delete_reference(env, reference) };
}
