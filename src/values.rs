//! Converting values between JS and SQLite: binding one parameter, and handing
//! result rows to JS.
//!
//! Rows leave through a scratch `ArrayBuffer` shared with JS, in chunks: each
//! value is a cell (a tag and 8 bytes: numbers, bigints and NULLs need no
//! Node-API call; BLOB bytes are copied next to them and become `Buffer`s in JS,
//! cheaper there than `napi_create_buffer_copy`), and strings travel as the
//! arguments of one call to JS `collect(keep, ...strings)` per chunk. JS decodes
//! the cells straight into row objects (building them in JS costs a fraction of
//! one `napi_set_element` per value). `run()` reports `changes` and
//! `lastInsertRowid` through the same buffer.

use std::cell::{Cell, RefCell};

use napi::sys::{self, napi_value};
use rusqlite::ffi;

use crate::errors::{Error, Result};
use crate::js::{Js, Kind};
use crate::sqlite_value;

/// Largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

thread_local! {
    /// Reused buffer for string parameters, so binding a string allocates nothing.
    static TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Reused list of a chunk's JS values, so reading rows allocates nothing.
    static VALUES: Cell<Vec<napi_value>> = const { Cell::new(Vec::new()) };
    /// This thread's scratch buffer (one JS environment per thread).
    static SCRATCH: Cell<Option<Scratch>> = const { Cell::new(None) };
    /// Strings go to JS as bytes in the scratch buffer (see [`set_strings_as_bytes`]).
    static STRINGS_AS_BYTES: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn bind_rc(raw: *mut ffi::sqlite3_stmt, rc: i32) -> Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: the connection of a live statement is open.
    Err(crate::connection::last_error(unsafe { ffi::sqlite3_db_handle(raw) }, rc))
}

/// Binds JS `value` (of kind `kind`) to parameter `index` (1-based). `what`
/// names the parameter in errors.
pub fn bind(
    js: Js,
    raw: *mut ffi::sqlite3_stmt,
    index: i32,
    value: napi_value,
    kind: Kind,
    what: &dyn Fn() -> String,
) -> Result<()> {
    // SAFETY (every bind call below): `raw` is a live statement handle and `index`
    // is within its parameter count; text and blob bytes are copied by SQLite
    // (SQLITE_TRANSIENT) before the call returns.
    let rc = match kind {
        Kind::Undefined | Kind::Null => unsafe { ffi::sqlite3_bind_null(raw, index) },
        Kind::Boolean => unsafe { ffi::sqlite3_bind_int64(raw, index, js.boolean(value)? as i64) },
        // Every number binds as REAL, as in better-sqlite3 (`SELECT ? / ?` with 5, 2 is 2.5);
        // column affinity still stores 1.0 as 1 in an INTEGER column. A bigint binds as INTEGER.
        Kind::Number => unsafe { ffi::sqlite3_bind_double(raw, index, js.number(value)?) },
        Kind::String => TEXT.with(|cell| -> Result<i32> {
            let mut text = cell.borrow_mut();
            js.string_into(value, &mut text)?;
            Ok(unsafe {
                ffi::sqlite3_bind_text64(
                    raw,
                    index,
                    text.as_ptr().cast(),
                    text.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                )
            })
        })?,
        Kind::BigInt => match js.bigint(value)? {
            Some(v) => unsafe { ffi::sqlite3_bind_int64(raw, index, v) },
            None => {
                return Err(Error::range(
                    "HARDENED_INTEGER_OVERFLOW",
                    format!("{} is a BigInt outside SQLite's 64-bit integer range; store it as TEXT instead", what()),
                ));
            }
        },
        Kind::Object => match js.bytes(value)? {
            Some(bytes) => unsafe {
                ffi::sqlite3_bind_blob64(raw, index, bytes.as_ptr().cast(), bytes.len() as u64, ffi::SQLITE_TRANSIENT())
            },
            None => return Err(unbindable(what(), "an object")),
        },
        Kind::Other => return Err(unbindable(what(), "a symbol or function")),
    };
    bind_rc(raw, rc)
}

