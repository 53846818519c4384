//! SQLite's run-time limits (`sqlite3_limit`), as the `limits` option sets them:
//! each one lowered at open and read back, so a value SQLite would silently
//! clamp (above the compile-time maximum, or a `length` below its minimum)
//! fails the open instead.

use napi_derive::napi;
use rusqlite::Connection;
use rusqlite::limits::Limit;

use crate::errors::{Error, Result};

/// The `limits` option: SQLite's run-time limits (`SQLITE_LIMIT_*`), each a whole
/// number from 0 up to the build's maximum. A limit left out keeps SQLite's default.
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct LimitOptions {
    /// `SQLITE_LIMIT_LENGTH`: the largest string, BLOB or row, in bytes (at least 30). Default and maximum `1000000000`.
    pub length: Option<f64>,
    /// `SQLITE_LIMIT_SQL_LENGTH`: the longest SQL text, in bytes. Default and maximum `1000000000`.
    pub sql_length: Option<f64>,
    /// `SQLITE_LIMIT_COLUMN`: the most columns in a table, index, result or `ORDER BY`. Default and maximum `2000`.
    pub column: Option<f64>,
    /// `SQLITE_LIMIT_EXPR_DEPTH`: the deepest expression tree. Default and maximum `1000`.
    pub expr_depth: Option<f64>,
    /// `SQLITE_LIMIT_COMPOUND_SELECT`: the most terms of a compound `SELECT`. Default and maximum `500`.
    pub compound_select: Option<f64>,
    /// `SQLITE_LIMIT_VDBE_OP`: the most virtual-machine instructions of one statement. Default and maximum `250000000`.
    pub vdbe_op: Option<f64>,
    /// `SQLITE_LIMIT_FUNCTION_ARG`: the most arguments of a function call. Default and maximum `1000`.
    pub function_arg: Option<f64>,
    /// `SQLITE_LIMIT_ATTACHED`: the most attached databases (`0` refuses `ATTACH`). Default and maximum `10`.
    pub attached: Option<f64>,
    /// `SQLITE_LIMIT_LIKE_PATTERN_LENGTH`: the longest `LIKE` or `GLOB` pattern, in bytes. Default and maximum `50000`.
    pub like_pattern_length: Option<f64>,
    /// `SQLITE_LIMIT_VARIABLE_NUMBER`: the highest parameter number (`?NNN`). Default and maximum `32766`.
    pub variable_number: Option<f64>,
    /// `SQLITE_LIMIT_TRIGGER_DEPTH`: the deepest recursion of triggers. Default and maximum `1000`.
    pub trigger_depth: Option<f64>,
    /// `SQLITE_LIMIT_WORKER_THREADS`: the most helper threads one statement may start. Default `0`, maximum `8`.
    pub worker_threads: Option<f64>,
}

/// Each limit's key in the `limits` option and SQLite's category, in SQLite's order.
pub const LIMITS: [(&str, Limit); 12] = [
    ("length", Limit::SQLITE_LIMIT_LENGTH),
    ("sqlLength", Limit::SQLITE_LIMIT_SQL_LENGTH),
    ("column", Limit::SQLITE_LIMIT_COLUMN),
    ("exprDepth", Limit::SQLITE_LIMIT_EXPR_DEPTH),
    ("compoundSelect", Limit::SQLITE_LIMIT_COMPOUND_SELECT),
    ("vdbeOp", Limit::SQLITE_LIMIT_VDBE_OP),
    ("functionArg", Limit::SQLITE_LIMIT_FUNCTION_ARG),
    ("attached", Limit::SQLITE_LIMIT_ATTACHED),
    ("likePatternLength", Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH),
    ("variableNumber", Limit::SQLITE_LIMIT_VARIABLE_NUMBER),
    ("triggerDepth", Limit::SQLITE_LIMIT_TRIGGER_DEPTH),
    ("workerThreads", Limit::SQLITE_LIMIT_WORKER_THREADS),
];

/// The limits to set: an index into [`LIMITS`] and the value.
pub type Limits = Vec<(usize, i32)>;

