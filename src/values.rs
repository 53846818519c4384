//! Converting values between JS and SQLite: binding one parameter, and reading
//! one column of the current row.

use std::cell::RefCell;

use napi::sys::napi_value;
use rusqlite::ffi;

use crate::errors::{Error, Result};
use crate::js::{Js, Kind};

/// Largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

thread_local! {
    /// Reused buffer for string parameters, so binding a string allocates nothing.
    static TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn bind_rc(raw: *mut ffi::sqlite3_stmt, rc: i32) -> Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: the connection of a live statement is open.
    Err(crate::connection::last_error(unsafe { ffi::sqlite3_db_handle(raw) }, rc))
}

/// Binds JS `value` to parameter `index` (1-based). `what` names the parameter in errors.
pub fn bind(js: Js, raw: *mut ffi::sqlite3_stmt, index: i32, value: napi_value, what: &dyn Fn() -> String) -> Result<()> {
    // SAFETY (every bind call below): `raw` is a live statement handle and `index`
    // is within its parameter count; text and blob bytes are copied by SQLite
    // (SQLITE_TRANSIENT) before the call returns.
    let rc = match js.kind(value)? {
        Kind::Undefined | Kind::Null => unsafe { ffi::sqlite3_bind_null(raw, index) },
        Kind::Boolean => unsafe { ffi::sqlite3_bind_int64(raw, index, js.boolean(value)? as i64) },
        Kind::Number => {
            let n = js.number(value)?;
            if n.fract() == 0.0 && (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&n) {
                unsafe { ffi::sqlite3_bind_int64(raw, index, n as i64) }
            } else {
                unsafe { ffi::sqlite3_bind_double(raw, index, n) }
            }
        }
        Kind::String => TEXT.with(|cell| -> Result<i32> {
            let mut text = cell.borrow_mut();
            js.string_into(value, &mut text)?;
            Ok(unsafe {
                ffi::sqlite3_bind_text64(
                    raw,
                    index,
                    text.as_ptr().cast(),
                    text.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                )
            })
        })?,
        Kind::BigInt => match js.bigint(value)? {
            Some(v) => unsafe { ffi::sqlite3_bind_int64(raw, index, v) },
            None => {
                return Err(Error::range(
                    "HARDENED_INTEGER_OVERFLOW",
                    format!("{} is a BigInt outside SQLite's 64-bit integer range; store it as TEXT instead", what()),
                ));
            }
        },
        Kind::Object => match js.bytes(value)? {
            Some(bytes) => unsafe {
                ffi::sqlite3_bind_blob64(raw, index, bytes.as_ptr().cast(), bytes.len() as u64, ffi::SQLITE_TRANSIENT())
            },
            None => return Err(unbindable(what(), "an object")),
        },
        Kind::Other => return Err(unbindable(what(), "a symbol or function")),
    };
    bind_rc(raw, rc)
}

fn unbindable(what: String, got: &str) -> Error {
    Error::type_error(
        "HARDENED_INVALID_ARGUMENT",
        format!(
            "{what} is {got}; SQLite can only bind numbers, strings, bigints, booleans, Buffers/Uint8Arrays and null \
             (convert dates with .toISOString() or .getTime(), and objects with JSON.stringify())"
        ),
    )
}

/// Reads column `col` of the current row as a JS value.
///
/// An INTEGER beyond ±2^53 is a `bigint` when `safe_integers` is on and a
/// `RangeError` otherwise: it is never silently rounded.
pub fn column(js: Js, raw: *mut ffi::sqlite3_stmt, col: i32, safe_integers: bool) -> Result<napi_value> {
    // SAFETY (every column call below): `raw` is live and positioned on a row
    // (the caller's `step` returned true), and `col` is below the column count.
    // Text and blob pointers stay valid until the next step/reset, and are copied
    // into JS values at once.
    match unsafe { ffi::sqlite3_column_type(raw, col) } {
        ffi::SQLITE_INTEGER => {
            let v = unsafe { ffi::sqlite3_column_int64(raw, col) };
            if safe_integers {
                js.big(v)
            } else if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
                js.int(v)
            } else {
                Err(unsafe_integer(raw, col, v))
            }
        }
        ffi::SQLITE_FLOAT => js.double(unsafe { ffi::sqlite3_column_double(raw, col) }),
        ffi::SQLITE_TEXT => {
            let ptr = unsafe { ffi::sqlite3_column_text(raw, col) };
            let len = unsafe { ffi::sqlite3_column_bytes(raw, col) } as usize;
            if ptr.is_null() {
                return js.str_bytes(&[]);
            }
            js.str_bytes(unsafe { std::slice::from_raw_parts(ptr, len) })
        }
        ffi::SQLITE_BLOB => {
            let ptr = unsafe { ffi::sqlite3_column_blob(raw, col) };
            let len = unsafe { ffi::sqlite3_column_bytes(raw, col) } as usize;
            if ptr.is_null() || len == 0 {
                return js.buffer(&[]);
            }
            js.buffer(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
        }
        _ => js.null(),
    }
}

fn unsafe_integer(raw: *mut ffi::sqlite3_stmt, col: i32, v: i64) -> Error {
    // SAFETY: as in `column`; the name is copied at once.
    let name = unsafe {
        let ptr = ffi::sqlite3_column_name(raw, col);
        if ptr.is_null() { String::new() } else { std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned() }
    };
    Error::range(
        "HARDENED_INTEGER_OVERFLOW",
        format!(
            "Column \"{name}\" holds {v}, beyond JavaScript's safe integer range (±2^53); call .safeIntegers() on \
             the statement or db.defaultSafeIntegers() to read it as a BigInt"
        ),
    )
}