/// The TypeError for a value SQLite cannot store (`what` names the parameter).
pub(crate) fn unbindable(what: String, got: &str) -> Error {
    Error::type_error(
        "HARDENED_INVALID_ARGUMENT",
        format!(
            "{what} is {got}; SQLite can only bind numbers, strings, bigints, booleans, Buffers (or any TypedArray or DataView) and null \
             (convert dates with .toISOString() or .getTime(), and objects with JSON.stringify())"
        ),
    )
}

/// Byte offsets in the scratch buffer, and the cell tags; JS reads them from
/// `NativeStatement.scratchLayout()`.
pub mod layout {
    /// f64: `changes` of the last `run()`.
    pub const CHANGES: usize = 0;
    /// f64: `lastInsertRowid` of the last `run()` as a number.
    pub const ROWID_NUMBER: usize = 8;
    /// i64: `lastInsertRowid` of the last `run()` as a bigint.
    pub const ROWID_BIGINT: usize = 16;
    /// i32: 1 when `lastInsertRowid` is to be read as a bigint.
    pub const ROWID_IS_BIGINT: usize = 24;
    /// i32: cells in the chunk waiting for `collect`.
    pub const CELLS: usize = 32;
    /// i32: 1 when an iteration's batch holds its last rows.
    pub const LAST: usize = 36;
    /// i32: user-defined functions running JS on this thread (see `functions::scratch_guard`):
    /// while it is not 0, an iterator asks natively before handing out a row read ahead.
    pub const CALLBACK_DEPTH: usize = 40;
    /// i32: the number of parameters JS encoded for the next hot call, plus one
    /// (0: none; see src/params_encoded.rs).
    pub const ENCODED: usize = 44;
    /// i32: 1 when the statement whose id `prepare` just returned gives rows (its
    /// `reader`), so JS learns it without another call (see `collected_statements`).
    pub const PREPARED_READER: usize = 48;
    /// u8 per cell: its tag (`TAG_*`).
    pub const TAGS: usize = 64;
    /// 8 bytes per cell: an f64 (`TAG_NUMBER`), an i64 (`TAG_BIGINT`), or two
    /// i32 (`TAG_BLOB`, `TAG_ASCII`, `TAG_UTF8`: byte offset, byte length).
    pub const SLOTS: usize = 8 * 1024;
    /// Most cells in one chunk.
    pub const MAX_CELLS: usize = 4096;
    /// Where the bytes of BLOBs (and of strings, see [`super::set_strings_as_bytes`]) start.
    pub const DATA: usize = SLOTS + MAX_CELLS * 8;
    /// Size of the whole buffer.
    pub const BYTES: usize = 256 * 1024;
    /// BLOBs and strings larger than this become JS values natively.
    pub const MAX_SHARED: usize = 64 * 1024;
    /// u8 per parameter JS encoded (`TAG_NULL`, `TAG_NUMBER`, `TAG_INTEGER`,
    /// `TAG_BIGINT`, `TAG_UTF8`, `TAG_BLOB`), after the result data area.
    pub const PARAM_TAGS: usize = DATA + 2 * MAX_SHARED;
    /// Most parameters JS encodes; a call with more binds through Node-API.
    pub const MAX_PARAMS: usize = 256;
    /// 8 bytes per encoded parameter, as the cells' slots.
    pub const PARAM_SLOTS: usize = PARAM_TAGS + MAX_PARAMS;
    /// Where the bytes of encoded TEXT and BLOB parameters go, up to the end.
    pub const PARAM_DATA: usize = PARAM_SLOTS + 8 * MAX_PARAMS;
    /// `null`.
    pub const TAG_NULL: u8 = 0;
    /// A number in the slot.
    pub const TAG_NUMBER: u8 = 1;
    /// A bigint in the slot.
    pub const TAG_BIGINT: u8 = 2;
    /// A BLOB in the BLOB data area.
    pub const TAG_BLOB: u8 = 3;
    /// The next argument `collect` was called with (a string, or a large BLOB).
    pub const TAG_ARGUMENT: u8 = 4;
    /// An ASCII string in the data area (i32 byte offset and length in the slot).
    pub const TAG_ASCII: u8 = 5;
    /// A UTF-8 string in the data area (i32 byte offset and length in the slot).
    pub const TAG_UTF8: u8 = 6;
    /// A BLOB in the data area that becomes a `Uint8Array` (the bun face's).
    pub const TAG_BYTES: u8 = 7;
    /// An encoded parameter that binds as INTEGER: a whole f64 within ±(2^53 - 1).
    pub const TAG_INTEGER: u8 = 8;
    const _: () = assert!(TAGS + MAX_CELLS <= SLOTS && DATA + 2 * MAX_SHARED <= BYTES);
    const _: () = assert!(PARAM_SLOTS.is_multiple_of(8) && PARAM_DATA + 64 * 1024 <= BYTES);
    // SQLite's column limit (SQLITE_MAX_COLUMN, 2000 in the bundled build) keeps
    // one row, plus the layout id, within a chunk.
    const _: () = assert!(2001 <= MAX_CELLS);
}

