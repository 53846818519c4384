//! SQLite's callbacks of a virtual table module registered by `db.table()`
//! (better-sqlite3's CustomTable): read-only tables whose rows come from a JS
//! generator.
//!
//! The module's client data is the [`Registered`] holding the factory made by
//! lib/table.js; xConnect calls it for a parsed definition
//! `[sql, rows, parameters, safeIntegers, directOnly, innocuous]`. Every call
//! into JS (xConnect, xFilter, xNext, xColumn) goes through
//! [`trampoline::guard`]. A cursor closed early (LIMIT, an iterator's
//! `return()`, a finalized statement) only releases its generator: JS is
//! never called from xClose (it may run in a garbage collector's finalizer),
//! so, as in better-sqlite3, a generator's `finally` blocks do not run then.

use std::ffi::{CString, c_char, c_int, c_void};
use std::ptr;

use napi::sys::napi_value;
use rusqlite::ffi;

use super::convert::{self, Source};
use super::env::JsRef;
use super::napi_raw::{self, Called};
use super::registry::{Callbacks, Registered};
use super::table_plan::{self, Constraint, Refused};
use super::trampoline::{self, Call, Failure};
use crate::errors::Error;

/// A table made by xConnect.
#[repr(C)]
struct VTab {
    /// SQLite's part; first, so a `*mut sqlite3_vtab` is a `*mut VTab`.
    base: ffi::sqlite3_vtab,
    /// The module's registration (SQLite keeps it while a table of it exists).
    registered: *const Registered,
    /// The connection, for the failures kept for the caller.
    db: *mut ffi::sqlite3,
    /// The wrapped generator function: `rows(...parameters)` yields the output array.
    rows: JsRef,
    /// The parameter names (the hidden columns first in the table).
    parameters: Vec<String>,
    /// INTEGER parameters arrive as bigint.
    safe_integers: bool,
}

