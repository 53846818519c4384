//! A thin, checked layer over the raw Node-API calls the hot path needs.
//!
//! napi-rs's typed values cost an allocation or a type check per access; the
//! statement hot path instead works on raw `napi_value`s through [`Js`], whose
//! methods each make one Node-API call and turn a failed status into an error.

use std::ffi::CStr;
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName, ValidateNapiValue};
use napi::{Env, ValueType, sys};

use crate::errors::{Error, Result};

/// Any JS value, passed through napi-rs untouched.
#[derive(Clone, Copy, Debug)]
pub struct JsAny(pub sys::napi_value);

impl TypeName for JsAny {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for JsAny {}

impl FromNapiValue for JsAny {
    unsafe fn from_napi_value(_env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        Ok(JsAny(value))
    }
}

impl ToNapiValue for JsAny {
    unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        Ok(value.0)
    }
}

/// The JS type of a value, as `typeof` sees it (with `null` apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `undefined`
    Undefined,
    /// `null`
    Null,
    /// `boolean`
    Boolean,
    /// `number`
    Number,
    /// `string`
    String,
    /// `bigint`
    BigInt,
    /// any object, array or typed array
    Object,
    /// `symbol`, `function` or an external
    Other,
}

/// The environment of the current Node-API call.
#[derive(Clone, Copy)]
pub struct Js {
    env: sys::napi_env,
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::type_error("HARDENED_NODE_API", format!("a Node-API call failed with status {status}")))
    }
}

// SAFETY (for every method below): `Js` is only built from the `Env` napi-rs hands
// to the current call, so `env` is live on this thread for the call's duration, and
// every `napi_value` passed in came from that same call (its arguments or values
// created in it). Out pointers are locals. A failed status becomes an error.
impl Js {
    /// The environment of the current call.
    pub fn new(env: &Env) -> Js {
        Js { env: env.raw() }
    }

    /// `typeof value`, with `null` told apart.
    pub fn kind(self, value: sys::napi_value) -> Result<Kind> {
        let mut t = 0;
        check(unsafe { sys::napi_typeof(self.env, value, &mut t) })?;
        Ok(match t {
            sys::ValueType::napi_undefined => Kind::Undefined,
            sys::ValueType::napi_null => Kind::Null,
            sys::ValueType::napi_boolean => Kind::Boolean,
            sys::ValueType::napi_number => Kind::Number,
            sys::ValueType::napi_string => Kind::String,
            sys::ValueType::napi_bigint => Kind::BigInt,
            sys::ValueType::napi_object => Kind::Object,
            _ => Kind::Other,
        })
    }

    /// Whether `value` is an array.
    pub fn is_array(self, value: sys::napi_value) -> Result<bool> {
        let mut yes = false;
        check(unsafe { sys::napi_is_array(self.env, value, &mut yes) })?;
        Ok(yes)
    }

    /// Whether `value` is a plain object (its prototype is `Object.prototype` or `null`).
    pub fn is_plain_object(self, value: sys::napi_value) -> Result<bool> {
        let (mut proto, mut fresh, mut object_proto) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        check(unsafe { sys::napi_get_prototype(self.env, value, &mut proto) })?;
        if self.kind(proto)? == Kind::Null {
            return Ok(true);
        }
        check(unsafe { sys::napi_create_object(self.env, &mut fresh) })?;
        check(unsafe { sys::napi_get_prototype(self.env, fresh, &mut object_proto) })?;
        let mut same = false;
        check(unsafe { sys::napi_strict_equals(self.env, proto, object_proto, &mut same) })?;
        Ok(same)
    }

