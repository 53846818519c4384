//! Binding a call's arguments to a statement, with better-sqlite3's rules:
//! each argument is a value, an array of values, or one object of named values.
//! Statements of the bun face bind with bun:sqlite's rules (`params_bun.rs`).

use std::cell::Cell;

use napi::sys::napi_value;
use rusqlite::ffi;

use crate::errors::{Error, Result};
use crate::js::{Js, Kind};
use crate::statement::{Param, Statement};
use crate::values;

thread_local! {
    /// Reused list of positional values and their kinds, so binding allocates nothing per call.
    /// Taken out while in use: a getter on a named-parameter object may bind another statement.
    static POSITIONAL: Cell<Vec<(napi_value, Kind)>> = const { Cell::new(Vec::new()) };
}

/// Splits the argument list into positional values and at most one named object.
fn collect(js: Js, args: &[napi_value], positional: &mut Vec<(napi_value, Kind)>) -> Result<Option<napi_value>> {
    let mut named = None;
    for &arg in args {
        let kind = js.kind(arg)?;
        if kind != Kind::Object {
            positional.push((arg, kind));
        } else if js.is_array(arg)? {
            for j in 0..js.array_len(arg)? {
                let value = js.element(arg, j)?;
                positional.push((value, js.kind(value)?));
            }
        } else if js.bytes(arg)?.is_some() || !js.is_plain_object(arg)? {
            // Buffers bind as BLOBs; Dates, Maps and class instances reach
            // `values::bind`, which explains why they cannot be stored.
            positional.push((arg, kind));
        } else if named.replace(arg).is_some() {
            return Err(Error::type_error(
                "HARDENED_INVALID_ARGUMENT",
                "You cannot specify named parameters in two different objects; merge them into one",
            ));
        }
    }
    Ok(named)
}

/// Binds `args` (a call's arguments) to every parameter of `stmt`.
pub fn bind_args(js: Js, stmt: &Statement, raw: *mut ffi::sqlite3_stmt, args: &[napi_value]) -> Result<()> {
    if stmt.face.is_bun() {
        return crate::params_bun::bind_args(js, stmt, raw, args);
    }
    let mut positional = POSITIONAL.take();
    positional.clear();
    let bound = collect(js, args, &mut positional).and_then(|named| bind_all(js, stmt, raw, &positional, named));
    POSITIONAL.set(positional);
    bound
}

fn bind_all(
    js: Js,
    stmt: &Statement,
    raw: *mut ffi::sqlite3_stmt,
    positional: &[(napi_value, Kind)],
    named: Option<napi_value>,
) -> Result<()> {
    let mut next = 0;
    for (i, param) in stmt.params.iter().enumerate() {
        let index = i as i32 + 1;
        match param {
            Param::Positional => {
                let Some(&(value, kind)) = positional.get(next) else {
                    return Err(Error::range(
                        "HARDENED_PARAMETER_COUNT",
                        format!("Too few parameter values were provided: the statement needs more than {next}"),
                    ));
                };
                next += 1;
                values::bind(js, raw, index, value, kind, &|| format!("Parameter {index}"))?;
            }
            Param::Named { bare, full } => {
                let value = named_value(js, named, bare, full)?;
                let what = || format!("Named parameter \"{}\"", full.to_string_lossy());
                values::bind(js, raw, index, value, js.kind(value)?, &what)?;
            }
        }
    }
    if next < positional.len() {
        // As in better-sqlite3, a value that could never be bound is a TypeError before it is one too many.
        if let Some(&(value, kind)) = positional[next..].iter().find(|(_, kind)| *kind == Kind::Other) {
            let index = next as i32 + 1;
            values::bind(js, raw, index, value, kind, &|| format!("Parameter {index}"))?;
        }
        return Err(Error::range(
            "HARDENED_PARAMETER_COUNT",
            format!("Too many parameter values were provided: {} given, the statement takes {next}", positional.len()),
        ));
    }
    if named.is_some() && !stmt.params.iter().any(|p| matches!(p, Param::Named { .. })) {
        return Err(Error::type_error(
            "HARDENED_INVALID_ARGUMENT",
            "Named parameters were given but the statement has none; use :name, @name or $name in the SQL",
        ));
    }
    Ok(())
}

fn named_value(
    js: Js,
    named: Option<napi_value>,
    bare: &std::ffi::CStr,
    full: &std::ffi::CStr,
) -> Result<napi_value> {
    let missing = || {
        Error::range(
            "HARDENED_MISSING_PARAMETER",
            format!(
                "Missing named parameter \"{}\": pass an object with a \"{}\" key",
                full.to_string_lossy(),
                bare.to_string_lossy()
            ),
        )
    };
    // As in better-sqlite3: no object at all is a TypeError, an object without the key a RangeError.
    let object = named.ok_or_else(|| {
        Error::type_error(
            "HARDENED_MISSING_PARAMETER",
            format!(
                "Missing named parameters: the statement uses \"{}\"; pass an object such as {{ {}: value }}",
                full.to_string_lossy(),
                bare.to_string_lossy()
            ),
        )
    })?;
    // `name in object` decides; a value other than `undefined` proves it without asking.
    for name in [bare, full] {
        let value = js.get(object, name)?;
        if js.kind(value)? != Kind::Undefined || js.has(object, name)? {
            return Ok(value);
        }
    }
    Err(missing())
}
