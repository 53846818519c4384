//! xCreate and xConnect: call the module's factory (see lib/table.js) for a
//! parsed definition, declare the table it defines, and make the [`VTab`];
//! xDisconnect releases it.

use std::ffi::{CString, c_char, c_int, c_void};
use std::ptr;

use napi::sys::napi_value;
use rusqlite::ffi;

use super::super::env::JsRef;
use super::super::registry::{Callbacks, Registered};
use super::super::trampoline::{self, Call, Failure};
use super::{VTab, sqlite_string};
use crate::errors::Error;

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

/// xCreate (CREATE VIRTUAL TABLE of a factory's module): as xConnect.
pub(super) unsafe extern "C" fn x_create(
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
pub(super) unsafe extern "C" fn x_connect(
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
pub(super) unsafe extern "C" fn x_disconnect(vtab: *mut ffi::sqlite3_vtab) -> c_int {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `vtab` came from `Box::into_raw` in xConnect; SQLite disconnects it once.
        drop(unsafe { Box::from_raw(vtab.cast::<VTab>()) });
    });
    ffi::SQLITE_OK
}
