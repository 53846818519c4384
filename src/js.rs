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

/// A Node-API callback, called without napi-rs's generated glue.
pub type RawCallback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

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

    /// The environment a raw Node-API callback received.
    ///
    /// # Safety
    /// `env` must be the environment passed to the callback that is running now.
    pub unsafe fn from_raw(env: sys::napi_env) -> Js {
        Js { env }
    }

    /// A raw callback's `this` and arguments: fills `args` from the start and
    /// returns how many arguments there are (possibly more than `args` holds).
    pub fn callback_args(self, info: sys::napi_callback_info, args: &mut [sys::napi_value]) -> Result<(sys::napi_value, usize)> {
        let (mut argc, mut this) = (args.len(), ptr::null_mut());
        check(unsafe { sys::napi_get_cb_info(self.env, info, &mut argc, args.as_mut_ptr(), &mut this, ptr::null_mut()) })?;
        Ok((this, argc))
    }

    /// Defines `methods` (name, raw callback) on `object` as non-enumerable methods.
    pub fn define_methods(self, object: sys::napi_value, methods: &[(&CStr, RawCallback)]) -> Result<()> {
        let properties: Vec<sys::napi_property_descriptor> = methods
            .iter()
            .map(|&(name, method)| sys::napi_property_descriptor {
                utf8name: name.as_ptr(),
                name: ptr::null_mut(),
                method: Some(method),
                getter: None,
                setter: None,
                value: ptr::null_mut(),
                attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
                data: ptr::null_mut(),
            })
            .collect();
        check(unsafe { sys::napi_define_properties(self.env, object, properties.len(), properties.as_ptr()) })
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

    /// The bytes of any `ArrayBufferView` (a `Buffer`, any `TypedArray`, a
    /// `DataView`), which better-sqlite3 binds as a BLOB, or `None` for any other value.
    pub fn bytes(self, value: sys::napi_value) -> Result<Option<&'static [u8]>> {
        let (mut len, mut data) = (0usize, ptr::null_mut());
        let (mut typed, mut view) = (false, false);
        // SAFETY (every call below): `value` is a live JS value of this call; the out
        // pointers are valid locals.
        check(unsafe { sys::napi_is_typedarray(self.env, value, &mut typed) })?;
        if typed {
            let (mut kind, mut count, mut backing, mut offset) = (0, 0usize, ptr::null_mut(), 0usize);
            check(unsafe {
                sys::napi_get_typedarray_info(self.env, value, &mut kind, &mut count, &mut data, &mut backing, &mut offset)
            })?;
            len = count * typed_array_element_size(kind);
        } else {
            check(unsafe { sys::napi_is_dataview(self.env, value, &mut view) })?;
            if !view {
                return Ok(None);
            }
            let (mut backing, mut offset) = (ptr::null_mut(), 0usize);
            check(unsafe { sys::napi_get_dataview_info(self.env, value, &mut len, &mut data, &mut backing, &mut offset) })?;
        }
        // SAFETY: the engine reported `len` bytes at `data`, owned by `value`, a
        // value of this call that the caller reads them within.
        Ok(Some(unsafe { slice(data, len) }))
    }

    /// The bytes of any `ArrayBufferView` or `ArrayBuffer` (what bun:sqlite
    /// binds as a BLOB), or `None` for any other value.
    pub fn view_bytes(self, value: sys::napi_value) -> Result<Option<&'static [u8]>> {
        if let Some(bytes) = self.bytes(value)? {
            return Ok(Some(bytes));
        }
        let (mut buffer, mut len, mut data) = (false, 0usize, ptr::null_mut());
        // SAFETY: as in `bytes`.
        check(unsafe { sys::napi_is_arraybuffer(self.env, value, &mut buffer) })?;
        if !buffer {
            return Ok(None);
        }
        check(unsafe { sys::napi_get_arraybuffer_info(self.env, value, &mut data, &mut len) })?;
        // SAFETY: as in `bytes`.
        Ok(Some(unsafe { slice(data, len) }))
    }

    /// `String(value)` for a primitive (a bigint's digits), for messages.
    pub fn display(self, value: sys::napi_value) -> Result<String> {
        let mut text = ptr::null_mut();
        // SAFETY: `value` is a live JS value of this call; `text` is a valid out pointer.
        check(unsafe { sys::napi_coerce_to_string(self.env, value, &mut text) })?;
        let mut bytes = Vec::new();
        self.string_into(text, &mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A new `Uint8Array` holding a copy of `bytes` (a bun:sqlite BLOB).
    pub fn uint8_array(self, bytes: &[u8]) -> Result<sys::napi_value> {
        let (mut buffer, mut data, mut value) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        // SAFETY: the out pointers are valid; `data` points at `bytes.len()` fresh
        // bytes owned by the new ArrayBuffer, disjoint from `bytes`.
        unsafe {
            check(sys::napi_create_arraybuffer(self.env, bytes.len(), &mut data, &mut buffer))?;
            if !bytes.is_empty() {
                ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len());
            }
            check(sys::napi_create_typedarray(self.env, sys::TypedarrayType::uint8_array, bytes.len(), buffer, 0, &mut value))?;
        }
        Ok(value)
    }

    /// A boolean's value.
    pub fn boolean(self, value: sys::napi_value) -> Result<bool> {
        let mut b = false;
        check(unsafe { sys::napi_get_value_bool(self.env, value, &mut b) })?;
        Ok(b)
    }

    /// `true` or `false`.
    pub fn boolean_value(self, v: bool) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_boolean(self.env, v, &mut value) })?;
        Ok(value)
    }

    /// A number's value as an unsigned 32-bit integer.
    pub fn uint32(self, value: sys::napi_value) -> Result<u32> {
        let mut n = 0;
        check(unsafe { sys::napi_get_value_uint32(self.env, value, &mut n) })?;
        Ok(n)
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

    /// Copies a string's UTF-8 bytes into `out` (cleared first). One Node-API
    /// call when the string fits in `out`'s spare capacity, two otherwise.
    pub fn string_into(self, value: sys::napi_value, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        out.reserve(256);
        let room = out.capacity();
        let mut written = 0usize;
        check(unsafe { sys::napi_get_value_string_utf8(self.env, value, out.as_mut_ptr().cast(), room, &mut written) })?;
        // Node-API writes at most `room - 1` bytes and never splits a character, so
        // with at least 4 bytes to spare (the longest UTF-8 character) nothing was cut.
        if written + 4 < room {
            // SAFETY: Node-API wrote `written` bytes into the reserved capacity.
            unsafe { out.set_len(written) };
            return Ok(());
        }
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

    /// `object[name]` if `object` has its own property `name` (not one it
    /// inherits), else `None`.
    pub fn get_own(self, object: sys::napi_value, name: &CStr) -> Result<Option<sys::napi_value>> {
        let mut key = ptr::null_mut();
        let bytes = name.to_bytes();
        check(unsafe { sys::napi_create_string_utf8(self.env, bytes.as_ptr().cast(), bytes.len() as isize, &mut key) })?;
        let mut own = false;
        check(unsafe { sys::napi_has_own_property(self.env, object, key, &mut own) })?;
        if !own {
            return Ok(None);
        }
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_property(self.env, object, key, &mut value) })?;
        Ok(Some(value))
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

    /// A string from UTF-8 bytes; ASCII takes the cheaper Latin-1 path (ASCII is
    /// valid Latin-1 and needs no decoding).
    pub fn text(self, bytes: &[u8]) -> Result<sys::napi_value> {
        if !bytes.is_ascii() {
            return self.str_bytes(bytes);
        }
        let mut value = ptr::null_mut();
        check(unsafe {
            sys::napi_create_string_latin1(self.env, bytes.as_ptr().cast(), bytes.len() as isize, &mut value)
        })?;
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

    /// Calls `function(...args)` with `undefined` as `this`. A JS exception it
    /// throws stays pending and reaches the caller once this call returns.
    pub fn call(self, function: sys::napi_value, args: &[sys::napi_value]) -> Result<sys::napi_value> {
        let (mut receiver, mut result) = (ptr::null_mut(), ptr::null_mut());
        check(unsafe { sys::napi_get_undefined(self.env, &mut receiver) })?;
        check(unsafe { sys::napi_call_function(self.env, receiver, function, args.len(), args.as_ptr(), &mut result) })?;
        Ok(result)
    }

    /// Opens a handle scope from which one value can escape (see [`EscapableScope`]).
    pub fn escapable_scope(self) -> Result<EscapableScope> {
        let mut scope = ptr::null_mut();
        check(unsafe { sys::napi_open_escapable_handle_scope(self.env, &mut scope) })?;
        Ok(EscapableScope { env: self.env, scope })
    }

    /// An `ArrayBuffer` over `len` bytes at `data`, which the caller owns and
    /// keeps alive as long as JS may use the buffer; `finalize` runs when V8 or
    /// JavaScriptCore drops it.
    pub fn external_array_buffer(self, data: *mut u8, len: usize, finalize: sys::napi_finalize) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe {
            sys::napi_create_external_arraybuffer(self.env, data.cast(), len, finalize, ptr::null_mut(), &mut value)
        })?;
        Ok(value)
    }

    /// A strong reference keeping `value` alive until the environment ends.
    pub fn reference(self, value: sys::napi_value) -> Result<sys::napi_ref> {
        let mut reference = ptr::null_mut();
        check(unsafe { sys::napi_create_reference(self.env, value, 1, &mut reference) })?;
        Ok(reference)
    }

    /// A weak reference to `value`: it reads as null once the garbage collector took
    /// `value` (cleared during the collection, before any finalizer runs).
    pub fn weak_reference(self, value: sys::napi_value) -> Result<sys::napi_ref> {
        let mut reference = ptr::null_mut();
        check(unsafe { sys::napi_create_reference(self.env, value, 0, &mut reference) })?;
        Ok(reference)
    }

    /// The value a reference made by [`Js::reference`] holds.
    pub fn referenced(self, reference: sys::napi_ref) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(unsafe { sys::napi_get_reference_value(self.env, reference, &mut value) })?;
        Ok(value)
    }

    /// The raw environment, to tell environments apart.
    pub fn raw_env(self) -> sys::napi_env {
        self.env
    }

    /// Runs `hook(arg)` when this environment is torn down.
    pub fn on_teardown(self, hook: unsafe extern "C" fn(*mut std::ffi::c_void), arg: *mut std::ffi::c_void) -> Result<()> {
        check(unsafe { sys::napi_add_env_cleanup_hook(self.env, Some(hook), arg) })
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

/// A handle scope opened by [`Js::escapable_scope`]: the JS values created while
/// it is open are released when it closes (on drop), except the one escaped.
pub struct EscapableScope {
    env: sys::napi_env,
    scope: sys::napi_escapable_handle_scope,
}

impl EscapableScope {
    /// Keeps `value` alive in the enclosing scope; call at most once.
    pub fn escape(&self, value: sys::napi_value) -> Result<sys::napi_value> {
        let mut escaped = ptr::null_mut();
        // SAFETY: `scope` is open on `env` (it closes only on drop) and `value` was
        // created in this call.
        check(unsafe { sys::napi_escape_handle(self.env, self.scope, value, &mut escaped) })?;
        Ok(escaped)
    }
}

impl Drop for EscapableScope {
    fn drop(&mut self) {
        // SAFETY: scopes are dropped in reverse order of opening (they live on the
        // Rust stack of one call), so this is the innermost open scope of `env`.
        unsafe { sys::napi_close_escapable_handle_scope(self.env, self.scope) };
    }
}

/// The `len` bytes the engine reported at `data` (none when it gave no pointer).
///
/// # Safety
/// `data` must be null or point to `len` readable bytes of a live JS value,
/// and the slice may only be read while that value is alive.
unsafe fn slice(data: *mut std::ffi::c_void, len: usize) -> &'static [u8] {
    if len == 0 || data.is_null() {
        return &[];
    }
    // SAFETY: the caller's promise.
    unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
}

/// Bytes per element of a `TypedArray` kind.
fn typed_array_element_size(kind: sys::napi_typedarray_type) -> usize {
    match kind {
        sys::TypedarrayType::int16_array | sys::TypedarrayType::uint16_array => 2,
        sys::TypedarrayType::int32_array | sys::TypedarrayType::uint32_array | sys::TypedarrayType::float32_array => 4,
        sys::TypedarrayType::float64_array | sys::TypedarrayType::bigint64_array | sys::TypedarrayType::biguint64_array => 8,
        // Float16Array (not yet named by napi-sys).
        11 => 2,
        _ => 1,
    }
}