/// The scratch buffer of one environment: memory this module owns, lent to JS
/// as an external `ArrayBuffer`.
#[derive(Clone, Copy)]
struct Scratch {
    env: sys::napi_env,
    reference: sys::napi_ref,
    data: *mut u8,
}

/// The scratch memory: 8-byte aligned, zeroed.
type ScratchMemory = [u64; layout::BYTES / 8];

/// Frees an environment's scratch memory when the environment ends: no JS can
/// run in it any more, so nothing reads the `ArrayBuffer` again.
unsafe extern "C" fn free_scratch(data: *mut std::ffi::c_void) {
    if SCRATCH.get().is_some_and(|s| s.data.cast() == data) {
        SCRATCH.set(None);
    }
    // SAFETY: `data` is the `Box` leaked by `scratch` for this environment, and
    // this hook runs once, when the environment ends.
    drop(unsafe { Box::from_raw(data.cast::<ScratchMemory>()) });
}

/// The `ArrayBuffer`'s finalizer: the memory outlives it (see `free_scratch`).
unsafe extern "C" fn keep_scratch(_env: sys::napi_env, _data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {}

/// This environment's scratch buffer, created on first use.
fn scratch(js: Js) -> Result<Scratch> {
    if let Some(scratch) = SCRATCH.get().filter(|s| s.env == js.raw_env()) {
        return Ok(scratch);
    }
    let data = Box::into_raw(Box::new([0u64; layout::BYTES / 8])).cast::<u8>();
    let created = js.external_array_buffer(data, layout::BYTES, Some(keep_scratch)).and_then(|buffer| js.reference(buffer));
    let reference = match created {
        Ok(reference) => reference,
        Err(e) => {
            // SAFETY: `data` was leaked just above and nothing else holds it.
            drop(unsafe { Box::from_raw(data.cast::<ScratchMemory>()) });
            return Err(e);
        }
    };
    js.on_teardown(free_scratch, data.cast())?;
    let scratch = Scratch { env: js.raw_env(), reference, data };
    SCRATCH.set(Some(scratch));
    Ok(scratch)
}

/// This environment's scratch `ArrayBuffer`.
pub fn scratch_buffer(js: Js) -> Result<napi_value> {
    js.referenced(scratch(js)?.reference)
}

/// The scratch memory. It stays valid until the environment ends whatever JS
/// does with the `ArrayBuffer` (detaching or transferring it frees nothing), so
/// native code may write it at any time JS is not running.
fn scratch_bytes(js: Js) -> Result<*mut u8> {
    Ok(scratch(js)?.data)
}

/// The scratch memory and its size, for `functions::scratch_guard` to save and
/// restore around a user-defined function that runs other statements.
pub fn scratch_memory(js: Js) -> Result<(*mut u8, usize)> {
    Ok((scratch_bytes(js)?, layout::BYTES))
}

/// Writes `value` at byte `offset` of the scratch buffer `data`.
///
/// # Safety
/// `data` must come from [`scratch_bytes`], no JS may be running (JS reads the
/// buffer only between native calls), and `offset + size_of::<T>()` must not
/// exceed `layout::BYTES`.
unsafe fn put<T>(data: *mut u8, offset: usize, value: T) {
    debug_assert!(offset + std::mem::size_of::<T>() <= layout::BYTES);
    // SAFETY: in bounds of the live buffer (the caller's contract); unaligned
    // writes need no alignment.
    unsafe { data.add(offset).cast::<T>().write_unaligned(value) };
}

/// Writes how many user-defined functions run JS on this thread into the
/// scratch buffer, if this thread has one (`functions::scratch_guard` calls it
/// when a function starts and after it ends).
pub fn write_callback_depth(depth: usize) {
    if let Some(scratch) = SCRATCH.get() {
        // SAFETY: the buffer of this thread's environment is live (it is freed only at
        // teardown, when no function runs); no JS runs during the write; in bounds.
        unsafe { put(scratch.data, layout::CALLBACK_DEPTH, i32::try_from(depth).unwrap_or(i32::MAX)) };
    }
}

/// Chooses how strings reach JS: as bytes decoded by JS (cheaper on Bun, whose
/// Node-API strings cost more than `Buffer#latin1Slice`), or as Node-API
/// strings (cheaper on Node).
pub fn set_strings_as_bytes(on: bool) {
    STRINGS_AS_BYTES.set(on);
}

/// This thread's scratch memory if JS has it already, without Node-API (for
/// bun:ffi calls, see src/statement_ffi.rs).
pub fn scratch_if_created() -> Option<*mut u8> {
    SCRATCH.get().map(|scratch| scratch.data)
}

/// Writes `run()`'s `changes` and `lastInsertRowid` into the scratch buffer.
pub fn write_run_result(js: Js, changes: i64, rowid: i64, rowid_is_bigint: bool) -> Result<()> {
    put_run_result(scratch_bytes(js)?, changes, rowid, rowid_is_bigint);
    Ok(())
}

/// Writes whether the statement just prepared gives rows into the scratch buffer.
pub fn write_prepared_reader(js: Js, reader: bool) -> Result<()> {
    // SAFETY: the scratch memory (no JS is running) and the field lies in the header.
    unsafe { put(scratch_bytes(js)?, layout::PREPARED_READER, i32::from(reader)) };
    Ok(())
}

/// [`write_run_result`] into the scratch memory `data` (from [`scratch_if_created`]).
pub fn put_run_result(data: *mut u8, changes: i64, rowid: i64, rowid_is_bigint: bool) {
    // SAFETY: `data` is the scratch memory (no JS is running) and every field lies in the header.
    unsafe {
        put(data, layout::CHANGES, changes as f64);
        put(data, layout::ROWID_NUMBER, rowid as f64);
        put(data, layout::ROWID_BIGINT, rowid);
        put(data, layout::ROWID_IS_BIGINT, i32::from(rowid_is_bigint));
    }
}

/// Builds result rows as cells in the scratch buffer (a tag and an 8-byte slot
/// each; strings and large BLOBs as JS values) and hands them to JS `collect`
/// in chunks. Numbers and NULLs thus cost no Node-API call at all.
pub struct RowWriter {
    /// `None` for a bun:ffi call (src/statement_ffi.rs), which may make no
    /// Node-API call: a value that needs one fails with [`needs_node_api`].
    js: Option<Js>,
    collect: napi_value,
    /// The scratch memory.
    data: *mut u8,
    /// The arguments of the next `collect` call: a placeholder for its `keep`
    /// flag, then the values of the `TAG_ARGUMENT` cells.
    arguments: Vec<napi_value>,
    cells: usize,
    data_bytes: usize,
    safe_integers: bool,
    strings_as_bytes: bool,
    /// BLOBs become `Uint8Array`s (bun:sqlite's) rather than `Buffer`s.
    uint8_blobs: bool,
}

/// Where a row started, to drop it again if reading it fails.
#[derive(Clone, Copy)]
pub struct Mark {
    cells: usize,
    arguments: usize,
    data_bytes: usize,
}

impl RowWriter {
    /// A writer calling `collect` for the rows of `stmt` (INTEGERs become bigints
    /// when it reads safe integers; BLOBs follow its face).
    pub fn new(js: Js, collect: napi_value, stmt: &crate::statement::Statement) -> Result<RowWriter> {
        Ok(RowWriter::over(Some(js), collect, scratch_bytes(js)?, stmt))
    }

    /// A writer into the scratch memory `data` that makes no Node-API call
    /// (for bun:ffi): a string or BLOB that must become a JS value natively
    /// fails with [`needs_node_api`], and `finish` needs no `collect`.
    pub fn without_node_api(data: *mut u8, stmt: &crate::statement::Statement) -> RowWriter {
        RowWriter::over(None, std::ptr::null_mut(), data, stmt)
    }

    fn over(js: Option<Js>, collect: napi_value, data: *mut u8, stmt: &crate::statement::Statement) -> RowWriter {
        let (safe_integers, uint8_blobs) = (stmt.safe_integers, stmt.face.is_bun());
        let mut arguments = VALUES.take();
        arguments.clear();
        arguments.push(std::ptr::null_mut()); // `keep`, set when calling
        let strings_as_bytes = STRINGS_AS_BYTES.get();
        RowWriter { js, collect, data, arguments, cells: 0, data_bytes: 0, safe_integers, strings_as_bytes, uint8_blobs }
    }

    /// The environment for a value that must be made through Node-API.
    fn node_api(&self) -> Result<Js> {
        self.js.ok_or_else(needs_node_api)
    }

    /// Whether another row of `width` columns should go to the next chunk.
    pub fn is_full(&self, width: usize) -> bool {
        self.cells > 1
            && (self.cells + width > layout::MAX_CELLS || self.data_bytes > layout::BYTES - layout::DATA - layout::MAX_SHARED)
    }

    /// The current position, for [`RowWriter::rewind`].
    pub fn mark(&self) -> Mark {
        Mark { cells: self.cells, arguments: self.arguments.len(), data_bytes: self.data_bytes }
    }

    /// Drops everything written after `mark`.
    pub fn rewind(&mut self, mark: Mark) {
        self.cells = mark.cells;
        self.arguments.truncate(mark.arguments);
        self.data_bytes = mark.data_bytes;
    }

    /// Appends a cell with `tag` and 8-byte `slot` contents.
    fn cell<T>(&mut self, tag: u8, slot: T) -> Result<()> {
        const { assert!(std::mem::size_of::<T>() <= 8) };
        if self.cells >= layout::MAX_CELLS {
            // Unreachable: see the `MAX_CELLS` assertion.
            return Err(Error::hardened("HARDENED_INTERNAL", "A row has more columns than the scratch buffer holds"));
        }
        // SAFETY: `data` is the scratch memory (no JS is running) and the tag and
        // slot of cell `cells < MAX_CELLS` lie in their areas.
        unsafe {
            put(self.data, layout::TAGS + self.cells, tag);
            put(self.data, layout::SLOTS + self.cells * 8, slot);
        }
        self.cells += 1;
        Ok(())
    }

    /// Appends a number.
    pub fn number(&mut self, v: f64) -> Result<()> {
        self.cell(layout::TAG_NUMBER, v)
    }

    /// Replaces cell `index` (already written) with a number.
    pub fn set_number(&mut self, index: usize, v: f64) {
        debug_assert!(index < self.cells);
        // SAFETY: as in `cell`; `index < cells <= MAX_CELLS`.
        unsafe {
            put(self.data, layout::TAGS + index, layout::TAG_NUMBER);
            put(self.data, layout::SLOTS + index * 8, v);
        }
    }

    /// Appends a JS value (passed to `collect` as an argument; the slot holds
    /// its index among them).
    fn argument(&mut self, value: napi_value) -> Result<()> {
        self.cell(layout::TAG_ARGUMENT, [self.arguments.len() as i32 - 1, 0])?;
        self.arguments.push(value);
        Ok(())
    }

    /// Appends every column of the current row of `raw`, which has `width`
    /// columns (read after the step). Every row of a chunk must have the width
    /// of the first (`expected`): JS reads the chunk with one stride.
    pub fn row(&mut self, raw: *mut ffi::sqlite3_stmt, width: usize, expected: Option<usize>) -> Result<()> {
        if expected.is_some_and(|expected| expected != width) {
            return Err(Error::hardened(
                "HARDENED_INTERNAL",
                "The statement's columns changed while its rows were being read; run it again",
            ));
        }
        for col in 0..width as i32 {
            self.column(raw, col)?;
        }
        Ok(())
    }

    /// Appends column `col` of the current row.
    ///
    /// An INTEGER beyond ±2^53 is a `bigint` when `safe_integers` is on and a
    /// `RangeError` otherwise: it is never silently rounded.
    fn column(&mut self, raw: *mut ffi::sqlite3_stmt, col: i32) -> Result<()> {
        // One `sqlite3_column_value` and then `sqlite3_value_*` calls on it: each
        // `sqlite3_column_*` call enters and leaves the connection's mutex and
        // checks for a malloc failure, and reading a column took two of them
        // (type, then value). `perf` of 100-row `all()` on Bun (2026-11-29) put
        // those calls at a quarter of the native time; reading through the value
        // took the native part from 20.5 to 17.3 µs per call (CPU time) and
        // `all()` from 0.69-0.71x to 0.78-0.80x bun:sqlite.
        // SAFETY: `raw` is live and positioned on a row (the caller's `step`
        // returned true), and `col` is below the column count. The value is
        // SQLite's, valid until the next step/reset; it is only read on this
        // thread (the connection is used by one thread, opened NO_MUTEX), and
        // text and blob bytes are copied into JS values or the scratch buffer at once.
        let value = unsafe { ffi::sqlite3_column_value(raw, col) };
        // SAFETY (every value call below): `value` is the live column value above.
        match unsafe { ffi::sqlite3_value_type(value) } {
            ffi::SQLITE_INTEGER => {
                let v = unsafe { ffi::sqlite3_value_int64(value) };
                if self.safe_integers {
                    self.cell(layout::TAG_BIGINT, v)
                } else if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
                    self.number(v as f64)
                } else {
                    Err(unsafe_integer(raw, col, v))
                }
            }
            ffi::SQLITE_FLOAT => self.number(unsafe { ffi::sqlite3_value_double(value) }),
            ffi::SQLITE_TEXT => self.text(unsafe { sqlite_value::text(value) }),
            ffi::SQLITE_BLOB => self.blob(unsafe { sqlite_value::blob(value) }),
            _ => self.cell(layout::TAG_NULL, 0u64),
        }
    }

    /// Appends a string: its bytes when strings go as bytes and it is valid
    /// UTF-8 (JS decodes those the way Node-API would) and fits, else a JS string.
    fn text(&mut self, text: &[u8]) -> Result<()> {
        if self.strings_as_bytes {
            let tag = if text.is_ascii() {
                Some(layout::TAG_ASCII)
            } else {
                std::str::from_utf8(text).is_ok().then_some(layout::TAG_UTF8)
            };
            if let Some(tag) = tag.filter(|_| self.fits(text)) {
                return self.bytes(tag, text);
            }
        }
        let value = self.node_api()?.text(text)?;
        self.argument(value)
    }

    /// Appends a BLOB: its bytes when they fit (JS `collect` makes them a
    /// `Buffer`), else a `Buffer` made here.
    fn blob(&mut self, bytes: &[u8]) -> Result<()> {
        if !self.fits(bytes) {
            let js = self.node_api()?;
            let buffer = if self.uint8_blobs { js.uint8_array(bytes)? } else { js.buffer(bytes)? };
            return self.argument(buffer);
        }
        self.bytes(if self.uint8_blobs { layout::TAG_BYTES } else { layout::TAG_BLOB }, bytes)
    }

    /// Whether `bytes` fit in the rest of the data area.
    fn fits(&self, bytes: &[u8]) -> bool {
        bytes.len() <= layout::MAX_SHARED.min(layout::BYTES - layout::DATA - self.data_bytes)
    }

    /// Copies `bytes` (which [`RowWriter::fits`]) into the data area as a `tag` cell.
    fn bytes(&mut self, tag: u8, bytes: &[u8]) -> Result<()> {
        let offset = layout::DATA + self.data_bytes;
        // SAFETY: `data` is live (as in `cell`) and `offset + len` lies within the
        // buffer (`fits`); `bytes` is SQLite's memory, disjoint from it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data.add(offset), bytes.len()) };
        self.data_bytes += bytes.len();
        self.cell(tag, [offset as i32, bytes.len() as i32])
    }

    /// Ends the chunk: calls `collect(false, ...values)`, which decodes the
    /// chunk into an array of values and returns it, and starts a new chunk.
    pub fn flush(&mut self) -> Result<napi_value> {
        // SAFETY: `data` is the scratch memory (no JS is running); the count lies in the header.
        unsafe { put(self.data, layout::CELLS, self.cells as i32) };
        let js = self.node_api()?;
        self.arguments[0] = js.boolean_value(false)?;
        let result = js.call(self.collect, &self.arguments);
        self.arguments.truncate(1);
        self.cells = 0;
        self.data_bytes = 0;
        result
    }

    /// Ends the last chunk, leaving it in the scratch buffer for the caller's JS
    /// to decode. Its JS values, if any, go to JS first with
    /// `collect(true, ...values)`, which keeps them.
    pub fn finish(self) -> Result<()> {
        self.finish_batch(false)
    }

    /// [`RowWriter::finish`] for an iteration's batch; `last` when it holds the
    /// last rows (so JS need not ask again).
    pub fn finish_batch(mut self, last: bool) -> Result<()> {
        // SAFETY: as in `flush`.
        unsafe {
            put(self.data, layout::CELLS, self.cells as i32);
            put(self.data, layout::LAST, i32::from(last));
        }
        if self.arguments.len() > 1 {
            let js = self.node_api()?;
            self.arguments[0] = js.boolean_value(true)?;
            js.call(self.collect, &self.arguments)?;
        }
        Ok(())
    }
}

