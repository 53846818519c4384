//! `iterate()`: a statement's rows in batches of 1, 16, then 128 per call (or,
//! after an iteration that ran to its end, as many as that one in the first),
//! each left in the scratch buffer for JS (lib/iterator.js). The Node-API hot
//! functions (src/statement_hot.rs) and the bun:ffi ones (src/statement_ffi.rs)
//! share this; a bun:ffi batch makes no Node-API call, so a row with a value
//! that needs one (a string or BLOB over 64 KiB) ends its batch early and is
//! read by the next, a Node-API call.

use rusqlite::ffi;

use crate::errors::Result;
use crate::js::Js;
use crate::params_encoded::CallParams;
use crate::statement_class::State;
use crate::values::{self, RowWriter, Sink};

/// Most rows one batch holds; batches grow 1, 16, 128 ([`BATCH_GROWTH`]), so
/// a loop that stops after its first row has stepped no further. A statement
/// that reads a `db.table()` table stays at 1: its generator runs no row ahead.
const MAX_ITERATE_BATCH: usize = 128;

/// How much each batch outgrows the last. A batch costs about 0.5 µs on top of
/// its rows on Bun (more than its native call: measured, the cost is in
/// resuming smaller loops, not in the call); a loop over 100 rows took three
/// batches instead of four (1, 8, 64 before) and a loop that stops after 10
/// rows reads 17 instead of 73: CPU µs on Bun 1.4.5, 2026-11-30, 26.3 -> 26.0
/// and 19.7 -> 7.2 (docs/performance-bun.md).
const BATCH_GROWTH: usize = 16;

/// Whether the next iteration of a statement whose iteration just read all of
/// its `rows_read` rows reads them in one first batch (up to
/// [`MAX_ITERATE_BATCH`], and one more row to see the end): a loop that runs
/// to the end usually runs the same way again, and one batch of 100 rows cost
/// 24.5-25.5 µs against 26.0 for three (same day, docs/performance-bun.md).
/// Not when the statement may run JS while stepping (a `db.table()` table, a
/// user-defined function): those keep the rows they run ahead to the batches.
fn one_batch_next_time(state: &State) -> bool {
    !state.inner.reads_js_table && !state.inner.connection_calls_js()
}

/// What a call for the next batch left in the scratch buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Batch {
    /// Rows, or none when the iteration is over.
    Written,
    /// Nothing: the next row needs Node-API (only with `Sink::ScratchOnly`).
    NeedsNodeApi,
}

impl State {
    /// Binds the call's values and opens an iteration.
    pub(crate) fn iterate_begin(&mut self, js: Js, params: CallParams) -> Result<()> {
        self.start_reader(js, params)?;
        self.open_iteration();
        Ok(())
    }

    /// Marks the bound statement iterating, from its first row.
    pub(crate) fn open_iteration(&mut self) {
        self.inner.begin_iteration();
        self.batch = self.first_batch;
        self.rows_read = 0;
        self.done = false;
        self.pending = None;
        self.row_pending = false;
    }

    /// Leaves up to `batch` more rows in the scratch buffer (cells `[layoutId,
    /// ...values]`), none when done. An error met after the first row is kept
    /// for the next call, so it surfaces at the row it belongs to.
    pub(crate) fn next_rows(&mut self, sink: Sink) -> Result<Batch> {
        if let Some(err) = self.pending.take() {
            self.first_batch = 1;
            self.inner.reset();
            return Err(err);
        }
        if self.inner.iterating && !self.done {
            let raw = self.inner.raw()?;
            if let Some(batch) = self.read_batch(raw, sink.writer(&self.inner)?)? {
                return Ok(batch);
            }
        }
        self.inner.reset();
        sink.no_rows()?;
        Ok(Batch::Written)
    }

    /// Reads the next batch with `rows`; `None` when there was no row left.
    fn read_batch(&mut self, raw: *mut ffi::sqlite3_stmt, mut rows: RowWriter) -> Result<Option<Batch>> {
        // A step that re-prepares the statement (after a schema change) plans its tables again.
        let plans = crate::functions::js_table_plans();
        rows.number(0.0)?; // the layout id, known after the first step
        // The column count, read after each step (the first may re-prepare).
        let mut width = None;
        let mut count = 0;
        while count < self.batch && !rows.is_full(width.unwrap_or(0)) {
            let mark = rows.mark();
            let stepped = if std::mem::take(&mut self.row_pending) { Ok(true) } else { self.inner.step(raw) };
            let read = match stepped {
                Ok(true) => {
                    let columns = self.inner.column_count(raw);
                    rows.row(raw, columns, width).map(|()| Some(columns))
                }
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            };
            match read {
                Ok(Some(columns)) => {
                    width = Some(columns);
                    count += 1;
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) if e.code() == values::NEEDS_NODE_API => {
                    // The row stays where the statement stands, for a Node-API call to read.
                    rows.rewind(mark);
                    self.row_pending = true;
                    if count == 0 {
                        return Ok(Some(Batch::NeedsNodeApi));
                    }
                    break;
                }
                Err(e) if count == 0 => {
                    self.first_batch = 1;
                    self.inner.reset();
                    return Err(e);
                }
                Err(e) => {
                    rows.rewind(mark);
                    self.pending = Some(e);
                    break;
                }
            }
        }
        self.inner.reads_js_table |= crate::functions::js_table_plans() != plans;
        self.rows_read += count;
        if self.done {
            self.first_batch = if one_batch_next_time(self) { (self.rows_read + 1).min(MAX_ITERATE_BATCH) } else { 1 };
        }
        if count == 0 {
            return Ok(None);
        }
        if !self.inner.reads_js_table {
            self.batch = (self.batch * BATCH_GROWTH).min(MAX_ITERATE_BATCH);
        }
        rows.set_number(0, self.inner.layout_id(raw).into());
        rows.finish_batch(self.done).inspect_err(|_| self.inner.reset())?;
        Ok(Some(Batch::Written))
    }

    /// Ends an iteration: resets the statement and forgets read-ahead state.
    /// One ended before its last row starts the next with a batch of 1 again.
    pub(crate) fn end_iteration(&mut self) {
        if !self.done {
            self.first_batch = 1;
        }
        self.pending = None;
        self.done = false;
        self.row_pending = false;
        self.inner.reset();
    }
}
