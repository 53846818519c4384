//! `NativeStatement`: the JS class behind `Statement`, and the hot functions
//! (`run`, `get`, `all`, `iterate*`) as plain Node-API callbacks. Rows leave
//! through the scratch buffer as cells `[layoutId, ...values]` (see
//! `values::RowWriter`); lib/rows.js builds the row objects.

use std::cell::RefCell;
use std::rc::Rc;

use napi::Env;
use napi::sys::{self, napi_value};
use napi_derive::napi;
use rusqlite::ffi;

use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny, RawCallback};
use crate::params;
use crate::params_encoded::{self, CallParams};
use crate::statement::Statement;
use crate::values::{self, RowWriter, Sink, layout};

/// What a hot function returns for `undefined`: Node-API turns a callback's
/// null result into `undefined`, one call cheaper than `napi_get_undefined`.
const UNDEFINED: napi_value = std::ptr::null_mut();

/// Byte offsets and cell tags of the scratch buffer (see `NativeStatement.scratch()`
/// and `values::layout`).
#[napi(object)]
pub struct ScratchLayout {
    /// f64 `changes` of the last `run()`.
    pub changes: u32,
    /// f64 `lastInsertRowid` of the last `run()`.
    pub rowid_number: u32,
    /// i64 `lastInsertRowid` of the last `run()`.
    pub rowid_bigint: u32,
    /// i32: 1 when `lastInsertRowid` is a bigint.
    pub rowid_is_bigint: u32,
    /// i32 count of cells waiting for `collect`.
    pub cells: u32,
    /// i32: 1 when an iteration's batch holds its last rows.
    pub last: u32,
    /// i32: user-defined functions running JS on this thread.
    pub callback_depth: u32,
    /// u8 tag per cell.
    pub tags: u32,
    /// 8-byte slot per cell.
    pub slots: u32,
    /// Tag of `null`.
    pub tag_null: u32,
    /// Tag of a number in the slot.
    pub tag_number: u32,
    /// Tag of a bigint in the slot.
    pub tag_bigint: u32,
    /// Tag of a BLOB (i32 byte offset and length in the slot).
    pub tag_blob: u32,
    /// Tag of the next argument of `collect`.
    pub tag_argument: u32,
    /// Tag of an ASCII string (i32 byte offset and length in the slot).
    pub tag_ascii: u32,
    /// Tag of a UTF-8 string (i32 byte offset and length in the slot).
    pub tag_utf8: u32,
    /// Tag of a BLOB that becomes a `Uint8Array` (i32 byte offset and length in the slot).
    pub tag_bytes: u32,
    /// i32: parameters JS encoded for the next hot call, plus one (0: none).
    pub encoded: u32,
    /// u8 tag per encoded parameter.
    pub param_tags: u32,
    /// 8-byte slot per encoded parameter.
    pub param_slots: u32,
    /// Where encoded TEXT and BLOB bytes start (they run to the end of the buffer).
    pub param_data: u32,
    /// Most parameters JS encodes.
    pub max_params: u32,
    /// Tag of an encoded parameter that binds as INTEGER (a safe integer in an f64 slot).
    pub tag_integer: u32,
}

/// A prepared statement (internal: use `Statement` from the package).
#[napi]
pub struct NativeStatement {
    state: Rc<RefCell<State>>,
    id: u32,
}

/// A prepared statement and its iteration state, shared by the napi-rs class
/// and the hot functions, which find it by id.
pub(crate) struct State {
    pub(crate) inner: Statement,
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

/// Live statements by id, so the hot functions take a number rather than a
/// wrapped object: no type-tag check, no unwrap, no napi-rs borrow registry.
#[derive(Default)]
struct Live {
    slots: Vec<Option<Rc<RefCell<State>>>>,
    free: Vec<u32>,
}

thread_local! {
    static LIVE: RefCell<Live> = RefCell::new(Live::default());
}

/// The state of live statement `id`, if any (the `Rc` keeps it alive through a call).
pub(crate) fn live_state(id: usize) -> Option<Rc<RefCell<State>>> {
    LIVE.with_borrow(|live| live.slots.get(id).cloned().flatten())
}

#[cold]
fn busy() -> Error {
    Error::type_error("HARDENED_STATEMENT_BUSY", "This statement is in use by a call that has not returned")
}

impl NativeStatement {
    /// Wraps a prepared statement and gives it an id.
    pub fn new(inner: Statement) -> Self {
        let state = Rc::new(RefCell::new(State { inner, batch: 1, first_batch: 1, rows_read: 0, done: false, pending: None, row_pending: false, bound_once: false }));
        let id = LIVE.with_borrow_mut(|live| match live.free.pop() {
            Some(id) => {
                live.slots[id as usize] = Some(Rc::clone(&state));
                id
            }
            None => {
                live.slots.push(Some(Rc::clone(&state)));
                live.slots.len() as u32 - 1
            }
        });
        NativeStatement { state, id }
    }

