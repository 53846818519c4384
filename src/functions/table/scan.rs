//! A scan of a virtual table: xFilter calls the generator with the planned
//! parameters, xNext advances its iterator, xColumn converts the current
//! row's values; xClose only releases the iterator (see the module docs).

use std::ffi::{c_char, c_int};
use std::ptr;

use rusqlite::ffi;

use super::super::convert::{self, Source};
use super::super::env::JsRef;
use super::super::napi_raw::{self, Called};
use super::super::registry::Registered;
use super::super::trampoline::{self, Call, Failure};
use super::{VTab, set_error};
use crate::errors::Error;

/// A scan of a table: the generator's iterator and its current row.
#[repr(C)]
struct Cursor {
    /// SQLite's part; first, so a `*mut sqlite3_vtab_cursor` is a `*mut Cursor`.
    base: ffi::sqlite3_vtab_cursor,
    /// The iterator and its `next` method, while a scan runs.
    iterator: Option<(JsRef, JsRef)>,
    /// The current row: `[...parameters, ...columns]`.
    row: Option<JsRef>,
    /// The generator ended (or a parameter was NULL): no current row.
    done: bool,
    /// The current row's rowid: 1, 2, ... in yield order.
    rowid: i64,
}

/// Starts a cursor with no scan yet.
pub(super) unsafe extern "C" fn x_open(_vtab: *mut ffi::sqlite3_vtab, out: *mut *mut ffi::sqlite3_vtab_cursor) -> c_int {
    let cursor = Box::new(Cursor {
        base: ffi::sqlite3_vtab_cursor { pVtab: ptr::null_mut() },
        iterator: None,
        row: None,
        done: true,
        rowid: 0,
    });
    // SAFETY: SQLite's out pointer; it owns the cursor until xClose.
    unsafe { *out = Box::into_raw(cursor).cast() };
    ffi::SQLITE_OK
}

/// Ends a scan: releases the iterator without calling it (see the module docs).
pub(super) unsafe extern "C" fn x_close(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `cursor` came from `Box::into_raw` in xOpen; SQLite closes it once.
        drop(unsafe { Box::from_raw(cursor.cast::<Cursor>()) });
    });
    ffi::SQLITE_OK
}

/// The cursor, its table and the table's registration.
///
/// # Safety
/// `cursor` must be a live cursor of this module.
unsafe fn parts<'a>(cursor: *mut ffi::sqlite3_vtab_cursor) -> (&'a mut Cursor, &'a VTab, &'a Registered) {
    // SAFETY: the caller's guarantee; SQLite sets `pVtab` after xOpen, and the
    // table and its registration outlive the cursor.
    unsafe {
        let table = &*(*cursor).pVtab.cast::<VTab>();
        (&mut *cursor.cast::<Cursor>(), table, &*table.registered)
    }
}

/// Runs `body` under the trampoline's guards; a failure becomes the error of `vtab`.
///
/// # Safety
/// `vtab` must be the live table `table` of this module, of registration `registered`.
unsafe fn guarded(
    vtab: *mut ffi::sqlite3_vtab,
    table: &VTab,
    registered: &Registered,
    body: impl FnOnce(&Call) -> Result<(), Failure>,
) -> c_int {
    // SAFETY: `registered` outlives the table; `table.db` runs the scan.
    match unsafe { trampoline::guard(registered, table.db, body) } {
        Ok(()) => ffi::SQLITE_OK,
        Err(message) => {
            // SAFETY: the caller's guarantee.
            unsafe { set_error(vtab, &message) };
            ffi::SQLITE_ERROR
        }
    }
}

