//! `NativeStatement`: the JS class behind `Statement`. Rows leave as flat
//! arrays `[layoutId, ...values]`; the JS facade shapes them into objects.

use napi::Env;
use napi::sys::napi_value;
use napi_derive::napi;
use rusqlite::ffi;

use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};
use crate::params;
use crate::statement::Statement;
use crate::values;

/// A prepared statement (internal: use `Statement` from the package).
#[napi]
pub struct NativeStatement {
    inner: Statement,
}

impl NativeStatement {
    /// Wraps a prepared statement.
    pub fn new(inner: Statement) -> Self {
        NativeStatement { inner }
    }

    /// Binds the call's arguments (unless bound for good) and returns the handle.
    fn start(&mut self, js: Js, args: napi_value) -> Result<*mut ffi::sqlite3_stmt> {
        self.inner.ensure_idle()?;
        let raw = self.inner.raw()?;
        if !self.inner.bound {
            params::bind_args(js, &self.inner, raw, args)?;
        } else if js.array_len(args)? > 0 {
            return Err(Error::type_error(
                "HARDENED_ALREADY_BOUND",
                "This statement already has bound parameters; call it without arguments",
            ));
        }
        Ok(raw)
    }

    fn start_reader(&mut self, js: Js, args: napi_value) -> Result<*mut ffi::sqlite3_stmt> {
        if !self.inner.reader()? {
            return Err(Error::type_error(
                "HARDENED_NOT_A_READER",
                "This statement does not return data; use run() instead",
            ));
        }
        self.start(js, args)
    }

    /// Writes the current row's values into `array` from `offset` on.
    fn write_row(&self, js: Js, raw: *mut ffi::sqlite3_stmt, array: napi_value, offset: u32) -> Result<u32> {
        let count = self.inner.column_count(raw) as u32;
        for col in 0..count {
            let value = values::column(js, raw, col as i32, self.inner.safe_integers)?;
            js.set_element(array, offset + col, value)?;
        }
        Ok(offset + count)
    }

    fn row(&mut self, js: Js, raw: *mut ffi::sqlite3_stmt) -> Result<napi_value> {
        let array = js.array(self.inner.column_count(raw) + 1)?;
        let layout = self.inner.layout_id(raw);
        js.set_element(array, 0, js.int(layout.into())?)?;
        self.write_row(js, raw, array, 1)?;
        Ok(array)
    }

    fn get_row(&mut self, js: Js, args: napi_value) -> Result<napi_value> {
        let raw = self.start_reader(js, args)?;
        let result = match self.inner.step(raw) {
            Ok(true) => self.row(js, raw),
            Ok(false) => js.undefined(),
            Err(e) => Err(e),
        };
        self.inner.reset();
        result
    }

    fn all_rows(&mut self, js: Js, args: napi_value) -> Result<napi_value> {
        let raw = self.start_reader(js, args)?;
        let result = (|| -> Result<napi_value> {
            let array = js.array(1)?;
            let mut offset = 1;
            while self.inner.step(raw)? {
                offset = self.write_row(js, raw, array, offset)?;
            }
            js.set_element(array, 0, js.int(self.inner.layout_id(raw).into())?)?;
            Ok(array)
        })();
        self.inner.reset();
        result
    }

    fn run_once(&mut self, js: Js, args: napi_value) -> Result<napi_value> {
        let raw = self.start(js, args)?;
        let stepped = (|| -> Result<()> {
            while self.inner.step(raw)? {}
            Ok(())
        })();
        self.inner.reset();
        stepped?;
        let (changes, rowid) = self.inner.run_result()?;
        let changes = if self.inner.readonly()? { 0 } else { changes };
        let result = js.object()?;
        js.set(result, c"changes", js.int(changes)?)?;
        let rowid = if self.inner.safe_integers { js.big(rowid)? } else { js.int(rowid)? };
        js.set(result, c"lastInsertRowid", rowid)?;
        Ok(result)
    }

    fn next_row(&mut self, js: Js) -> Result<napi_value> {
        if !self.inner.iterating {
            return js.undefined();
        }
        let raw = self.inner.raw()?;
        match self.inner.step(raw) {
            Ok(true) => self.row(js, raw).inspect_err(|_| self.inner.reset()),
            Ok(false) => {
                self.inner.reset();
                js.undefined()
            }
            Err(e) => {
                self.inner.reset();
                Err(e)
            }
        }
    }
}

