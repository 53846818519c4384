//! The task of `iterate()`: opens a cursor and/or steps the next batch of
//! rows on the pool thread, or closes the cursor.

use std::sync::Arc;

use napi::bindgen_prelude::{Either, Task};
use napi::Env;
use rusqlite::types::Value;

use crate::errors::{Error, Result};
use crate::js::JsAny;
use crate::r#async::cursor;
use crate::r#async::interrupter::Interrupter;
use crate::r#async::outcome_js::{self, AsyncOutcome};
use crate::r#async::pooled::{self, Slot};
use crate::r#async::query::Outcome;

/// What the task does with the connection's cursor.
pub enum CursorStep {
    /// Prepares `sql` with these values (replacing any cursor), then steps the first batch.
    Open {
        /// One statement that returns rows.
        sql: String,
        /// Positional values.
        positional: Vec<Value>,
        /// Named values, if an object was given.
        named: Option<Vec<(String, Value)>>,
    },
    /// Steps the next batch.
    Next,
    /// Finalizes the cursor (the loop ended early).
    Close,
}

/// One step of an iteration on one pooled connection.
pub struct CursorTask {
    /// The connection.
    pub slot: Slot,
    /// Its interrupter.
    pub interrupter: Arc<Interrupter>,
    /// The request id (for `interrupt(id)`).
    pub id: u32,
    /// What to do; taken by `compute`.
    pub step: Option<CursorStep>,
    /// Rows per batch.
    pub batch: usize,
    /// Integers become bigints.
    pub safe_integers: bool,
}

impl CursorTask {
    fn run(&mut self) -> Result<Outcome> {
        let mut guard = pooled::lock(&self.slot)?;
        let Some(pooled) = guard.as_mut() else { return Err(Error::not_open()) };
        let step = self.step.take().unwrap_or(CursorStep::Close);
        let mut cursor = pooled.cursor.take();
        if let CursorStep::Open { sql, positional, named } = &step {
            drop(cursor);
            cursor = Some(pooled.timed(sql, |conn| cursor::open(conn, sql, positional, named.as_deref()))?);
        }
        if let CursorStep::Close = step {
            return Ok(Outcome::Done);
        }
        let Some(mut cursor) = cursor else {
            return Err(Error::type_error("HARDENED_NOT_OPEN", "This iterator has ended (its statement was finalized)"));
        };
        let batch = pooled.timed_cursor(&mut cursor, |c| c.next_batch(self.batch))?;
        if !batch.done {
            pooled.cursor = Some(cursor);
        }
        Ok(Outcome::Batch { columns: batch.columns, cells: batch.cells, done: batch.done })
    }
}

impl Task for CursorTask {
    type Output = Result<Outcome>;
    type JsValue = Either<AsyncOutcome, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        if !self.interrupter.begin(self.id) {
            // Cancelled while queued: the cursor is finalized all the same.
            self.step = Some(CursorStep::Close);
            let _ = self.run();
            return Ok(Err(Error::Sqlite { code: rusqlite::ffi::SQLITE_INTERRUPT, message: "interrupted before it started".into() }));
        }
        let outcome = self.run();
        self.interrupter.end();
        Ok(outcome)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output.and_then(|outcome| outcome_js::to_js(outcome, self.safe_integers)) {
            Ok(outcome) => Either::A(outcome),
            Err(err) => Either::B(JsAny(crate::errors::error_value(&env, &err))),
        })
    }
}
