//! `NativeStatement`: the native functions behind `Statement`, and the statement
//! state its hot functions (src/statement_hot.rs, src/statement_ffi.rs) run on,
//! found by id (src/statement_ids.rs). Rows
//! leave through the scratch buffer as cells `[layoutId, ...values]` (see
//! `values::RowWriter`); lib/rows.js builds the row objects.

use napi::Env;
use napi::sys::napi_value;
use napi_derive::napi;
use rusqlite::ffi;

use crate::deferred_finalize;
use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};
use crate::params;
use crate::params_encoded::{self, CallParams};
use crate::statement::Statement;
use crate::statement_ids::{self, busy, live_state, not_a_statement, with_state};
use crate::values::{self, RowWriter, Sink};

/// What a hot function returns for `undefined`: Node-API turns a callback's
/// null result into `undefined`, one call cheaper than `napi_get_undefined`.
pub(crate) const UNDEFINED: napi_value = std::ptr::null_mut();

/// The native side of prepared statements (internal: use `Statement` from the
/// package). It makes no objects: a statement is known by its id, which JS
/// keeps in a plain object (lib/native-statement.js); the static functions here
/// and in src/statement_hot.rs take that id first.
///
/// A Node-API wrapper per statement kept about 0.6–1 KB (its reference, its
/// finalizer record, the state) until its finalizer ran, which Node and Bun do
/// only when the event loop turns: a loop that prepared statements and never
/// yielded grew by that much per statement (bench/memory.mjs, issue 13). Now the
/// state is freed when its JS object is found collected (src/collected_statements.rs,
/// and a `FinalizationRegistry` in lib/native-statement.js).
#[napi]
pub struct NativeStatement {}

/// A prepared statement and its iteration state, shared by the napi-rs class
/// and the hot functions, which find it by id.
pub(crate) struct State {
    pub(crate) inner: Statement,
    /// The statement's id (src/statement_ids.rs), 0 until it is registered.
    pub(crate) id: f64,
    /// Rows the next `iterateNext` may return.
    pub(crate) batch: usize,
    /// Rows the first batch of the next iteration reads (see `statement_iteration.rs`).
    pub(crate) first_batch: usize,
    /// Rows the current iteration has read so far.
    pub(crate) rows_read: usize,
    /// The iteration stepped past its last row; the next `iterateNext` ends it.
    pub(crate) done: bool,
    /// An error met while reading ahead, thrown by the next `iterateNext`.
    pub(crate) pending: Option<Error>,
    /// The statement stands on a row whose values a bun:ffi batch could not
    /// hand out (one needed Node-API): the next batch reads it before stepping.
    pub(crate) row_pending: bool,
    /// `bound` is set for the next call only (see `bindForLog` in verbose.rs).
    pub(crate) bound_once: bool,
}

impl State {
    /// The state of a statement just prepared.
    pub(crate) fn new(inner: Statement) -> State {
        State { inner, id: 0.0, batch: 1, first_batch: 1, rows_read: 0, done: false, pending: None, row_pending: false, bound_once: false }
    }

    /// Binds the call's parameter values (unless bound for good) and returns the handle.
    pub(crate) fn start(&mut self, js: Js, params: CallParams) -> Result<*mut ffi::sqlite3_stmt> {
        let id = self.id;
        let mut finalize_requested = false;
        let started = self.start_binding(!params.is_empty(), |stmt, raw| match params {
            // Binding JS values may run a getter or Proxy trap that finalizes
            // this statement (the bun face's `finalize()`; the main face has none).
            CallParams::Args(args) if stmt.face.is_bun() => {
                let (bound, requested) = deferred_finalize::binding(id, || params::bind_args(js, stmt, raw, args));
                finalize_requested = requested;
                bound
            }
            CallParams::Args(args) => params::bind_args(js, stmt, raw, args),
            CallParams::Encoded(count) => params_encoded::bind(values::scratch_memory(js)?.0, stmt, raw, count),
        });
        if finalize_requested {
            // Nothing was stepped: the statement is freed and the call fails as
            // bun:sqlite's does (with the binding's own error, if it had one).
            self.inner.finalize();
            return started.and_then(|_| self.inner.raw());
        }
        started
    }

    /// [`State::start`] with `bind` binding the values (`has_values`: the call brought some).
    pub(crate) fn start_binding(
        &mut self,
        has_values: bool,
        bind: impl FnOnce(&Statement, *mut ffi::sqlite3_stmt) -> Result<()>,
    ) -> Result<*mut ffi::sqlite3_stmt> {
        self.inner.ensure_idle()?;
        let raw = self.inner.raw()?;
        if !self.inner.bound {
            bind(&self.inner, raw)?;
        } else if has_values {
            return Err(Error::type_error(
                "HARDENED_ALREADY_BOUND",
                "This statement already has bound parameters; call it without arguments",
            ));
        }
        // A getter or Proxy trap met while binding may have closed the database.
        self.inner.raw()
    }

