//! Binding a call's arguments with bun:sqlite's rules (the `hardened-sqlite/bun`
//! face): the arguments are the values of `?1..?N` in order, or one array of
//! them, or one object of named values (keys with their `$`, `:` or `@` prefix,
//! or bare under `strict: true`; numeric keys fill `?1..?N` by position). No
//! argument at all keeps the previous bindings.

use std::ffi::CString;

use napi::sys::napi_value;
use rusqlite::ffi;

use crate::errors::{Error, Result};
use crate::face::Face;
use crate::js::{Js, Kind};
use crate::statement::{Param, Statement};
use crate::values;

/// Binds `args` to `stmt` as bun:sqlite does.
pub fn bind_args(js: Js, stmt: &Statement, raw: *mut ffi::sqlite3_stmt, args: &[napi_value]) -> Result<()> {
    let Some(&first) = args.first() else {
        // As in bun:sqlite: `stmt.get()` runs again with the values bound last time.
        return Ok(());
    };
    // SAFETY: `raw` is the live handle of `stmt`; clearing bindings needs nothing else.
    unsafe { ffi::sqlite3_clear_bindings(raw) };
    let kind = js.kind(first)?;
    if kind == Kind::Object && js.is_array(first)? {
        let len = js.array_len(first)?;
        let values = (0..len).map(|i| js.element(first, i)).collect::<Result<Vec<_>>>()?;
        return bind_positional(js, stmt, raw, &values);
    }
    if kind == Kind::Object && js.view_bytes(first)?.is_none() && js.is_plain_object(first)? {
        return bind_named(js, stmt, raw, first);
    }
    bind_positional(js, stmt, raw, args)
}

/// Binds `values` to parameters 1..N: there must be exactly N of them.
fn bind_positional(js: Js, stmt: &Statement, raw: *mut ffi::sqlite3_stmt, values: &[napi_value]) -> Result<()> {
    if values.len() != stmt.params.len() {
        return Err(Error::hardened(
            "HARDENED_PARAMETER_COUNT",
            format!("SQLite query expected {} values, received {}", stmt.params.len(), values.len()),
        ));
    }
    for (i, &value) in values.iter().enumerate() {
        let index = i as i32 + 1;
        bind_value(js, raw, index, value, &|| format!("Parameter {index}"))?;
    }
    Ok(())
}

/// Binds each parameter from `object`'s own properties, looking it up as
/// bun:sqlite does (probed on Bun 1.4.5):
/// - `$name`, `:name`, `@name`: by its name as written, else its bare name;
///   under `strict: true` by its bare name first;
/// - `?NNN`: by `"?NNN"`, else by the index NNN - 1 (`{ 0: a, 1: b }` fills
///   `?1, ?2`); under `strict: true` by the index first;
/// - `?`: by its index (parameter N from key `N - 1`).
///
/// A key that is there with `undefined` binds NULL. A parameter the object
/// lacks stays NULL, or under `strict: true` is an error naming it.
fn bind_named(js: Js, stmt: &Statement, raw: *mut ffi::sqlite3_stmt, object: napi_value) -> Result<()> {
    let strict = stmt.face == Face::BunStrict;
    for (i, param) in stmt.params.iter().enumerate() {
        let index = i as i32 + 1;
        let found = match param {
            Param::Named { bare, full } if strict => own(js, object, &[bare, full])?,
            Param::Named { bare, full } => own(js, object, &[full, bare])?,
            Param::Positional => {
                let position = CString::new(i.to_string()).unwrap_or_default();
                // SAFETY: `raw` is live and `index` within its parameter count.
                let name = unsafe { ffi::sqlite3_bind_parameter_name(raw, index) };
                if name.is_null() {
                    own(js, object, &[&position])?
                } else {
                    // SAFETY: a non-null parameter name is NUL-terminated and lives as long as `raw`.
                    let numbered = unsafe { std::ffi::CStr::from_ptr(name) };
                    let keys: [&std::ffi::CStr; 2] = if strict { [&position, numbered] } else { [numbered, &position] };
                    own(js, object, &keys)?
                }
            }
        };
        match found {
            Some(value) => bind_value(js, raw, index, value, &|| format!("Parameter \"{}\"", shown(param, index, false)))?,
            None if strict => {
                let name = shown(param, index, has_numbered_name(stmt, raw));
                return Err(Error::hardened(
                    "HARDENED_MISSING_PARAMETER",
                    format!("Missing parameter \"{name}\": pass an object with a \"{}\" key", key_hint(param, i, &name)),
                ));
            }
            None => {} // left NULL, as bun:sqlite does without `strict: true`
        }
    }
    Ok(())
}

