//! Values across a user-defined function: SQLite arguments become JS values
//! the way row values do, and the JS result becomes SQLite's the way
//! better-sqlite3 converts it, or bun:sqlite for a connection of the bun face.

use napi::sys::napi_value;
use rusqlite::ffi;

use super::napi_raw;
use super::registry::Registered;
use crate::errors::{Error, Result};
use crate::face::Face;
use crate::js::{Js, Kind};
use crate::values::MAX_SAFE_INTEGER;

/// Appends the JS values of the `argc` arguments at `argv` to `out`.
///
/// An INTEGER is a bigint with `safe_integers`, else a number, or a
/// `RangeError` beyond ±2^53 (never silently rounded, as for rows); a BLOB is
/// a copy: a `Buffer`, or for the bun face a `Uint8Array`.
///
/// # Safety
/// `argv` must hold `argc` live values (SQLite's arguments of the running call).
pub unsafe fn arguments(
    js: Js,
    argc: i32,
    argv: *mut *mut ffi::sqlite3_value,
    registered: &Registered,
    out: &mut Vec<napi_value>,
) -> Result<()> {
    let name = &registered.name;
    for i in 0..argc.max(0) as usize {
        // SAFETY: the caller's guarantee; `i < argc`.
        let value = unsafe { *argv.add(i) };
        out.push(argument(js, value, registered.safe_integers, registered.face, || {
            format!("Argument {} of user-defined function {name}()", i + 1)
        })?);
    }
    Ok(())
}

/// The JS value of one SQLite value (see [`arguments`]); `what` names it for an error.
pub fn argument(
    js: Js,
    value: *mut ffi::sqlite3_value,
    safe_integers: bool,
    face: Face,
    what: impl Fn() -> String,
) -> Result<napi_value> {
    // SAFETY (every value call below): `value` is a live argument of the running
    // call; text and blob pointers stay valid until the next call on it, and are
    // copied into JS at once.
    match unsafe { ffi::sqlite3_value_type(value) } {
        ffi::SQLITE_INTEGER => {
            let v = unsafe { ffi::sqlite3_value_int64(value) };
            if safe_integers {
                napi_raw::bigint(js, v)
            } else if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
                napi_raw::double(js, v as f64)
            } else {
                Err(Error::range(
                    "HARDENED_INTEGER_OVERFLOW",
                    format!(
                        "{} is {v}, beyond JavaScript's safe integer range (±2^53); register it with \
                         {{ safeIntegers: true }} to receive it as a BigInt",
                        what()
                    ),
                ))
            }
        }
        ffi::SQLITE_FLOAT => napi_raw::double(js, unsafe { ffi::sqlite3_value_double(value) }),
        ffi::SQLITE_TEXT => js.text(unsafe { crate::sqlite_value::text(value) }),
        ffi::SQLITE_BLOB if face.is_bun() => js.uint8_array(unsafe { crate::sqlite_value::blob(value) }),
        ffi::SQLITE_BLOB => js.buffer(unsafe { crate::sqlite_value::blob(value) }),
        _ => js.null(),
    }
}

/// Sets the result of `ctx` from the JS `value` a function returned, as
/// better-sqlite3 does: a number is a REAL, a bigint an INTEGER (a
/// `RangeError` beyond 64 bits), a string TEXT, a `Buffer` or other
/// `ArrayBufferView` a BLOB, `null` and `undefined` NULL; anything else
/// (booleans included) is a `TypeError`.
///
/// For the bun face, as bun:sqlite: a boolean is the INTEGER 1 or 0, and a
/// number takes the bound numbers' rule (`params_bun::bun_integer`: a whole
/// safe number but -0 is an INTEGER), so `typeof(f())` and `f() || ''` read
/// as they do there.
pub fn set_result(js: Js, ctx: *mut ffi::sqlite3_context, value: napi_value, registered: &Registered) -> Result<()> {
    if registered.face.is_bun() {
        let integer = match js.kind(value)? {
            Kind::Boolean => Some(js.boolean(value)? as i64),
            Kind::Number => crate::params_bun::bun_integer(js.number(value)?),
            _ => None,
        };
        if let Some(integer) = integer {
            // SAFETY: `ctx` is the live context of the running call.
            unsafe { ffi::sqlite3_result_int64(ctx, integer) };
            return Ok(());
        }
    }
    set_value(js, ctx, value, Source::Function(&registered.name))
}

/// Who gave a JS value to SQLite, for messages.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A user-defined function (or aggregate) of this name returned it.
    Function(&'a str),
    /// The rows() generator of this virtual table module yielded it.
    Table(&'a str),
}

impl Source<'_> {
    /// "User-defined function f() returned" or "Virtual table module "t" yielded".
    fn gave(self) -> String {
        match self {
            Source::Function(name) => format!("User-defined function {name}() returned"),
            Source::Table(name) => format!("Virtual table module \"{name}\" yielded"),
        }
    }

    /// The error code of an invalid value.
    fn code(self) -> &'static str {
        match self {
            Source::Function(_) => "HARDENED_FUNCTION_RESULT",
            Source::Table(_) => "HARDENED_TABLE_ROW",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Source::Function(_) => "return",
            Source::Table(_) => "yield",
        }
    }
}

/// [`set_result`] for any [`Source`] (a virtual table's column value too).
pub fn set_value(js: Js, ctx: *mut ffi::sqlite3_context, value: napi_value, source: Source) -> Result<()> {
    // SAFETY (every result call below): `ctx` is the live context of the running
    // call; SQLite copies text and blob bytes (SQLITE_TRANSIENT) before returning.
    match js.kind(value)? {
        Kind::Number => unsafe { ffi::sqlite3_result_double(ctx, js.number(value)?) },
        Kind::BigInt => match js.bigint(value)? {
            Some(v) => unsafe { ffi::sqlite3_result_int64(ctx, v) },
            None => {
                return Err(Error::range(
                    source.code(),
                    format!(
                        "{} a bigint that was too big for SQLite's 64-bit integers; {} it as a string instead",
                        source.gave(),
                        source.fix()
                    ),
                ));
            }
        },
        Kind::String => {
            let mut text = Vec::new();
            js.string_into(value, &mut text)?;
            unsafe {
                ffi::sqlite3_result_text64(
                    ctx,
                    text.as_ptr().cast(),
                    text.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                )
            }
        }
        Kind::Null | Kind::Undefined => unsafe { ffi::sqlite3_result_null(ctx) },
        kind => match (kind == Kind::Object).then(|| napi_raw::view_bytes(js, value)).transpose()?.flatten() {
            Some(bytes) => unsafe {
                ffi::sqlite3_result_blob64(ctx, bytes.as_ptr().cast(), bytes.len() as u64, ffi::SQLITE_TRANSIENT())
            },
            None => return Err(invalid_result(source, kind)),
        },
    }
    Ok(())
}

fn invalid_result(source: Source, kind: Kind) -> Error {
    let got = match kind {
        Kind::Boolean => "a boolean",
        Kind::Object => "an object",
        _ => "a symbol or function",
    };
    Error::type_error(
        source.code(),
        format!(
            "{} an invalid value ({got}); {} a number, bigint, string, Buffer/Uint8Array, null or undefined \
             (convert booleans with Number(), objects with JSON.stringify())",
            source.gave(),
            source.fix()
        ),
    )
}
