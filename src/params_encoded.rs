//! Parameters that JS wrote into the scratch buffer (lib/encoded-params.js)
//! instead of passing them as Node-API arguments: a tag and an 8-byte slot per
//! value, TEXT and BLOB bytes after them. Binding five values through
//! Node-API takes about thirteen calls (the type of each, then its value),
//! which cost Bun 20 ns or more each; read from the scratch buffer they cost
//! none. JS encodes only what it can type without running user code (numbers,
//! strings, bigints, booleans, `null`, `undefined`, and `Uint8Array`s), with
//! each face's rules, and only when the values fill the statement's parameters
//! by position; anything else goes through `params::bind_args` as before.

use napi::sys::napi_value;
use rusqlite::ffi;

use crate::errors::{Error, Result};
use crate::js::Js;
use crate::statement::{Param, Statement};
use crate::values::{self, layout};

/// The parameter values of a hot call: its Node-API arguments, or the number
/// of values JS encoded into the scratch buffer for it.
#[derive(Clone, Copy)]
pub enum CallParams<'a> {
    /// Values passed as arguments (possibly none).
    Args(&'a [napi_value]),
    /// Values encoded into the scratch buffer (at least one).
    Encoded(usize),
}

impl<'a> CallParams<'a> {
    /// The parameters of a call with arguments `args` and `encoded` values in
    /// the scratch buffer (see [`take`]); JS never sends both.
    pub fn new(args: &'a [napi_value], encoded: Option<usize>) -> Result<Self> {
        match encoded {
            None => Ok(CallParams::Args(args)),
            Some(count) if args.is_empty() => Ok(CallParams::Encoded(count)),
            Some(_) => Err(internal("parameters came both encoded and as arguments")),
        }
    }

    /// Whether the call brought no parameter values at all.
    pub fn is_empty(&self) -> bool {
        matches!(self, CallParams::Args([]))
    }
}

/// Takes the count of values JS encoded for the hot call now starting, and
/// clears it, so that a call that fails before binding leaves nothing behind
/// for the next one. `None` when the call passes its values as arguments.
pub fn take(js: Js) -> Result<Option<usize>> {
    take_from(values::scratch_memory(js)?.0)
}

/// [`take`] from the scratch memory `data`.
pub fn take_from(data: *mut u8) -> Result<Option<usize>> {
    // SAFETY: `data` is the live scratch memory; the field lies in its header
    // (`layout::ENCODED + 4 <= layout::TAGS`); no JS runs during the call.
    let marker = unsafe { data.add(layout::ENCODED).cast::<i32>().read_unaligned() };
    if marker == 0 {
        return Ok(None);
    }
    // SAFETY: as above.
    unsafe { data.add(layout::ENCODED).cast::<i32>().write_unaligned(0) };
    match usize::try_from(marker - 1) {
        Ok(count) if (1..=layout::MAX_PARAMS).contains(&count) => Ok(Some(count)),
        _ => Err(internal("the count of encoded parameters is out of range")),
    }
}

/// Whether JS encoded values for the hot call now starting (without taking them).
pub fn is_waiting(data: *mut u8) -> bool {
    // SAFETY: as in `take_from`.
    unsafe { data.add(layout::ENCODED).cast::<i32>().read_unaligned() != 0 }
}