/// The value of the first of `keys` that `object` has as its own property.
fn own(js: Js, object: napi_value, keys: &[&std::ffi::CStr]) -> Result<Option<napi_value>> {
    for key in keys {
        if let Some(value) = js.get_own(object, key)? {
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// How bun:sqlite names parameter `index` in "Missing parameter": `?N` for a
/// positional one; a named one by its bare name, or as written when the
/// statement has a numbered name (`as_written`, see `has_numbered_name`).
fn shown(param: &Param, index: i32, as_written: bool) -> String {
    match param {
        Param::Positional => format!("?{index}"),
        Param::Named { full, .. } if as_written => full.to_string_lossy().into_owned(),
        Param::Named { bare, .. } => bare.to_string_lossy().into_owned(),
    }
}

/// Whether a parameter's name is a number after its prefix (`?2`, `:1`):
/// bun:sqlite then names missing parameters as written.
fn has_numbered_name(stmt: &Statement, raw: *mut ffi::sqlite3_stmt) -> bool {
    (1..=stmt.params.len() as i32).any(|index| {
        // SAFETY: `raw` is live and `index` within its parameter count.
        let name = unsafe { ffi::sqlite3_bind_parameter_name(raw, index) };
        // SAFETY: a non-null parameter name is NUL-terminated and lives as long as `raw`.
        !name.is_null() && matches!(unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes(), [_, digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
    })
}

/// The key that fills a missing parameter under `strict: true`.
fn key_hint(param: &Param, i: usize, shown: &str) -> String {
    match param {
        Param::Positional => i.to_string(),
        Param::Named { bare, .. } => {
            let bare = bare.to_string_lossy();
            if bare == shown { bare.into_owned() } else { format!("{bare}\" or \"{shown}") }
        }
    }
}

/// bun:sqlite's rule for a JS number going into SQLite, as a bound value or a
/// user-defined function's result: a whole number within ±(2^53 - 1) (but not
/// -0) is this INTEGER; `None`: any other number is a REAL.
#[inline]
pub(crate) fn bun_integer(n: f64) -> Option<i64> {
    let whole = n.fract() == 0.0 && n.abs() <= values::MAX_SAFE_INTEGER as f64 && !(n == 0.0 && n.is_sign_negative());
    whole.then_some(n as i64)
}

/// Binds number `n` with bun:sqlite's rule ([`bun_integer`]); SQLite's result code.
///
/// # Safety
/// `raw` must be a live statement and `index` within its parameter count.
#[inline]
pub(crate) unsafe fn bind_number(raw: *mut ffi::sqlite3_stmt, index: i32, n: f64) -> i32 {
    // SAFETY: the caller's promise.
    unsafe {
        match bun_integer(n) {
            Some(integer) => ffi::sqlite3_bind_int64(raw, index, integer),
            None => ffi::sqlite3_bind_double(raw, index, n),
        }
    }
}

/// Binds one value with bun:sqlite's types: a whole number within ±(2^53 - 1)
/// (but not -0) is an INTEGER, any other number a REAL; every TypedArray,
/// DataView or ArrayBuffer is a BLOB of its bytes.
fn bind_value(js: Js, raw: *mut ffi::sqlite3_stmt, index: i32, value: napi_value, what: &dyn Fn() -> String) -> Result<()> {
    let kind = js.kind(value)?;
    match kind {
        Kind::Number => {
            // SAFETY: `raw` is live and `index` within its parameter count.
            let rc = unsafe { bind_number(raw, index, js.number(value)?) };
            check(raw, rc)
        }
        Kind::Object => match js.view_bytes(value)? {
            Some(bytes) => {
                // SAFETY: `raw` is live, `index` within range; SQLite copies the bytes (SQLITE_TRANSIENT).
                let rc = unsafe {
                    ffi::sqlite3_bind_blob64(raw, index, bytes.as_ptr().cast(), bytes.len() as u64, ffi::SQLITE_TRANSIENT())
                };
                check(raw, rc)
            }
            None => Err(unbindable(what())),
        },
        Kind::BigInt if js.bigint(value)?.is_none() => Err(Error::range(
            "HARDENED_INTEGER_OVERFLOW",
            format!(
                "BigInt value '{}' is out of range: SQLite stores integers from -2^63 to 2^63 - 1; store it as TEXT instead",
                js.display(value)?
            ),
        )),
        Kind::Other => Err(unbindable(what())),
        _ => values::bind(js, raw, index, value, kind, what),
    }
}

fn check(raw: *mut ffi::sqlite3_stmt, rc: i32) -> Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: the connection of a live statement is open.
    Err(crate::connection::last_error(unsafe { ffi::sqlite3_db_handle(raw) }, rc))
}

fn unbindable(what: String) -> Error {
    Error::type_error(
        "HARDENED_INVALID_ARGUMENT",
        format!(
            "Binding expected string, TypedArray, boolean, number, bigint or null ({what}); convert dates with \
             .toISOString() or .getTime(), and other objects with JSON.stringify()"
        ),
    )
}
