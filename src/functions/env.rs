//! References that keep JS values (the registered functions, an aggregate's
//! start value, a thrown exception) alive, and the teardown of the JS
//! environment: once it began, no reference is touched and no JS is called.

use std::cell::Cell;
use std::ptr;

use napi::sys::{self, napi_value};

use crate::errors::Result;
use crate::js::Js;

thread_local! {
    /// The environment of this thread whose teardown hook is installed, while
    /// it lives (null before the first registration and after teardown). A JS
    /// environment runs on one thread: the main one or a worker's.
    static ALIVE: Cell<sys::napi_env> = const { Cell::new(ptr::null_mut()) };
}

/// Installs the teardown hook of `js`'s environment (once).
pub fn ensure_teardown_hook(js: Js) -> Result<()> {
    if ALIVE.get() == js.raw_env() {
        return Ok(());
    }
    js.on_teardown(teardown, js.raw_env().cast())?;
    ALIVE.set(js.raw_env());
    Ok(())
}

/// Whether `env` is alive: references made in it may be used and deleted, and
/// JS may run in it.
pub fn is_alive(env: sys::napi_env) -> bool {
    !env.is_null() && ALIVE.try_with(|alive| alive.get() == env).unwrap_or(false)
}

/// The environment ends: the stashed exceptions are released while it still
/// can be, and from now on references are forgotten rather than deleted (the
/// environment frees them all) and functions refuse to call JS.
unsafe extern "C" fn teardown(env: *mut std::ffi::c_void) {
    super::failure::clear_all();
    if ALIVE.get() == env.cast() {
        ALIVE.set(ptr::null_mut());
    }
}

/// A strong reference to a JS value, deleted on drop while its environment lives.
///
/// Node-API before version 10 refers only to objects, so any other value (a
/// number, a string, `null`: an aggregate's start value, a thrown string) is
/// kept boxed in a one-element array.
#[derive(Debug)]
pub struct JsRef {
    env: sys::napi_env,
    raw: sys::napi_ref,
    boxed: bool,
}

impl JsRef {
    /// Keeps the object or function `value` alive until dropped.
    pub fn new(js: Js, value: napi_value) -> Result<JsRef> {
        Ok(JsRef { env: js.raw_env(), raw: js.reference(value)?, boxed: false })
    }

    /// Keeps any `value` alive until dropped (boxed, see [`JsRef`]).
    pub fn boxed(js: Js, value: napi_value) -> Result<JsRef> {
        Ok(JsRef { env: js.raw_env(), raw: boxed(js, value)?, boxed: true })
    }

    /// The value (in `js`, the environment the reference was made in).
    pub fn get(&self, js: Js) -> Result<napi_value> {
        let value = js.referenced(self.raw)?;
        if self.boxed { js.element(value, 0) } else { Ok(value) }
    }
}

/// A new reference to a one-element array holding `value` (see [`unbox`]).
pub fn boxed(js: Js, value: napi_value) -> Result<sys::napi_ref> {
    let holder = js.array(1)?;
    js.set_element(holder, 0, value)?;
    js.reference(holder)
}

/// The value in the array `reference` (made by [`boxed`]) refers to.
pub fn unbox(js: Js, reference: sys::napi_ref) -> Result<napi_value> {
    js.element(js.referenced(reference)?, 0)
}

/// Replaces the value in the array `reference` (made by [`boxed`]) refers to.
pub fn rebox(js: Js, reference: sys::napi_ref, value: napi_value) -> Result<()> {
    js.set_element(js.referenced(reference)?, 0, value)
}

impl Drop for JsRef {
    fn drop(&mut self) {
        if is_alive(self.env) {
            // SAFETY: the reference was made in `env`, which is alive on this thread
            // (references are only dropped on the thread of their environment), and
            // it is deleted once, here.
            unsafe { sys::napi_delete_reference(self.env, self.raw) };
        }
    }
}