impl LimitOptions {
    /// The values in [`LIMITS`] order.
    fn values(&self) -> [Option<f64>; 12] {
        [
            self.length,
            self.sql_length,
            self.column,
            self.expr_depth,
            self.compound_select,
            self.vdbe_op,
            self.function_arg,
            self.attached,
            self.like_pattern_length,
            self.variable_number,
            self.trigger_depth,
            self.worker_threads,
        ]
    }

    /// Checks that every value given is a whole number from 0 to 2147483647.
    pub fn validate(&self) -> Result<Limits> {
        let mut limits = Vec::new();
        for (index, value) in self.values().into_iter().enumerate() {
            let Some(v) = value else { continue };
            if v.fract() != 0.0 || !v.is_finite() || v < 0.0 || v > i32::MAX as f64 {
                return Err(invalid(index, format!("must be a whole number from 0 to {}, got {v}", i32::MAX)));
            }
            limits.push((index, v as i32));
        }
        Ok(limits)
    }
}

fn invalid(index: usize, message: String) -> Error {
    Error::range("HARDENED_INVALID_OPTION", format!("Option \"limits.{}\" {message}", LIMITS[index].0))
}

/// Sets each limit on `conn` and reads it back: a value SQLite adjusted fails with
/// `HARDENED_INVALID_OPTION` naming the bound, and the connection keeps its old limits.
pub fn apply(conn: &Connection, limits: &Limits) -> Result<()> {
    for &(index, value) in limits {
        let limit = LIMITS[index].1;
        let before = conn.set_limit(limit, value)?;
        let actual = conn.limit(limit)?;
        if actual != value {
            conn.set_limit(limit, before)?;
            let (bound, range) = if value > actual {
                ("at most", format!("0 to {actual}"))
            } else {
                ("at least", format!("{actual} to {}", i32::MAX))
            };
            return Err(invalid(
                index,
                format!(
                    "must be {bound} {actual} in this build of SQLite, which would silently use {actual} instead of \
                     {value}; pass a value from {range}"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(options: LimitOptions) -> Result<Limits> {
        options.validate()
    }

    #[test]
    fn sets_and_reads_back_every_limit() {
        let conn = Connection::open_in_memory().unwrap();
        // Every default differs from these (`length` may not go below 30).
        let values: Limits = (0..LIMITS.len()).map(|i| (i, if i == 0 { 30 } else { 5 })).collect();
        apply(&conn, &values).unwrap();
        for (i, (key, limit)) in LIMITS.iter().enumerate() {
            assert_eq!(conn.limit(*limit).unwrap(), values[i].1, "{key}");
        }
    }

    #[test]
    fn refuses_what_sqlite_would_clamp_and_keeps_the_old_value() {
        let conn = Connection::open_in_memory().unwrap();
        let err = apply(&conn, &limits(LimitOptions { attached: Some(11.0), ..Default::default() }).unwrap()).unwrap_err();
        assert_eq!(err.code(), "HARDENED_INVALID_OPTION");
        assert!(err.message().starts_with("Option \"limits.attached\" must be at most 10"), "{}", err.message());
        assert_eq!(conn.limit(Limit::SQLITE_LIMIT_ATTACHED).unwrap(), 10);
        let err = apply(&conn, &limits(LimitOptions { length: Some(1.0), ..Default::default() }).unwrap()).unwrap_err();
        assert!(err.message().starts_with("Option \"limits.length\" must be at least 30"), "{}", err.message());
        assert_eq!(conn.limit(Limit::SQLITE_LIMIT_LENGTH).unwrap(), 1_000_000_000);
    }

    #[test]
    fn validates_each_value() {
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 3e9] {
            let err = limits(LimitOptions { vdbe_op: Some(bad), ..Default::default() }).unwrap_err();
            assert_eq!(err.code(), "HARDENED_INVALID_OPTION");
            assert!(err.message().starts_with("Option \"limits.vdbeOp\" must be a whole number"), "{}", err.message());
        }
        assert_eq!(limits(LimitOptions { attached: Some(0.0), ..Default::default() }).unwrap(), vec![(7, 0)]);
    }
}
