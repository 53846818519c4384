//! SQLite's callback of a scalar user-defined function (`db.function()`).

use rusqlite::ffi;

use super::convert;
use super::registry::Callbacks;
use super::trampoline::{self, Failure};
use crate::errors::Error;

/// Calls the JS function with the arguments and sets its result.
pub unsafe extern "C" fn x_func(ctx: *mut ffi::sqlite3_context, argc: i32, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: SQLite calls this only for functions `register` created with it,
    // passing `argc` live arguments at `argv`.
    unsafe {
        trampoline::run(ctx, |call| {
            let registered = call.registered;
            let Callbacks::Scalar(function) = &registered.callbacks else {
                return Err(Failure::Native(Error::hardened("HARDENED_INTERNAL", "a scalar call reached an aggregate")));
            };
            let mut args = Vec::with_capacity(argc.max(0) as usize);
            convert::arguments(call.js, argc, argv, registered, &mut args)?;
            let value = call.call(function, &args)?;
            convert::set_result(call.js, ctx, value, registered)?;
            Ok(())
        })
    }
}
