//! `NativeDatabase.createTable()`: registering a virtual table module of
//! `db.table()`. lib/table.js checks and parses the definition as
//! better-sqlite3 does and passes a factory returning the parsed definition.

use std::ffi::CString;
use std::rc::Rc;

use napi::Env;
use napi_derive::napi;
use rusqlite::ffi;

use super::super::env::{self, JsRef};
use super::super::registry::{self, Callbacks, Registered};
use super::super::napi_raw;
use crate::connection::last_error;
use crate::database::NativeDatabase;
use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};

#[napi]
impl NativeDatabase {
    /// Registers (or replaces) the virtual table module `name`. `factory`
    /// receives `(module, database, table, ...moduleArguments)` and returns
    /// `[sql, rows, parameters, safeIntegers, directOnly, innocuous]` (see
    /// lib/table.js). `eponymous`: the table `name` exists at once and CREATE
    /// VIRTUAL TABLE refuses the module; else only CREATE VIRTUAL TABLE makes tables.
    #[napi(ts_args_type = "name: string, factory: (...args: string[]) => unknown[], eponymous: boolean")]
    pub fn create_table(&self, env: Env, name: String, factory: JsAny, eponymous: bool) -> napi::Result<()> {
        let js = Js::new(&env);
        let created = (|| {
            let db = self.shared.handle()?;
            crate::idle::require_idle(&self.shared)?;
            let c_name = CString::new(name.as_str()).map_err(|_| {
                Error::type_error("HARDENED_INVALID_ARGUMENT", "The virtual table module name contains a NUL character")
            })?;
            if !napi_raw::is_function(js, factory.0)? {
                return Err(Error::type_error("HARDENED_INVALID_ARGUMENT", "Expected the table factory to be a function"));
            }
            env::ensure_teardown_hook(js)?;
            self.shared.calls_js.set(true);
            let registered = Registered {
                env: js.raw_env(),
                name: name.clone(),
                shared: Rc::downgrade(&self.shared),
                safe_integers: self.shared.default_safe_integers.get(),
                face: self.shared.face.get(),
                callbacks: Callbacks::Table(JsRef::new(js, factory.0)?),
            };
            let module: &'static ffi::sqlite3_module = if eponymous { &super::EPONYMOUS_MODULE } else { &super::MODULE };
            // SAFETY: `db` is open; `c_name` outlives the call; the module is static;
            // the client data is a `Registered` SQLite owns from here and frees with
            // `x_destroy` (also if this fails).
            let rc = unsafe {
                ffi::sqlite3_create_module_v2(db, c_name.as_ptr(), module, registered.into_user_data(), Some(registry::x_destroy))
            };
            check(db, rc, &name)
        })();
        to_js(&env, created)
    }
}

fn check(db: *mut ffi::sqlite3, rc: i32, name: &str) -> Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    Err(last_error(db, rc).context(format!("Registering virtual table module \"{name}\"")))
}
