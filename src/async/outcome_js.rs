//! [`Outcome`]s become JS values on the JS thread: cells as numbers, bigints,
//! strings, Buffers and nulls, which lib/async/rows.js turns into row objects.

use napi::bindgen_prelude::{BigInt, Buffer, Either, Either5, Null};
use napi_derive::napi;
use rusqlite::types::Value;

use crate::errors::{Error, Result};
use crate::r#async::query::Outcome;
use crate::values::MAX_SAFE_INTEGER;

/// One cell of a row, as JS sees it.
pub type Cell = Either5<Null, f64, BigInt, String, Buffer>;

/// The result of one request of the async handle (internal: lib/async reads it).
#[napi(object)]
pub struct AsyncOutcome {
    /// `"rows"`, `"run"`, `"done"`, `"reroute"` (a write sent to a reader) or `"described"`.
    pub kind: String,
    /// Column names of `rows`.
    pub columns: Vec<String>,
    /// Cells of `rows`, row after row.
    pub cells: Vec<Cell>,
    /// `changes` of `run`.
    pub changes: f64,
    /// `lastInsertRowid` of `run` (a bigint under `safeIntegers`).
    pub last_insert_rowid: Either<f64, BigInt>,
    /// `described`: whether the statement is read-only.
    pub readonly: bool,
    /// `described`: whether it returns rows.
    pub returns_data: bool,
    /// `batch`: the statement has no more rows.
    pub done: bool,
}

fn integer(v: i64, safe_integers: bool, what: &dyn Fn() -> String) -> Result<Either<f64, BigInt>> {
    if safe_integers {
        Ok(Either::B(BigInt::from(v)))
    } else if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
        Ok(Either::A(v as f64))
    } else {
        Err(Error::range(
            "HARDENED_INTEGER_OVERFLOW",
            format!(
                "{} holds {v}, beyond JavaScript's safe integer range (±2^53); call .safeIntegers() on the \
                 statement or pass safeIntegers: true to openAsync() to read it as a BigInt",
                what()
            ),
        ))
    }
}

/// Converts `outcome`; integers become bigints when `safe_integers`, else
/// numbers (a `RangeError` beyond ±2^53, never rounded silently).
pub fn to_js(outcome: Outcome, safe_integers: bool) -> Result<AsyncOutcome> {
    let mut out = AsyncOutcome {
        kind: String::new(),
        columns: Vec::new(),
        cells: Vec::new(),
        changes: 0.0,
        last_insert_rowid: Either::A(0.0),
        readonly: false,
        returns_data: false,
        done: false,
    };
    match outcome {
        Outcome::Batch { columns, cells, done } => {
            out.done = done;
            return to_js(Outcome::Rows { columns, cells }, safe_integers).map(|rows| AsyncOutcome { kind: "batch".into(), done, ..rows });
        }
        Outcome::Rows { columns, cells } => {
            out.kind = "rows".into();
            out.cells.reserve(cells.len());
            for (i, cell) in cells.into_iter().enumerate() {
                out.cells.push(match cell {
                    Value::Null => Either5::A(Null),
                    Value::Real(f) => Either5::B(f),
                    Value::Integer(v) => match integer(v, safe_integers, &|| format!("Column \"{}\"", columns[i % columns.len()]))? {
                        Either::A(n) => Either5::B(n),
                        Either::B(b) => Either5::C(b),
                    },
                    Value::Text(s) => Either5::D(s),
                    Value::Blob(b) => Either5::E(b.into()),
                });
            }
            out.columns = columns;
        }
        Outcome::Run { changes, last_insert_rowid } => {
            out.kind = "run".into();
            out.changes = changes as f64;
            out.last_insert_rowid = integer(last_insert_rowid, safe_integers, &|| "lastInsertRowid".to_string())?;
        }
        Outcome::Done => out.kind = "done".into(),
        Outcome::NotReadonly => out.kind = "reroute".into(),
        Outcome::Described { readonly, returns_data } => {
            out.kind = "described".into();
            out.readonly = readonly;
            out.returns_data = returns_data;
        }
    }
    Ok(out)
}
