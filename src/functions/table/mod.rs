//! SQLite's callbacks of a virtual table module registered by `db.table()`
//! (better-sqlite3's CustomTable): read-only tables whose rows come from a JS
//! generator.
//!
//! The module's client data is the [`Registered`] holding the factory made by
//! lib/table.js; xConnect calls it for a parsed definition
//! `[sql, rows, parameters, safeIntegers, directOnly, innocuous]`. Every call
//! into JS (xConnect, xFilter, xNext, xColumn) goes through
//! [`super::trampoline::guard`]. A cursor closed early (LIMIT, an iterator's
//! `return()`, a finalized statement) only releases its generator: JS is
//! never called from xClose (it may run in a garbage collector's finalizer),
//! so, as in better-sqlite3, a generator's `finally` blocks do not run then.
//!
//! - [`connect`] calls the factory and declares the table (xCreate, xConnect, xDisconnect).
//! - [`plan`] is xBestIndex's plan, in plain Rust.
//! - [`scan`] drives the generator with a cursor (xOpen, xFilter, xNext, xColumn, ...).
//! - [`register`] is `NativeDatabase.createTable()`.

mod connect;
mod plan;
mod register;
mod scan;

use std::ffi::{CString, c_char, c_int, c_void};

use rusqlite::ffi;

use super::env::JsRef;
use super::registry::Registered;
use connect::{x_connect, x_create, x_disconnect};
use plan::{Constraint, Refused};
use scan::{x_close, x_column, x_eof, x_filter, x_next, x_open, x_rowid};

/// A table made by xConnect.
#[repr(C)]
pub(super) struct VTab {
    /// SQLite's part; first, so a `*mut sqlite3_vtab` is a `*mut VTab`.
    pub(super) base: ffi::sqlite3_vtab,
    /// The module's registration (SQLite keeps it while a table of it exists).
    pub(super) registered: *const Registered,
    /// The connection, for the failures kept for the caller.
    pub(super) db: *mut ffi::sqlite3,
    /// The wrapped generator function: `rows(...parameters)` yields the output array.
    pub(super) rows: JsRef,
    /// The parameter names (the hidden columns first in the table).
    pub(super) parameters: Vec<String>,
    /// INTEGER parameters arrive as bigint.
    pub(super) safe_integers: bool,
}


/// The module of an eponymous table (`db.table(name, { ... })`): it exists
/// without CREATE VIRTUAL TABLE, and CREATE VIRTUAL TABLE refuses it.
pub static EPONYMOUS_MODULE: ffi::sqlite3_module = module(None);

/// The module of a factory (`db.table(name, factory)`): tables exist only
/// through CREATE VIRTUAL TABLE.
pub static MODULE: ffi::sqlite3_module = module(Some(x_create));

type XCreate = unsafe extern "C" fn(
    *mut ffi::sqlite3,
    *mut c_void,
    c_int,
    *const *const c_char,
    *mut *mut ffi::sqlite3_vtab,
    *mut *mut c_char,
) -> c_int;

const fn module(x_create: Option<XCreate>) -> ffi::sqlite3_module {
    ffi::sqlite3_module {
        iVersion: 0,
        xCreate: x_create,
        xConnect: Some(x_connect),
        xBestIndex: Some(x_best_index),
        xDisconnect: Some(x_disconnect),
        xDestroy: Some(x_disconnect),
        xOpen: Some(x_open),
        xClose: Some(x_close),
        xFilter: Some(x_filter),
        xNext: Some(x_next),
        xEof: Some(x_eof),
        xColumn: Some(x_column),
        xRowid: Some(x_rowid),
        xUpdate: None,
        xBegin: None,
        xSync: None,
        xCommit: None,
        xRollback: None,
        xFindFunction: None,
        xRename: None,
        xSavepoint: None,
        xRelease: None,
        xRollbackTo: None,
        xShadowName: None,
        xIntegrity: None,
    }
}

/// A copy of `message` SQLite can free (for `zErrMsg` and `pzErr`).
pub(super) fn sqlite_string(message: &str) -> *mut c_char {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: "%s" with one NUL-terminated argument; SQLite copies it.
    unsafe { ffi::sqlite3_mprintf(c"%s".as_ptr(), text.as_ptr()) }
}

/// Replaces the error message of `vtab` (SQLite reports and frees it).
///
/// # Safety
/// `vtab` must be a live table of this module.
pub(super) unsafe fn set_error(vtab: *mut ffi::sqlite3_vtab, message: &str) {
    // SAFETY: the caller's guarantee; the old message was allocated by SQLite.
    unsafe {
        ffi::sqlite3_free((*vtab).zErrMsg.cast());
        (*vtab).zErrMsg = sqlite_string(message);
    }
}


thread_local! {
    /// How many times SQLite planned a scan of a JS table on this thread (see [`plans`]).
    static PLANS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times SQLite planned a scan of a `db.table()` table on this thread.
/// SQLite plans every table a statement reads (in subqueries, views and
/// triggers too) while it prepares it, so a prepare during which this changed
/// made a statement whose steps may run a table's generator.
pub fn plans() -> u64 {
    PLANS.get()
}

/// Plans a scan (see [`plan`]): parameters by `=` only, handed to xFilter.
unsafe extern "C" fn x_best_index(vtab: *mut ffi::sqlite3_vtab, info: *mut ffi::sqlite3_index_info) -> c_int {
    PLANS.set(PLANS.get().wrapping_add(1));
    // SAFETY: SQLite passes a live table of this module and a live plan request.
    let (table, info) = unsafe { (&*vtab.cast::<VTab>(), &mut *info) };
    let count = info.nConstraint.max(0) as usize;
    let constraints: Vec<Constraint> = (0..count)
        .map(|i| {
            // SAFETY: `aConstraint` holds `nConstraint` entries.
            let c = unsafe { &*info.aConstraint.add(i) };
            Constraint { column: c.iColumn, op: i32::from(c.op), usable: c.usable != 0 }
        })
        .collect();
    match plan::plan(&table.parameters, &constraints) {
        Ok(plan) => {
            for (i, &argv_index) in plan.argv_index.iter().enumerate() {
                if argv_index > 0 {
                    // SAFETY: `aConstraintUsage` has one entry per constraint.
                    let usage = unsafe { &mut *info.aConstraintUsage.add(i) };
                    usage.argvIndex = argv_index;
                    usage.omit = 1;
                }
            }
            info.idxNum = plan.idx_num;
            info.estimatedCost = plan.cost;
            info.estimatedRows = plan.cost as i64;
            ffi::SQLITE_OK
        }
        Err(Refused::Unusable) => ffi::SQLITE_CONSTRAINT,
        Err(Refused::Operator(message)) => {
            // SAFETY: `vtab` is live.
            unsafe { set_error(vtab, &message) };
            ffi::SQLITE_ERROR
        }
    }
}