/// Where rows go: JS through Node-API (`collect` gets the values that must be
/// made natively), or the scratch memory alone (a bun:ffi call).
#[derive(Clone, Copy)]
pub enum Sink {
    /// A Node-API call, with the row collector.
    NodeApi(Js, napi_value),
    /// A bun:ffi call: the scratch memory.
    ScratchOnly(*mut u8),
}

impl Sink {
    /// A writer of the rows of `stmt` into this sink.
    pub fn writer(self, stmt: &crate::statement::Statement) -> Result<RowWriter> {
        match self {
            Sink::NodeApi(js, collect) => RowWriter::new(js, collect, stmt),
            Sink::ScratchOnly(data) => Ok(RowWriter::without_node_api(data, stmt)),
        }
    }

    /// Leaves an empty chunk: no row.
    pub fn no_rows(self) -> Result<()> {
        match self {
            Sink::NodeApi(js, _) => write_no_rows(js),
            Sink::ScratchOnly(data) => {
                put_no_rows(data);
                Ok(())
            }
        }
    }
}

/// Leaves an empty chunk in the scratch buffer: no row.
pub fn write_no_rows(js: Js) -> Result<()> {
    put_no_rows(scratch_bytes(js)?);
    Ok(())
}

/// [`write_no_rows`] into the scratch memory `data` (from [`scratch_if_created`]).
pub fn put_no_rows(data: *mut u8) {
    // SAFETY: `data` is the scratch memory (no JS is running); the count lies in the header.
    unsafe { put(data, layout::CELLS, 0i32) };
}