/// A scan of a table: the generator's iterator and its current row.
#[repr(C)]
struct Cursor {
    /// SQLite's part; first, so a `*mut sqlite3_vtab_cursor` is a `*mut Cursor`.
    base: ffi::sqlite3_vtab_cursor,
    /// The iterator and its `next` method, while a scan runs.
    iterator: Option<(JsRef, JsRef)>,
    /// The current row: `[...parameters, ...columns]`.
    row: Option<JsRef>,
    done: bool,
    rowid: i64,
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
fn sqlite_string(message: &str) -> *mut c_char {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: "%s" with one NUL-terminated argument; SQLite copies it.
    unsafe { ffi::sqlite3_mprintf(c"%s".as_ptr(), text.as_ptr()) }
}

/// Replaces the error message of `vtab` (SQLite reports and frees it).
///
/// # Safety
/// `vtab` must be a live table of this module.
unsafe fn set_error(vtab: *mut ffi::sqlite3_vtab, message: &str) {
    // SAFETY: the caller's guarantee; the old message was allocated by SQLite.
    unsafe {
        ffi::sqlite3_free((*vtab).zErrMsg.cast());
        (*vtab).zErrMsg = sqlite_string(message);
    }
}

/// A parsed definition, read from the array the factory returned.
struct Definition {
    sql: CString,
    rows: JsRef,
    parameters: Vec<String>,
    /// 0 or 1, or 2: the connection's default.
    safe_integers: u32,
    direct_only: bool,
    innocuous: bool,
}

fn string(call: &Call, value: napi_value) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    call.js.string_into(value, &mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn definition(call: &Call, argc: c_int, argv: *const *const c_char) -> Result<Definition, Failure> {
    let Callbacks::Table(factory) = &call.registered.callbacks else {
        return Err(Error::hardened("HARDENED_INTERNAL", "a virtual table reached a function's registration").into());
    };
    let js = call.js;
    let mut args = Vec::with_capacity(argc.max(0) as usize);
    for i in 0..argc.max(0) as usize {
        // SAFETY: SQLite passes `argc` NUL-terminated strings at `argv`.
        let text = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        args.push(js.text(text.to_bytes())?);
    }
    let parsed = call.call(factory, &args)?;
    let sql = string(call, js.element(parsed, 0)?)?;
    let rows = JsRef::new(js, js.element(parsed, 1)?)?;
    let names = js.element(parsed, 2)?;
    let mut parameters = Vec::new();
    for i in 0..js.array_len(names)? {
        parameters.push(string(call, js.element(names, i)?)?);
    }
    let sql = CString::new(sql)
        .map_err(|_| Error::type_error("HARDENED_INVALID_ARGUMENT", "A virtual table column name contains a NUL character"))?;
    Ok(Definition {
        sql,
        rows,
        parameters,
        safe_integers: js.uint32(js.element(parsed, 3)?)?,
        direct_only: js.boolean(js.element(parsed, 4)?)?,
        innocuous: js.boolean(js.element(parsed, 5)?)?,
    })
}

unsafe extern "C" fn x_create(
    db: *mut ffi::sqlite3,
    aux: *mut c_void,
    argc: c_int,
    argv: *const *const c_char,
    out: *mut *mut ffi::sqlite3_vtab,
    err: *mut *mut c_char,
) -> c_int {
    // SAFETY: SQLite's arguments, passed on (xCreate differs from xConnect only so
    // that the module is not eponymous).
    unsafe { x_connect(db, aux, argc, argv, out, err) }
}

/// Calls the factory and declares the table it defines.
unsafe extern "C" fn x_connect(
    db: *mut ffi::sqlite3,
    aux: *mut c_void,
    argc: c_int,
    argv: *const *const c_char,
    out: *mut *mut ffi::sqlite3_vtab,
    err: *mut *mut c_char,
) -> c_int {
    // SAFETY: the client data is the module's `Registered`, alive while SQLite uses the module.
    let registered = unsafe { &*aux.cast::<Registered>() };
    let mut made = None;
    // SAFETY: `registered` is alive for the call; `db` runs it.
    let guarded = unsafe {
        trampoline::guard(registered, db, |call| {
            made = Some(definition(call, argc, argv)?);
            Ok(())
        })
    };
    let fail = |message: &str| {
        // SAFETY: `err` is SQLite's out pointer for the message, which it frees.
        unsafe { *err = sqlite_string(message) };
        ffi::SQLITE_ERROR
    };
    let definition = match (guarded, made) {
        (Ok(()), Some(definition)) => definition,
        (Err(message), _) => return fail(&message),
        (Ok(()), None) => return fail("the virtual table definition was not read"),
    };
    // SAFETY: `db` is the connection running xConnect; `sql` is NUL-terminated.
    if unsafe { ffi::sqlite3_declare_vtab(db, definition.sql.as_ptr()) } != ffi::SQLITE_OK {
        return fail(&format!("failed to declare virtual table \"{}\"", registered.name));
    }
    let config = match (definition.direct_only, definition.innocuous) {
        (true, _) => Some(ffi::SQLITE_VTAB_DIRECTONLY),
        (false, true) => Some(ffi::SQLITE_VTAB_INNOCUOUS),
        _ => None,
    };
    // SAFETY: called from xConnect, as sqlite3_vtab_config requires.
    if let Some(op) = config
        && unsafe { ffi::sqlite3_vtab_config(db, op) } != ffi::SQLITE_OK
    {
        return fail(&format!("failed to configure virtual table \"{}\"", registered.name));
    }
    let safe_integers = match definition.safe_integers {
        2 => registered.shared.upgrade().is_some_and(|shared| shared.default_safe_integers.get()),
        n => n == 1,
    };
    let vtab = Box::new(VTab {
        base: ffi::sqlite3_vtab { pModule: ptr::null(), nRef: 0, zErrMsg: ptr::null_mut() },
        registered,
        db,
        rows: definition.rows,
        parameters: definition.parameters,
        safe_integers,
    });
    // SAFETY: SQLite's out pointer; it owns the table until xDisconnect.
    unsafe { *out = Box::into_raw(vtab).cast() };
    ffi::SQLITE_OK
}

/// Releases a table (and its generator function).
unsafe extern "C" fn x_disconnect(vtab: *mut ffi::sqlite3_vtab) -> c_int {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `vtab` came from `Box::into_raw` in xConnect; SQLite disconnects it once.
        drop(unsafe { Box::from_raw(vtab.cast::<VTab>()) });
    });
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_best_index(vtab: *mut ffi::sqlite3_vtab, info: *mut ffi::sqlite3_index_info) -> c_int {
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
    match table_plan::plan(&table.parameters, &constraints) {
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

unsafe extern "C" fn x_open(_vtab: *mut ffi::sqlite3_vtab, out: *mut *mut ffi::sqlite3_vtab_cursor) -> c_int {
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
unsafe extern "C" fn x_close(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
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
unsafe extern "C" fn x_filter(
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
                args.push(convert::argument(js, value, table.safe_integers, || {
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

unsafe extern "C" fn x_next(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module.
    let (vtab, (state, table, registered)) = unsafe { ((*cursor).pVtab, parts(cursor)) };
    // SAFETY: as above; `vtab` is the cursor's table.
    unsafe { guarded(vtab, table, registered, |call| advance(call, state)) }
}

unsafe extern "C" fn x_eof(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module.
    c_int::from(unsafe { (*cursor.cast::<Cursor>()).done })
}

/// Sets column `column` of the current row (parameters first) as SQLite's value.
unsafe extern "C" fn x_column(cursor: *mut ffi::sqlite3_vtab_cursor, ctx: *mut ffi::sqlite3_context, column: c_int) -> c_int {
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

unsafe extern "C" fn x_rowid(cursor: *mut ffi::sqlite3_vtab_cursor, out: *mut ffi::sqlite3_int64) -> c_int {
    // SAFETY: SQLite passes a live cursor of this module and an out pointer.
    unsafe { *out = (*cursor.cast::<Cursor>()).rowid };
    ffi::SQLITE_OK
}