/// Binds the `count` encoded values to parameters 1..=count of `stmt`. JS
/// encodes only when `count` is the statement's [`positional_count`].
/// `data` is the scratch memory.
pub fn bind(data: *mut u8, stmt: &Statement, raw: *mut ffi::sqlite3_stmt, count: usize) -> Result<()> {
    if positional_count(stmt) != Some(count) {
        return Err(internal("the encoded parameters do not fit the statement"));
    }
    // JS tags every number alike; each face binds it by its own rule.
    let bun_numbers = stmt.face.is_bun();
    for i in 0..count {
        let index = i as i32 + 1;
        // SAFETY: `data` is the live scratch memory and `i < MAX_PARAMS`, so the
        // tag and the 8-byte slot lie in the parameter area; no JS runs now.
        let (tag, slot) = unsafe {
            let slot = data.add(layout::PARAM_SLOTS + 8 * i);
            (*data.add(layout::PARAM_TAGS + i), slot)
        };
        // SAFETY (reads of `slot`): 8 bytes in bounds, as above; unaligned reads.
        // SAFETY (bind calls): `raw` is the live handle of `stmt` and `index` is
        // within its parameter count (`count` is it); SQLite copies TEXT and BLOB
        // bytes (SQLITE_TRANSIENT) before the call returns, and `bytes` checked
        // that they lie in the parameter data area.
        let rc = unsafe {
            match tag {
                layout::TAG_NULL => ffi::sqlite3_bind_null(raw, index),
                layout::TAG_NUMBER if bun_numbers => crate::params_bun::bind_number(raw, index, slot.cast::<f64>().read_unaligned()),
                layout::TAG_NUMBER => ffi::sqlite3_bind_double(raw, index, slot.cast::<f64>().read_unaligned()),
                layout::TAG_INTEGER => ffi::sqlite3_bind_int64(raw, index, whole(slot.cast::<f64>().read_unaligned())?),
                layout::TAG_BIGINT => ffi::sqlite3_bind_int64(raw, index, slot.cast::<i64>().read_unaligned()),
                layout::TAG_UTF8 => {
                    let (start, len) = bytes(slot)?;
                    let text = data.add(start).cast();
                    ffi::sqlite3_bind_text64(raw, index, text, len as u64, ffi::SQLITE_TRANSIENT(), ffi::SQLITE_UTF8 as u8)
                }
                layout::TAG_BLOB => {
                    let (start, len) = bytes(slot)?;
                    ffi::sqlite3_bind_blob64(raw, index, data.add(start).cast(), len as u64, ffi::SQLITE_TRANSIENT())
                }
                _ => return Err(internal("an encoded parameter has an unknown tag")),
            }
        };
        values::bind_rc(raw, rc)?;
    }
    Ok(())
}

/// How many values fill `stmt`'s parameters by position when JS encodes them:
/// all of them on the bun face (values fill `?1..?N` whatever their names);
/// on the main face only when none is named (named ones come from an object).
pub fn positional_count(stmt: &Statement) -> Option<usize> {
    let by_position = stmt.face.is_bun() || stmt.params.iter().all(|p| matches!(p, Param::Positional));
    by_position.then_some(stmt.params.len())
}

/// The i64 of a `TAG_INTEGER` slot, which JS fills with a safe integer only.
fn whole(n: f64) -> Result<i64> {
    if n.fract() == 0.0 && n.abs() <= values::MAX_SAFE_INTEGER as f64 {
        Ok(n as i64)
    } else {
        Err(internal("an encoded INTEGER parameter is not a safe integer"))
    }
}

/// The byte offset and length of a TEXT or BLOB slot, checked to lie within
/// the parameter data area.
///
/// # Safety
/// `slot` must point to 8 readable bytes.
unsafe fn bytes(slot: *const u8) -> Result<(usize, usize)> {
    // SAFETY: the caller's contract; two unaligned i32 reads within the 8 bytes.
    let (start, len) = unsafe { (slot.cast::<i32>().read_unaligned(), slot.add(4).cast::<i32>().read_unaligned()) };
    let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len)) else {
        return Err(internal("an encoded TEXT or BLOB parameter has a negative offset or length"));
    };
    if start < layout::PARAM_DATA || start.checked_add(len).is_none_or(|end| end > layout::BYTES) {
        return Err(internal("an encoded TEXT or BLOB parameter lies outside the parameter area"));
    }
    Ok((start, len))
}

fn internal(what: &str) -> Error {
    Error::hardened("HARDENED_INTERNAL", format!("hardened-sqlite: {what}; please report this as a bug"))
}
