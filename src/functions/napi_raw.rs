//! The few raw Node-API calls user-defined functions need beyond [`Js`]:
//! numbers and bigints out, typed-array bytes in, functions called with their
//! exception caught.

use std::ptr;

use napi::sys::{self, napi_value};

use crate::errors::{Error, Result};
use crate::js::Js;

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::type_error("HARDENED_NODE_API", format!("a Node-API call failed with status {status}")))
    }
}

// SAFETY (for every function below): `js` wraps the environment of the running
// callback (the trampoline builds it from the environment the function was
// registered in, after checking it is alive), values passed in were created in
// it during this call, and out pointers are locals.

/// A JS number.
pub fn double(js: Js, v: f64) -> Result<napi_value> {
    let mut value = ptr::null_mut();
    check(unsafe { sys::napi_create_double(js.raw_env(), v, &mut value) })?;
    Ok(value)
}

/// A JS bigint.
pub fn bigint(js: Js, v: i64) -> Result<napi_value> {
    let mut value = ptr::null_mut();
    check(unsafe { sys::napi_create_bigint_int64(js.raw_env(), v, &mut value) })?;
    Ok(value)
}

/// Whether `value` is a function.
pub fn is_function(js: Js, value: napi_value) -> Result<bool> {
    let mut t = 0;
    check(unsafe { sys::napi_typeof(js.raw_env(), value, &mut t) })?;
    Ok(t == sys::ValueType::napi_function)
}

/// The bytes of any `ArrayBufferView` (a `Buffer`, any typed array, a
/// `DataView`), as better-sqlite3 takes them; `None` for any other value. The
/// slice is only valid while the JS value is alive and not detached: use it
/// at once, before any JS runs.
pub fn view_bytes(js: Js, value: napi_value) -> Result<Option<&'static [u8]>> {
    let env = js.raw_env();
    let (mut typed, mut view) = (false, false);
    check(unsafe { sys::napi_is_typedarray(env, value, &mut typed) })?;
    let (data, len) = if typed {
        let (mut kind, mut count, mut data) = (0, 0usize, ptr::null_mut());
        let (mut buffer, mut offset) = (ptr::null_mut(), 0usize);
        check(unsafe {
            sys::napi_get_typedarray_info(env, value, &mut kind, &mut count, &mut data, &mut buffer, &mut offset)
        })?;
        (data, count * element_size(kind))
    } else {
        check(unsafe { sys::napi_is_dataview(env, value, &mut view) })?;
        if !view {
            return Ok(None);
        }
        let (mut len, mut data, mut buffer, mut offset) = (0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
        check(unsafe { sys::napi_get_dataview_info(env, value, &mut len, &mut data, &mut buffer, &mut offset) })?;
        (data, len)
    };
    if len == 0 || data.is_null() {
        return Ok(Some(&[]));
    }
    // SAFETY: Node-API reported `len` bytes at `data` for a live view.
    Ok(Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }))
}

fn element_size(kind: sys::napi_typedarray_type) -> usize {
    match kind {
        sys::TypedarrayType::int16_array | sys::TypedarrayType::uint16_array => 2,
        sys::TypedarrayType::int32_array | sys::TypedarrayType::uint32_array | sys::TypedarrayType::float32_array => 4,
        sys::TypedarrayType::float64_array
        | sys::TypedarrayType::bigint64_array
        | sys::TypedarrayType::biguint64_array => 8,
        _ => 1,
    }
}

/// What calling a JS function gave: its value, or the exception it threw
/// (taken, so the environment can go on).
pub enum Called {
    /// It returned this value.
    Returned(napi_value),
    /// It threw this value.
    Threw(napi_value),
}

/// Calls `function(...args)` with `undefined` as `this`, catching its exception.
pub fn call(js: Js, function: napi_value, args: &[napi_value]) -> Result<Called> {
    let mut receiver = ptr::null_mut();
    check(unsafe { sys::napi_get_undefined(js.raw_env(), &mut receiver) })?;
    call_on(js, receiver, function, args)
}

/// Calls `function(...args)` with `receiver` as `this` (a method such as an
/// iterator's `next()`), catching its exception.
pub fn call_on(js: Js, receiver: napi_value, function: napi_value, args: &[napi_value]) -> Result<Called> {
    let env = js.raw_env();
    let mut result = ptr::null_mut();
    let status = unsafe { sys::napi_call_function(env, receiver, function, args.len(), args.as_ptr(), &mut result) };
    if let Some(thrown) = take_exception(js)? {
        return Ok(Called::Threw(thrown));
    }
    check(status)?;
    Ok(Called::Returned(result))
}

/// The pending JS exception, cleared, if there is one.
pub fn take_exception(js: Js) -> Result<Option<napi_value>> {
    let env = js.raw_env();
    let mut pending = false;
    check(unsafe { sys::napi_is_exception_pending(env, &mut pending) })?;
    if !pending {
        return Ok(None);
    }
    let mut thrown = ptr::null_mut();
    check(unsafe { sys::napi_get_and_clear_last_exception(env, &mut thrown) })?;
    Ok(Some(thrown))
}