/// The code of the error a [`RowWriter::without_node_api`] fails with when a
/// value needs Node-API: the bun:ffi call hands the statement to Node-API then.
pub const NEEDS_NODE_API: &str = "HARDENED_NEEDS_NODE_API";

fn needs_node_api() -> Error {
    Error::hardened(NEEDS_NODE_API, "hardened-sqlite: a value needs a Node-API call; please report this as a bug")
}

/// Whether results go to JS as bytes (see [`set_strings_as_bytes`]).
pub fn strings_as_bytes() -> bool {
    STRINGS_AS_BYTES.get()
}

impl Drop for RowWriter {
    fn drop(&mut self) {
        VALUES.set(std::mem::take(&mut self.arguments));
    }
}

fn unsafe_integer(raw: *mut ffi::sqlite3_stmt, col: i32, v: i64) -> Error {
    // SAFETY: as in `column`; the name is copied at once.
    let name = unsafe {
        let ptr = ffi::sqlite3_column_name(raw, col);
        if ptr.is_null() { String::new() } else { std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned() }
    };
    Error::range(
        "HARDENED_INTEGER_OVERFLOW",
        format!(
            "Column \"{name}\" holds {v}, beyond JavaScript's safe integer range (±2^53); call .safeIntegers() on \
             the statement or db.defaultSafeIntegers() to read it as a BigInt"
        ),
    )
}
