//! Bind values of the async handle: converted from JS on the JS thread (with
//! the main face's rules: numbers bind as REAL, bigints as INTEGER, booleans
//! as 0/1, Buffers and Uint8Arrays as BLOBs), then bound on a pool thread.

use rusqlite::types::Value;
use rusqlite::ffi;

use crate::errors::{Error, Result};
use crate::values::unbindable;
use crate::js::{Js, JsAny, Kind};

/// Converts one JS value; `what` names it in errors ("Parameter 2").
pub fn from_js(js: Js, value: JsAny, what: &dyn Fn() -> String) -> Result<Value> {
    let value = value.0;
    Ok(match js.kind(value)? {
        Kind::Undefined | Kind::Null => Value::Null,
        Kind::Boolean => Value::Integer(js.boolean(value)? as i64),
        Kind::Number => Value::Real(js.number(value)?),
        Kind::String => {
            let mut bytes = Vec::new();
            js.string_into(value, &mut bytes)?;
            Value::Text(String::from_utf8_lossy(&bytes).into_owned())
        }
        Kind::BigInt => match js.bigint(value)? {
            Some(v) => Value::Integer(v),
            None => {
                return Err(Error::range(
                    "HARDENED_INTEGER_OVERFLOW",
                    format!("{} is a BigInt outside SQLite's 64-bit integer range; store it as TEXT instead", what()),
                ));
            }
        },
        Kind::Object => match js.bytes(value)? {
            Some(bytes) => Value::Blob(bytes.to_vec()),
            None => return Err(unbindable(what(), "an object")),
        },
        Kind::Other => return Err(unbindable(what(), "a symbol or function")),
    })
}

/// A statement values can be bound to: rusqlite's, or a raw handle (a cursor).
pub trait Parameters {
    /// `sqlite3_bind_parameter_count`.
    fn count(&self) -> usize;
    /// The name of parameter `index` (1-based) as written (`:id`, `?2`), if any.
    fn name(&self, index: usize) -> Option<String>;
    /// Binds `value` to parameter `index`.
    fn bind_value(&mut self, index: usize, value: &Value) -> Result<()>;
}

impl Parameters for rusqlite::Statement<'_> {
    fn count(&self) -> usize {
        self.parameter_count()
    }
    fn name(&self, index: usize) -> Option<String> {
        self.parameter_name(index).map(str::to_string)
    }
    fn bind_value(&mut self, index: usize, value: &Value) -> Result<()> {
        self.raw_bind_parameter(index, value).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, m) => Error::Sqlite { code: f.extended_code, message: m.unwrap_or_else(|| f.to_string()) },
            other => Error::from(other),
        })
    }
}

/// A live raw statement handle (see `cursor.rs`).
pub struct RawStatement(pub *mut ffi::sqlite3_stmt);

impl Parameters for RawStatement {
    fn count(&self) -> usize {
        // SAFETY: the handle is live (the cursor owns it until finalized).
        unsafe { ffi::sqlite3_bind_parameter_count(self.0) as usize }
    }
    fn name(&self, index: usize) -> Option<String> {
        // SAFETY: as above; the name is copied at once.
        unsafe {
            let ptr = ffi::sqlite3_bind_parameter_name(self.0, index as i32);
            (!ptr.is_null()).then(|| std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned())
        }
    }
    fn bind_value(&mut self, index: usize, value: &Value) -> Result<()> {
        let i = index as i32;
        // SAFETY (every bind call): the handle is live and `index` within its count; text and blob
        // bytes are copied by SQLite (SQLITE_TRANSIENT) before the call returns.
        let rc = unsafe {
            match value {
                Value::Null => ffi::sqlite3_bind_null(self.0, i),
                Value::Integer(v) => ffi::sqlite3_bind_int64(self.0, i, *v),
                Value::Real(f) => ffi::sqlite3_bind_double(self.0, i, *f),
                Value::Text(t) => ffi::sqlite3_bind_text64(self.0, i, t.as_ptr().cast(), t.len() as u64, ffi::SQLITE_TRANSIENT(), ffi::SQLITE_UTF8 as u8),
                Value::Blob(b) => ffi::sqlite3_bind_blob64(self.0, i, b.as_ptr().cast(), b.len() as u64, ffi::SQLITE_TRANSIENT()),
            }
        };
        if rc == ffi::SQLITE_OK {
            return Ok(());
        }
        // SAFETY: the connection of a live statement is open.
        Err(crate::connection::last_error(unsafe { ffi::sqlite3_db_handle(self.0) }, rc))
    }
}

/// Binds `positional` and `named` to every parameter of `stmt`, with the sync
/// API's rules and errors (`params.rs`): `?` and `?NNN` take the next positional
/// value, `:id`, `@id` and `$id` the key `id` (or `$id`) of the named object.
pub fn bind(stmt: &mut impl Parameters, positional: &[Value], named: Option<&[(String, Value)]>) -> Result<()> {
    let mut next = 0;
    let mut has_named = false;
    for index in 1..=stmt.count() {
        let name = stmt.name(index);
        let value = match name {
            Some(full) if !full.starts_with('?') => {
                has_named = true;
                named_value(named, &full)?
            }
            _ => {
                let Some(value) = positional.get(next) else {
                    return Err(Error::range(
                        "HARDENED_PARAMETER_COUNT",
                        format!("Too few parameter values were provided: the statement needs more than {next}"),
                    ));
                };
                next += 1;
                value
            }
        };
        stmt.bind_value(index, value)?;
    }
    if next < positional.len() {
        return Err(Error::range(
            "HARDENED_PARAMETER_COUNT",
            format!("Too many parameter values were provided: {} given, the statement takes {next}", positional.len()),
        ));
    }
    if named.is_some() && !has_named {
        return Err(Error::type_error(
            "HARDENED_INVALID_ARGUMENT",
            "Named parameters were given but the statement has none; use :name, @name or $name in the SQL",
        ));
    }
    Ok(())
}

fn named_value<'a>(named: Option<&'a [(String, Value)]>, full: &str) -> Result<&'a Value> {
    let bare = &full[1..];
    let Some(named) = named else {
        return Err(Error::type_error(
            "HARDENED_MISSING_PARAMETER",
            format!("Missing named parameters: the statement uses \"{full}\"; pass an object such as {{ {bare}: value }}"),
        ));
    };
    named.iter().find(|(key, _)| key == bare).or_else(|| named.iter().find(|(key, _)| key == full)).map(|(_, v)| v).ok_or_else(
        || {
            Error::range(
                "HARDENED_MISSING_PARAMETER",
                format!("Missing named parameter \"{full}\": pass an object with a \"{bare}\" key"),
            )
        },
    )
}