    pub(crate) fn state(&self) -> Result<std::cell::RefMut<'_, State>> {
        self.state.try_borrow_mut().map_err(|_| busy())
    }

    /// Runs `f` on the prepared statement (refused while a call on it runs).
    pub(crate) fn with_statement<T>(&self, f: impl FnOnce(&mut Statement) -> Result<T>) -> Result<T> {
        f(&mut self.state()?.inner)
    }
}

impl Drop for NativeStatement {
    fn drop(&mut self) {
        // A hot call still running keeps its own `Rc` of the state.
        let _ = LIVE.try_with(|live| {
            if let Ok(mut live) = live.try_borrow_mut() {
                live.slots[self.id as usize] = None;
                live.free.push(self.id);
            }
        });
    }
}

impl State {
    /// Binds the call's parameter values (unless bound for good) and returns the handle.
    pub(crate) fn start(&mut self, js: Js, params: CallParams) -> Result<*mut ffi::sqlite3_stmt> {
        self.start_binding(!params.is_empty(), |stmt, raw| match params {
            CallParams::Args(args) => params::bind_args(js, stmt, raw, args),
            CallParams::Encoded(count) => params_encoded::bind(values::scratch_memory(js)?.0, stmt, raw, count),
        })
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

    fn get_row(&mut self, js: Js, collect: napi_value, params: CallParams) -> Result<napi_value> {
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

    fn all_rows(&mut self, js: Js, collect: napi_value, params: CallParams) -> Result<napi_value> {
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

    fn run_once(&mut self, js: Js, params: CallParams) -> Result<()> {
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
    /// The scratch `ArrayBuffer` shared with JS (one per environment).
    #[napi(ts_return_type = "ArrayBuffer")]
    pub fn scratch(env: Env) -> napi::Result<JsAny> {
        to_js(&env, values::scratch_buffer(Js::new(&env)).map(JsAny))
    }

    /// Byte offsets of the fields in the scratch buffer, and the cell tags.
    #[napi]
    pub fn scratch_layout() -> ScratchLayout {
        ScratchLayout {
            changes: layout::CHANGES as u32,
            rowid_number: layout::ROWID_NUMBER as u32,
            rowid_bigint: layout::ROWID_BIGINT as u32,
            rowid_is_bigint: layout::ROWID_IS_BIGINT as u32,
            cells: layout::CELLS as u32,
            last: layout::LAST as u32,
            callback_depth: layout::CALLBACK_DEPTH as u32,
            tags: layout::TAGS as u32,
            slots: layout::SLOTS as u32,
            tag_null: layout::TAG_NULL.into(),
            tag_number: layout::TAG_NUMBER.into(),
            tag_bigint: layout::TAG_BIGINT.into(),
            tag_blob: layout::TAG_BLOB.into(),
            tag_argument: layout::TAG_ARGUMENT.into(),
            tag_ascii: layout::TAG_ASCII.into(),
            tag_utf8: layout::TAG_UTF8.into(),
            tag_bytes: layout::TAG_BYTES.into(),
            encoded: layout::ENCODED as u32,
            param_tags: layout::PARAM_TAGS as u32,
            param_slots: layout::PARAM_SLOTS as u32,
            param_data: layout::PARAM_DATA as u32,
            max_params: layout::MAX_PARAMS as u32,
            tag_integer: layout::TAG_INTEGER.into(),
        }
    }

    /// The hot functions, taking a statement's `id` first: `run(id, ...params)`
    /// (its result goes to the scratch buffer), `get(id, collect, ...params)`,
    /// `all(id, collect, ...params)`, `iterateStart(id, ...params)`,
    /// `iterateNext(id, collect)`, `iterateEnd(id)` (stops an iteration early and
    /// resets the statement). With `stringsAsBytes`, result strings reach JS as
    /// bytes in the scratch buffer rather than as `collect`'s arguments.
    #[napi(ts_args_type = "stringsAsBytes: boolean", ts_return_type = "Record<string, (...args: unknown[]) => unknown>")]
    pub fn hot_functions(env: Env, strings_as_bytes: bool) -> napi::Result<JsAny> {
        values::set_strings_as_bytes(strings_as_bytes);
        let functions: [(&std::ffi::CStr, RawCallback); 6] = [
            (c"run", hot_run),
            (c"get", hot_get),
            (c"all", hot_all),
            (c"iterateStart", hot_iterate_start),
            (c"iterateNext", hot_iterate_next),
            (c"iterateEnd", hot_iterate_end),
        ];
        let js = Js::new(&env);
        to_js(&env, js.object().and_then(|object| js.define_methods(object, &functions).map(|()| JsAny(object))))
    }

    /// The id the hot functions know this statement by.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// How many values fill the parameters by position, so that JS may encode
    /// them into the scratch buffer (src/params_encoded.rs); -1 when named
    /// values are needed (a main-face statement with `:name` parameters).
    #[napi(getter)]
    pub fn positional_params(&self, env: Env) -> napi::Result<i32> {
        let count = self.with_statement(|stmt| Ok(params_encoded::positional_count(stmt).map_or(-1, |n| n as i32)));
        to_js(&env, count)
    }

    /// Binds parameters (the array `args`) for good; later calls take no arguments.
    #[napi]
    pub fn bind(&self, env: Env, args: JsAny) -> napi::Result<()> {
        let js = Js::new(&env);
        let bound = (|| {
            let args = (0..js.array_len(args.0)?).map(|i| js.element(args.0, i)).collect::<Result<Vec<_>>>()?;
            let mut state = self.state()?;
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
        })();
        to_js(&env, bound)
    }

    /// Reads INTEGER columns as bigint (and `lastInsertRowid` too) when on.
    #[napi]
    pub fn set_safe_integers(&self, env: Env, on: bool) -> napi::Result<()> {
        let set = self.state().and_then(|mut state| state.inner.connection_idle().map(|()| state.inner.safe_integers = on));
        to_js(&env, set)
    }

    /// Refuses (`HARDENED_DATABASE_BUSY`) while a user-defined function of the
    /// connection runs JS: `pluck()`, `raw()` and `expand()` ask first, as in
    /// better-sqlite3. Answers after `close()` too.
    #[napi]
    pub fn require_connection_idle(&self, env: Env) -> napi::Result<()> {
        to_js(&env, self.state().and_then(|state| state.inner.connection_idle()))
    }

    /// Whether INTEGER columns are read as bigint.
    #[napi(getter)]
    pub fn safe_integers(&self, env: Env) -> napi::Result<bool> {
        to_js(&env, self.state().map(|state| state.inner.safe_integers))
    }

    /// The result column names (after the last re-prepare).
    #[napi]
    pub fn column_names(&self, env: Env) -> napi::Result<Vec<String>> {
        to_js(&env, self.state().and_then(|state| state.inner.column_names()))
    }

    /// Column metadata: `{ name, column, table, database, type }` for each column.
    #[napi(ts_return_type = "Array<{ name: string, column: string | null, table: string | null, database: string | null, type: string | null }>")]
    pub fn columns(&self, env: Env) -> napi::Result<JsAny> {
        let js = Js::new(&env);
        let build = || -> Result<napi_value> {
            let info = self.state()?.inner.column_info()?;
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
    pub fn source(&self, env: Env) -> napi::Result<String> {
        to_js(&env, self.state().map(|state| state.inner.source.clone()))
    }

    /// Whether the statement returns rows.
    #[napi(getter)]
    pub fn reader(&self, env: Env) -> napi::Result<bool> {
        to_js(&env, self.state().and_then(|state| state.inner.reader()))
    }

    /// Whether the statement never writes.
    #[napi(getter)]
    pub fn readonly(&self, env: Env) -> napi::Result<bool> {
        to_js(&env, self.state().and_then(|state| state.inner.readonly()))
    }

    /// Whether an iterator is open on it (or a call on it has not returned).
    #[napi(getter)]
    pub fn busy(&self) -> bool {
        self.state.try_borrow().map_or(true, |state| state.inner.iterating)
    }
}

/// Runs a hot function as a plain Node-API callback. napi-rs's generated glue
/// costs about 200 ns a call (a borrow scope with a registry lock, a type-tag
/// check, an unwrap, argument conversion); this finds the statement by the id in
/// the first argument, and borrows its state mutably (so a reentrant call on the
/// same statement fails instead of aliasing it). `function` gets the arguments
/// after the id, and the count of parameter values JS encoded into the scratch
/// buffer instead (see src/params_encoded.rs).
fn call_hot(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    function: fn(&mut State, Js, &[napi_value], Option<usize>) -> Result<napi_value>,
) -> napi_value {
    // SAFETY: `env` is the environment Node-API passed to the running callback.
    let js = unsafe { Js::from_raw(env) };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<napi_value> {
        // Taken first, so that a call failing below leaves no values behind for the next.
        let encoded = params_encoded::take(js)?;
        let mut inline = [std::ptr::null_mut(); 8];
        let (_, argc) = js.callback_args(info, &mut inline)?;
        let mut spilled = Vec::new();
        let args = if argc <= inline.len() {
            &inline[..argc]
        } else {
            spilled.resize(argc, std::ptr::null_mut());
            js.callback_args(info, &mut spilled)?;
            &spilled[..]
        };
        let (&id, rest) = args.split_first().ok_or_else(not_a_statement)?;
        let id = js.uint32(id)? as usize;
        // The `Rc` keeps the state alive even if the statement is collected meanwhile.
        let state = live_state(id).ok_or_else(not_a_statement)?;
        let mut state = state.try_borrow_mut().map_err(|_| busy())?;
        state.inner.connection_idle()?;
        crate::functions::scratch_guard::before_hot_call(js)?;
        // Declared after `state`, so dropped first: a deferred close finalizes
        // the statement while nothing uses its handle any more.
        let call = state.inner.active_call();
        let result = call.timed(|| function(&mut state, js, rest, encoded));
        let restored = state.inner.restore_busy_handler();
        result.and_then(|value| restored.map(|()| value))
    }));
    let napi_env = Env::from_raw(env);
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            error.throw(&napi_env);
            std::ptr::null_mut()
        }
        Err(_) => {
            Error::hardened("HARDENED_PANIC", "hardened-sqlite panicked; please report this as a bug").throw(&napi_env);
            std::ptr::null_mut()
        }
    }
}

fn not_a_statement() -> Error {
    Error::type_error("HARDENED_INVALID_ARGUMENT", "The first argument must be the id of a live statement")
}

/// Splits off the leading `collect` argument; the rest and `encoded` are the
/// call's parameter values.
fn with_collect(args: &[napi_value], encoded: Option<usize>) -> Result<(napi_value, CallParams<'_>)> {
    let (&collect, rest) = args
        .split_first()
        .ok_or_else(|| Error::type_error("HARDENED_INVALID_ARGUMENT", "A row collector function is required"))?;
    Ok((collect, CallParams::new(rest, encoded)?))
}

unsafe extern "C" fn hot_run(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        stmt.run_once(js, CallParams::new(args, encoded)?).map(|()| UNDEFINED)
    })
}

unsafe extern "C" fn hot_get(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        with_collect(args, encoded).and_then(|(collect, params)| stmt.get_row(js, collect, params))
    })
}

unsafe extern "C" fn hot_all(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        with_collect(args, encoded).and_then(|(collect, params)| stmt.all_rows(js, collect, params))
    })
}

unsafe extern "C" fn hot_iterate_start(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, encoded| {
        stmt.iterate_begin(js, CallParams::new(args, encoded)?).map(|()| UNDEFINED)
    })
}

unsafe extern "C" fn hot_iterate_next(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, js, args, _| {
        let (collect, _) = with_collect(args, None)?;
        stmt.next_rows(Sink::NodeApi(js, collect)).map(|_| UNDEFINED)
    })
}

unsafe extern "C" fn hot_iterate_end(env: sys::napi_env, info: sys::napi_callback_info) -> napi_value {
    call_hot(env, info, |stmt, _, _, _| {
        stmt.end_iteration();
        Ok(UNDEFINED)
    })
}