#[napi]
impl NativeStatement {
    /// Executes to completion; returns `{ changes, lastInsertRowid }`.
    #[napi(ts_return_type = "{ changes: number, lastInsertRowid: number | bigint }")]
    pub fn run(&mut self, env: Env, args: JsAny) -> napi::Result<JsAny> {
        to_js(&env, self.run_once(Js::new(&env), args.0).map(JsAny))
    }

    /// The first row as `[layoutId, ...values]`, or `undefined`.
    #[napi(ts_return_type = "unknown[] | undefined")]
    pub fn get(&mut self, env: Env, args: JsAny) -> napi::Result<JsAny> {
        to_js(&env, self.get_row(Js::new(&env), args.0).map(JsAny))
    }

    /// Every row, flattened: `[layoutId, ...row1, ...row2]`.
    #[napi(ts_return_type = "unknown[]")]
    pub fn all(&mut self, env: Env, args: JsAny) -> napi::Result<JsAny> {
        to_js(&env, self.all_rows(Js::new(&env), args.0).map(JsAny))
    }

    /// Binds the arguments and starts stepping, for `iterate()`.
    #[napi]
    pub fn iterate_start(&mut self, env: Env, args: JsAny) -> napi::Result<()> {
        let started = self.start_reader(Js::new(&env), args.0).map(|_| self.inner.iterating = true);
        to_js(&env, started)
    }

    /// The next row as `[layoutId, ...values]`, or `undefined` when done.
    #[napi(ts_return_type = "unknown[] | undefined")]
    pub fn iterate_next(&mut self, env: Env) -> napi::Result<JsAny> {
        to_js(&env, self.next_row(Js::new(&env)).map(JsAny))
    }

    /// Stops an iteration early and resets the statement.
    #[napi]
    pub fn iterate_end(&mut self) {
        self.inner.reset();
    }

    /// Binds parameters for good; later calls take no arguments.
    #[napi]
    pub fn bind(&mut self, env: Env, args: JsAny) -> napi::Result<()> {
        let js = Js::new(&env);
        let bound = self.start(js, args.0).map(|_| self.inner.bound = true);
        to_js(&env, bound)
    }

    /// Reads INTEGER columns as bigint (and `lastInsertRowid` too) when on.
    #[napi]
    pub fn set_safe_integers(&mut self, on: bool) {
        self.inner.safe_integers = on;
    }

    /// Whether INTEGER columns are read as bigint.
    #[napi(getter)]
    pub fn safe_integers(&self) -> bool {
        self.inner.safe_integers
    }

    /// The result column names (after the last re-prepare).
    #[napi]
    pub fn column_names(&self, env: Env) -> napi::Result<Vec<String>> {
        to_js(&env, self.inner.column_names())
    }

    /// Column metadata: `{ name, column, table, database, type }` for each column.
    #[napi(ts_return_type = "Array<{ name: string, column: string | null, table: string | null, database: string | null, type: string | null }>")]
    pub fn columns(&self, env: Env) -> napi::Result<JsAny> {
        let js = Js::new(&env);
        let build = || -> Result<napi_value> {
            let info = self.inner.column_info()?;
            let array = js.array(info.len())?;
            let text = |v: &Option<String>| v.as_ref().map_or_else(|| js.null(), |s| js.str_bytes(s.as_bytes()));
            for (i, col) in info.iter().enumerate() {
                let object = js.object()?;
                js.set(object, c"name", js.str_bytes(col.name.as_bytes())?)?;
                js.set(object, c"column", text(&col.column)?)?;
                js.set(object, c"table", text(&col.table)?)?;
                js.set(object, c"database", text(&col.database)?)?;
                js.set(object, c"type", text(&col.declared_type)?)?;
                js.set_element(array, i as u32, object)?;
            }
            Ok(array)
        };
        to_js(&env, build().map(JsAny))
    }

    /// The SQL text.
    #[napi(getter)]
    pub fn source(&self) -> String {
        self.inner.source.clone()
    }

    /// Whether the statement returns rows.
    #[napi(getter)]
    pub fn reader(&self, env: Env) -> napi::Result<bool> {
        to_js(&env, self.inner.reader())
    }

    /// Whether the statement never writes.
    #[napi(getter)]
    pub fn readonly(&self, env: Env) -> napi::Result<bool> {
        to_js(&env, self.inner.readonly())
    }

    /// Whether an iterator is open on it.
    #[napi(getter)]
    pub fn busy(&self) -> bool {
        self.inner.iterating
    }
}