/// Starts a scan: calls the generator with the parameters the plan passes
/// (`undefined` for the others), or yields nothing if one is NULL.
pub(super) unsafe extern "C" fn x_filter(
    cursor: *mut ffi::sqlite3_vtab_cursor,
    idx_num: c_int,
    _idx_str: *const c_char,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module.
    let (vtab, (state, table, registered)) = unsafe { ((*cursor).pVtab, parts(cursor)) };
    state.iterator = None;
    state.row = None;
    state.done = true;
    state.rowid = 0;
    // SAFETY: as above; `vtab` is the cursor's table.
    unsafe {
        guarded(vtab, table, registered, |call| {
            let js = call.js;
            let mut args = Vec::with_capacity(table.parameters.len());
            let mut given = 0;
            for i in 0..table.parameters.len() {
                if idx_num & (1 << i) == 0 {
                    args.push(js.undefined()?);
                    continue;
                }
                if given >= argc {
                    return Err(Error::hardened("HARDENED_INTERNAL", "SQLite passed fewer arguments than planned").into());
                }
                // SAFETY: `argv` holds `argc` live values; `given < argc`.
                let value = *argv.add(given as usize);
                given += 1;
                // Any NULL argument makes the result empty: the generator is not called.
                if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
                    return Ok(());
                }
                args.push(convert::argument(js, value, table.safe_integers, registered.face, || {
                    format!("Parameter \"{}\" of virtual table module \"{}\"", table.parameters[i], registered.name)
                })?);
            }
            let iterator = call.call(&table.rows, &args)?;
            let next = js.get(iterator, c"next")?;
            state.iterator = Some((JsRef::new(js, iterator)?, JsRef::new(js, next)?));
            advance(call, state)
        })
    }
}

/// Moves to the next row the generator yields.
fn advance(call: &Call, state: &mut Cursor) -> Result<(), Failure> {
    let js = call.js;
    let Some((iterator, next)) = &state.iterator else {
        state.done = true;
        return Ok(());
    };
    let record = match napi_raw::call_on(js, iterator.get(js)?, next.get(js)?, &[])? {
        Called::Returned(record) => record,
        Called::Threw(thrown) => return Err(Failure::Js(thrown)),
    };
    let done = js.boolean(js.get(record, c"done")?)?;
    state.row = if done { None } else { Some(JsRef::new(js, js.get(record, c"value")?)?) };
    state.done = done;
    state.rowid += 1;
    Ok(())
}

/// Advances the scan to the generator's next row.
pub(super) unsafe extern "C" fn x_next(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module.
    let (vtab, (state, table, registered)) = unsafe { ((*cursor).pVtab, parts(cursor)) };
    // SAFETY: as above; `vtab` is the cursor's table.
    unsafe { guarded(vtab, table, registered, |call| advance(call, state)) }
}

/// Whether the scan is over.
pub(super) unsafe extern "C" fn x_eof(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module.
    c_int::from(unsafe { (*cursor.cast::<Cursor>()).done })
}

/// Sets column `column` of the current row (parameters first) as SQLite's value.
pub(super) unsafe extern "C" fn x_column(cursor: *mut ffi::sqlite3_vtab_cursor, ctx: *mut ffi::sqlite3_context, column: c_int) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module.
    let (state, table, registered) = unsafe { parts(cursor) };
    // SAFETY: `registered` outlives the cursor; `table.db` runs the scan.
    let guarded = unsafe {
        trampoline::guard(registered, table.db, |call| {
            let js = call.js;
            let Some(row) = &state.row else {
                // SAFETY: `ctx` is the live context of this call.
                ffi::sqlite3_result_null(ctx);
                return Ok(());
            };
            let value = js.element(row.get(js)?, column.max(0) as u32)?;
            convert::set_value(js, ctx, value, Source::Table(&registered.name))?;
            Ok(())
        })
    };
    match guarded {
        Ok(()) => ffi::SQLITE_OK,
        Err(message) => {
            // SAFETY: `ctx` is live; SQLite copies the message (its length is given).
            unsafe { ffi::sqlite3_result_error(ctx, message.as_ptr().cast(), message.len() as i32) };
            ffi::SQLITE_ERROR
        }
    }
}

/// The current row's rowid.
pub(super) unsafe extern "C" fn x_rowid(cursor: *mut ffi::sqlite3_vtab_cursor, out: *mut ffi::sqlite3_int64) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module and an out pointer.
    unsafe { *out = (*cursor.cast::<Cursor>()).rowid };
    ffi::SQLITE_OK
}
