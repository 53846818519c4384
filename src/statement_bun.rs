//! What the bun:sqlite face needs of a statement beyond the main face:
//! `columnTypes`, `paramsCount` and `finalize()` (`toString()` uses
//! `expandedSql()`, shared with the `verbose` logger in src/verbose.rs).

use napi::Env;
use napi_derive::napi;
use rusqlite::ffi;

use crate::deferred_finalize;
use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};
use crate::params;
use crate::statement_class::NativeStatement;
use crate::statement_ids::{busy, with_state, with_state_unless_busy};

#[napi]
impl NativeStatement {
    /// bun:sqlite's `columnTypes`: runs a read-only statement to its first row
    /// with the values bound last and names each column's storage class there
    /// (`INTEGER`, `FLOAT`, `TEXT`, `BLOB`, or `NULL`, also for every column
    /// when there is no row), then resets it.
    #[napi]
    pub fn column_types(env: Env, id: f64) -> napi::Result<Vec<&'static str>> {
        let types = with_state(id, |state| {
            let stmt = &mut state.inner;
            stmt.ensure_idle()?;
            if !stmt.readonly()? {
                return Err(Error::hardened(
                    "HARDENED_NOT_A_READER",
                    "columnTypes is not available for non-read-only statements (INSERT, UPDATE, DELETE, etc.)",
                ));
            }
            let raw = stmt.raw()?;
            let call = stmt.active_call();
            let row = call.timed(|| stmt.step(raw));
            drop(call);
            let row = row?;
            let width = stmt.column_count(raw);
            let types = (0..width as i32)
                .map(|col| {
                    if !row {
                        return "NULL";
                    }
                    // SAFETY: `raw` is positioned on a row and `col` below its column count.
                    match unsafe { ffi::sqlite3_column_type(raw, col) } {
                        ffi::SQLITE_INTEGER => "INTEGER",
                        ffi::SQLITE_FLOAT => "FLOAT",
                        ffi::SQLITE_TEXT => "TEXT",
                        ffi::SQLITE_BLOB => "BLOB",
                        _ => "NULL",
                    }
                })
                .collect();
            stmt.reset();
            Ok(types)
        });
        to_js(&env, types)
    }

    /// The number of parameters (`?`, `?NNN`, `$name`, ...: the highest index).
    #[napi]
    pub fn params_count(env: Env, id: f64) -> napi::Result<u32> {
        to_js(&env, with_state(id, |state| Ok(state.inner.params.len() as u32)))
    }

    /// Binds the array `args` now without running the statement (bun:sqlite's
    /// `db.prepare(sql, params)`): calls without parameters run with them.
    #[napi]
    pub fn bind_values(env: Env, id: f64, args: JsAny) -> napi::Result<()> {
        let js = Js::new(&env);
        let bound = (|| -> Result<()> {
            let args = (0..js.array_len(args.0)?).map(|i| js.element(args.0, i)).collect::<Result<Vec<_>>>()?;
            with_state(id, |state| {
                let stmt = &mut state.inner;
                stmt.ensure_idle()?;
                let raw = stmt.raw()?;
                let _call = stmt.active_call();
                params::bind_args(js, stmt, raw, &args)
            })
        })();
        to_js(&env, bound)
    }

    /// Finalizes the statement now; later calls fail (`HARDENED_STATEMENT_FINALIZED`).
    /// Called from a getter while a call of this statement binds its values, it
    /// is carried out by that call once binding returns (src/deferred_finalize.rs);
    /// while the statement runs otherwise it is refused (`HARDENED_STATEMENT_BUSY`).
    #[napi]
    pub fn finalize(env: Env, id: f64) -> napi::Result<()> {
        let finalized = with_state_unless_busy(id, |state| {
            state.inner.finalize();
            Ok(())
        })
        .and_then(|done| match done {
            Some(()) => Ok(()),
            None if deferred_finalize::request(id) => Ok(()),
            None => Err(busy()),
        });
        to_js(&env, finalized)
    }

    /// Whether `finalize()` was called (or the connection closed).
    #[napi]
    pub fn is_finalized(env: Env, id: f64) -> napi::Result<bool> {
        to_js(&env, with_state(id, |state| Ok(state.inner.is_finalized())))
    }
}