    pub(crate) fn start_reader(&mut self, js: Js, params: CallParams) -> Result<*mut ffi::sqlite3_stmt> {
        self.may_read()?;
        self.start(js, params)
    }

    /// Refuses `get()`, `all()` and `iterate()` of a statement that returns no
    /// rows, or while they must wait for open iterators.
    pub(crate) fn may_read(&self) -> Result<()> {
        if !self.inner.reader()? {
            return Err(Error::type_error(
                "HARDENED_NOT_A_READER",
                "This statement does not return data; use run() instead",
            ));
        }
        // get(), all() and iterate() of a statement that writes (`... RETURNING`) wait for open iterators too.
        self.inner.require_may_run(false)
    }

    pub(crate) fn get_row(&mut self, js: Js, collect: napi_value, params: CallParams) -> Result<napi_value> {
        let raw = self.start_reader(js, params)?;
        self.first_row(raw, Sink::NodeApi(js, collect)).map(|()| UNDEFINED)
    }

    /// Steps the bound statement `raw` once, leaves its first row (or none) in
    /// `sink`, and resets it: `get()` for the Node-API and the bun:ffi call.
    pub(crate) fn first_row(&mut self, raw: *mut ffi::sqlite3_stmt, sink: Sink) -> Result<()> {
        let result = match self.inner.step(raw) {
            Ok(true) => (|| {
                let mut rows = sink.writer(&self.inner)?;
                rows.number(self.inner.layout_id(raw).into())?;
                rows.row(raw, self.inner.column_count(raw), None)?;
                rows.finish()
            })(),
            Ok(false) => sink.no_rows(),
            Err(e) => Err(e),
        };
        self.inner.reset();
        result
    }

    pub(crate) fn all_rows(&mut self, js: Js, collect: napi_value, params: CallParams) -> Result<napi_value> {
        let raw = self.start_reader(js, params)?;
        let result = self.read_all(js, raw, collect);
        self.inner.reset();
        result
    }

    /// Steps to the end, in chunks of rows. One chunk comes back as is (see
    /// `RowWriter::finish`); several as an array of `collect`ed chunks.
    fn read_all(&mut self, js: Js, raw: *mut ffi::sqlite3_stmt, collect: napi_value) -> Result<napi_value> {
        let mut rows = RowWriter::new(js, collect, &self.inner)?;
        rows.number(0.0)?; // the layout id, known after the first step
        // The column count, known after the first step (which may re-prepare).
        let mut width = None;
        let mut chunks = Vec::new();
        loop {
            // Each chunk's strings are released once `collect` made them an array.
            let scope = js.escapable_scope()?;
            let mut done = false;
            while !rows.is_full(width.unwrap_or(0)) {
                if !self.inner.step(raw)? {
                    done = true;
                    break;
                }
                let columns = self.inner.column_count(raw);
                rows.row(raw, columns, width)?;
                width = Some(columns);
            }
            if chunks.is_empty() {
                rows.set_number(0, self.inner.layout_id(raw).into());
            }
            if done && chunks.is_empty() {
                rows.finish()?; // hands the chunk's strings to JS while the scope holds them
                drop(scope);
                return Ok(UNDEFINED);
            }
            let chunk = rows.flush()?;
            chunks.push(scope.escape(chunk)?);
            drop(scope);
            if done {
                break;
            }
        }
        let array = js.array(chunks.len())?;
        for (i, chunk) in chunks.into_iter().enumerate() {
            js.set_element(array, i as u32, chunk)?;
        }
        Ok(array)
    }

    pub(crate) fn run_once(&mut self, js: Js, params: CallParams) -> Result<()> {
        // As in better-sqlite3, run() waits for open iterators whatever the statement.
        self.inner.require_may_run(true)?;
        let raw = self.start(js, params)?;
        let (changes, rowid) = self.run_to_end(raw)?;
        values::write_run_result(js, changes, rowid, self.inner.safe_integers)
    }

    /// Steps the bound statement `raw` to its end and resets it; `run()`'s
    /// `changes` and `lastInsertRowid`.
    pub(crate) fn run_to_end(&mut self, raw: *mut ffi::sqlite3_stmt) -> Result<(i64, i64)> {
        let mark = self.inner.changes_mark();
        let total_before = self.inner.total_changes();
        let stepped = (|| -> Result<()> {
            while self.inner.step(raw)? {}
            Ok(())
        })();
        self.inner.reset();
        stepped?;
        let (changes, rowid) = self.inner.run_result(mark)?;
        // As in better-sqlite3: a statement that changed no row (BEGIN, CREATE, DROP, a
        // SELECT) reports 0, not the count SQLite kept from the last INSERT, UPDATE or DELETE.
        let changes = if self.inner.total_changes() == total_before { 0 } else { changes };
        Ok((changes, rowid))
    }
}

