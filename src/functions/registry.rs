//! What SQLite holds for one registered function until it destroys it: the JS
//! callbacks (as references), the connection and the options. Replacing the
//! function (same name and argument count) or closing the connection makes
//! SQLite call [`x_destroy`], which releases the references.

use std::rc::Weak;

use napi::sys;

use super::env::JsRef;
use crate::connection::Shared;

/// One registered function or aggregate.
pub struct Registered {
    /// The environment it was registered in (and whose JS it calls).
    pub env: sys::napi_env,
    /// Its SQL name, for messages.
    pub name: String,
    /// The connection; weak, since the connection owns this.
    pub shared: Weak<Shared>,
    /// INTEGER arguments arrive as bigint.
    pub safe_integers: bool,
    /// The connection's face when it was registered: how BLOB arguments and
    /// results convert (see `convert`).
    pub face: crate::face::Face,
    /// The JS side.
    pub callbacks: Callbacks,
}

/// The JS functions behind a registration.
pub enum Callbacks {
    /// `db.function(name, fn)`.
    Scalar(JsRef),
    /// `db.aggregate(name, { start, step, inverse, result })`.
    Aggregate(Aggregate),
    /// `db.table(name, definition)`: the factory lib/table.js made, which
    /// returns a parsed table definition (see `super::table`).
    Table(JsRef),
}

/// The callbacks of an aggregate (a window function when `inverse` is set).
pub struct Aggregate {
    /// The accumulator's first value.
    pub start: Start,
    /// `step(accumulator, ...args)`: the next accumulator, or `undefined` to keep it.
    pub step: JsRef,
    /// `inverse(accumulator, ...args)`: removes a row leaving the window.
    pub inverse: Option<JsRef>,
    /// `result(accumulator)`: the value of the aggregate (else the accumulator).
    pub result: Option<JsRef>,
}

/// Where an accumulator starts.
pub enum Start {
    /// Calls this function for each group.
    Call(JsRef),
    /// This value (`null` when no `start` was given).
    Value(JsRef),
}

impl Registered {
    /// What it is, for messages: `User-defined function f()` or
    /// `Virtual table module "t"` (better-sqlite3's wording).
    pub fn label(&self) -> String {
        match self.callbacks {
            Callbacks::Table(_) => format!("Virtual table module \"{}\"", self.name),
            _ => format!("User-defined function {}()", self.name),
        }
    }

    /// Hands the registration to SQLite as a function's user data.
    pub fn into_user_data(self) -> *mut std::ffi::c_void {
        Box::into_raw(Box::new(self)).cast()
    }
}

/// SQLite's destructor of a function's user data: releases the JS callbacks.
pub unsafe extern "C" fn x_destroy(data: *mut std::ffi::c_void) {
    if data.is_null() {
        return;
    }
    // Dropping must not unwind into SQLite; it only deletes references.
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `data` came from `Registered::into_user_data`, and SQLite calls the
        // destructor once (also when registration failed).
        drop(unsafe { Box::from_raw(data.cast::<Registered>()) });
    });
}