    /// The bytes of a `Buffer` or `Uint8Array`, or `None` for any other value.
    pub fn bytes(self, value: sys::napi_value) -> Result<Option<&'static [u8]>> {
        let mut yes = false;
        check(unsafe { sys::napi_is_typedarray(self.env, value, &mut yes) })?;
        if !yes {
            return Ok(None);
        }
        let (mut kind, mut len, mut data) = (0, 0usize, ptr::null_mut());
        let (mut buffer, mut offset) = (ptr::null_mut(), 0usize);
        check(unsafe {
            sys::napi_get_typedarray_info(self.env, value, &mut kind, &mut len, &mut data, &mut buffer, &mut offset)
        })?;
        if kind != sys::TypedarrayType::uint8_array && kind != sys::TypedarrayType::uint8_clamped_array {
            return Ok(None);
        }
        if len == 0 || data.is_null() {
            return Ok(Some(&[]));
        }
        // The slice is only read while the JS value is alive (within this call).
        Ok(Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }))
    }

    /// A boolean's value.
    pub fn boolean(self, value: sys::napi_value) -> Result<bool> {
        let mut b = false;
        check(unsafe { sys::napi_get_value_bool(self.env, value, &mut b) })?;
        Ok(b)
    }

    /// A number's value.
    pub fn number(self, value: sys::napi_value) -> Result<f64> {
        let mut n = 0.0;
        check(unsafe { sys::napi_get_value_double(self.env, value, &mut n) })?;
        Ok(n)
    }

    /// A bigint's value, or `None` if it does not fit in 64 signed bits.
    pub fn bigint(self, value: sys::napi_value) -> Result<Option<i64>> {
        let (mut v, mut lossless) = (0i64, false);
        check(unsafe { sys::napi_get_value_bigint_int64(self.env, value, &mut v, &mut lossless) })?;
        Ok(lossless.then_some(v))
    }

    /// Copies a string's UTF-8 bytes into `out` (cleared first).
    pub fn string_into(self, value: sys::napi_value, out: &mut Vec<u8>) -> Result<()> {
        let mut len = 0usize;
        check(unsafe { sys::napi_get_value_string_utf8(self.env, value, ptr::null_mut(), 0, &mut len) })?;
        out.clear();
        out.reserve(len + 1);
        let mut written = 0usize;
        check(unsafe {
            sys::napi_get_value_string_utf8(self.env, value, out.as_mut_ptr().cast(), len + 1, &mut written)
        })?;
        // SAFETY: Node-API wrote `written` bytes into the reserved capacity.
        unsafe { out.set_len(written) };
        Ok(())
    }

    /// `array.length`.
    pub fn array_len(self, array: sys::napi_value) -> Result<u32> {
        let mut len = 0;
        check(unsafe { sys::napi_get_array_length(self.env, array, &mut len) })?;
        Ok(len)
    }

    /// `array[index]`.
    pub fn element(self, array: sys::napi_value, index: u32) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_element(self.env, array, index, &mut value) })?;
        Ok(value)
    }

    /// `name in object` (own or inherited).
    pub fn has(self, object: sys::napi_value, name: &CStr) -> Result<bool> {
        let mut yes = false;
        check(unsafe { sys::napi_has_named_property(self.env, object, name.as_ptr(), &mut yes) })?;
        Ok(yes)
    }

    /// `object[name]`.
    pub fn get(self, object: sys::napi_value, name: &CStr) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_named_property(self.env, object, name.as_ptr(), &mut value) })?;
        Ok(value)
    }

    /// `object[name] = value`.
    pub fn set(self, object: sys::napi_value, name: &CStr, value: sys::napi_value) -> Result<()> {
        check(unsafe { sys::napi_set_named_property(self.env, object, name.as_ptr(), value) })
    }

    /// A new array with room for `len` elements.
    pub fn array(self, len: usize) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_create_array_with_length(self.env, len, &mut value) })?;
        Ok(value)
    }

    /// `array[index] = value`.
    pub fn set_element(self, array: sys::napi_value, index: u32, value: sys::napi_value) -> Result<()> {
        check(unsafe { sys::napi_set_element(self.env, array, index, value) })
    }

    /// A new plain object.
    pub fn object(self) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_create_object(self.env, &mut value) })?;
        Ok(value)
    }

    /// `undefined`.
    pub fn undefined(self) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_undefined(self.env, &mut value) })?;
        Ok(value)
    }

    /// `null`.
    pub fn null(self) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_null(self.env, &mut value) })?;
        Ok(value)
    }

    /// A number from a double.
    pub fn double(self, v: f64) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_create_double(self.env, v, &mut value) })?;
        Ok(value)
    }

    /// A number from an integer (exact up to 2^53).
    pub fn int(self, v: i64) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_create_int64(self.env, v, &mut value) })?;
        Ok(value)
    }

    /// A bigint.
    pub fn big(self, v: i64) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_create_bigint_int64(self.env, v, &mut value) })?;
        Ok(value)
    }

    /// A string from UTF-8 bytes.
    pub fn str_bytes(self, bytes: &[u8]) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe {
            sys::napi_create_string_utf8(self.env, bytes.as_ptr().cast(), bytes.len() as isize, &mut value)
        })?;
        Ok(value)
    }

    /// A `Buffer` holding a copy of `bytes`.
    pub fn buffer(self, bytes: &[u8]) -> Result<sys::napi_value> {
        let (mut value, mut data) = (ptr::null_mut(), ptr::null_mut());
        // An empty slice may have a dangling pointer; Node-API copies zero bytes from it.
        check(unsafe {
            sys::napi_create_buffer_copy(self.env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut value)
        })?;
        Ok(value)
    }
}