#[napi]
impl NativeStatement {
    /// Lets statement `id` go (lib/native-statement.js, when its JS object was
    /// collected); nothing happens when it was released already.
    #[napi]
    pub fn release(id: f64) {
        statement_ids::release(id);
    }

    /// How many statements of this thread are live (prepared and not released):
    /// for tests and diagnostics.
    #[napi]
    pub fn live_ids() -> u32 {
        statement_ids::live_count()
    }

    /// How many values fill the parameters by position, so that JS may encode
    /// them into the scratch buffer (src/params_encoded.rs); -1 when named
    /// values are needed (a main-face statement with `:name` parameters).
    #[napi]
    pub fn positional_params(env: Env, id: f64) -> napi::Result<i32> {
        let count = with_state(id, |state| Ok(params_encoded::positional_count(&state.inner).map_or(-1, |n| n as i32)));
        to_js(&env, count)
    }

    /// Binds parameters (the array `args`) for good; later calls take no arguments.
    #[napi]
    pub fn bind_params(env: Env, id: f64, args: JsAny) -> napi::Result<()> {
        let js = Js::new(&env);
        let bound = (|| {
            let args = (0..js.array_len(args.0)?).map(|i| js.element(args.0, i)).collect::<Result<Vec<_>>>()?;
            with_state(id, |state| {
                if state.bound_once {
                    // A verbose logger runs for a call on this statement (see verbose.rs).
                    return Err(busy());
                }
                if state.inner.bound {
                    return Err(Error::type_error(
                        "HARDENED_ALREADY_BOUND",
                        "The bind() method can only be invoked once per statement object; prepare the SQL again to bind other values",
                    ));
                }
                let _call = state.inner.active_call();
                state.start(js, CallParams::Args(&args)).map(|_| state.inner.bound = true)
            })
        })();
        to_js(&env, bound)
    }

    /// Reads INTEGER columns as bigint (and `lastInsertRowid` too) when on.
    #[napi]
    pub fn set_safe_integers(env: Env, id: f64, on: bool) -> napi::Result<()> {
        let set = with_state(id, |state| state.inner.connection_idle().map(|()| state.inner.safe_integers = on));
        to_js(&env, set)
    }

    /// Refuses (`HARDENED_DATABASE_BUSY`) while a user-defined function of the
    /// connection runs JS: `pluck()`, `raw()` and `expand()` ask first, as in
    /// better-sqlite3. Answers after `close()` too.
    #[napi]
    pub fn require_connection_idle(env: Env, id: f64) -> napi::Result<()> {
        to_js(&env, with_state(id, |state| state.inner.connection_idle()))
    }

    /// Whether INTEGER columns are read as bigint.
    #[napi]
    pub fn safe_integers(env: Env, id: f64) -> napi::Result<bool> {
        to_js(&env, with_state(id, |state| Ok(state.inner.safe_integers)))
    }

    /// The result column names (after the last re-prepare).
    #[napi]
    pub fn column_names(env: Env, id: f64) -> napi::Result<Vec<String>> {
        to_js(&env, with_state(id, |state| state.inner.column_names()))
    }

    /// Column metadata: `{ name, column, table, database, type }` for each column.
    #[napi(ts_return_type = "Array<{ name: string, column: string | null, table: string | null, database: string | null, type: string | null }>")]
    pub fn columns(env: Env, id: f64) -> napi::Result<JsAny> {
        let js = Js::new(&env);
        let build = || -> Result<napi_value> {
            let info = with_state(id, |state| state.inner.column_info())?;
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
    #[napi]
    pub fn source(env: Env, id: f64) -> napi::Result<String> {
        to_js(&env, with_state(id, |state| Ok(state.inner.source.clone())))
    }

    /// Whether the statement never writes.
    #[napi]
    pub fn readonly(env: Env, id: f64) -> napi::Result<bool> {
        to_js(&env, with_state(id, |state| state.inner.readonly()))
    }

    /// Whether an iterator is open on it (or a call on it has not returned).
    #[napi]
    pub fn busy(env: Env, id: f64) -> napi::Result<bool> {
        let state = live_state(id).ok_or_else(not_a_statement);
        to_js(&env, state.map(|state| state.try_borrow().map_or(true, |state| state.inner.iterating)))
    }
}
