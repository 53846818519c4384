//! The native side of the `verbose` option (better-sqlite3's logger; see
//! lib/verbose.js): a statement's SQL with its parameters written in, taken
//! after binding and before the first step, so that JS hands it to the logger
//! before the statement runs, and `exec()`'s script split into its statements.
//! Nothing here is on the path of a connection opened without `verbose`.

use napi::Env;
use napi_derive::napi;

use crate::database::NativeDatabase;
use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};
use crate::params_encoded::CallParams;
use crate::statement::Statement;
use crate::statement_class::NativeStatement;
use crate::statement_ids::with_state;

/// The first statement of a script, and the text after it.
#[napi(object, object_from_js = false)]
pub struct LeadingStatement {
    /// The id of the first statement, prepared (see `NativeStatement`).
    pub id: f64,
    /// The rest of the script, after the statement's end.
    pub rest: String,
}

/// The first statement of a script before it gets an id, and the text after it.
struct Leading {
    statement: Statement,
    rest: String,
}

/// Whether better-sqlite3's `exec()` skips `byte` before a statement: white space and `;`.
fn skipped(byte: u8) -> bool {
    byte == b' ' || byte == b';' || (b'\t'..=b'\r').contains(&byte)
}

/// Splits the first statement off `sql`, after the white space and `;` before it.
fn leading(shared: &std::rc::Rc<crate::connection::Shared>, sql: &str) -> Result<Option<Leading>> {
    let start = sql.bytes().position(|b| !skipped(b)).unwrap_or(sql.len());
    let sql = &sql[start..];
    Ok(Statement::prepare_first(shared, sql)?.map(|(statement, consumed)| Leading { statement, rest: sql[consumed..].to_string() }))
}

#[napi]
impl NativeDatabase {
    /// Prepares the first statement of `sql` (what `exec()` runs one by one when
    /// a `verbose` logger is set), followed through `handle` as `prepare()`'s;
    /// `null` when only white space and comments are left.
    #[napi(ts_args_type = "sql: string, handle: object")]
    pub fn prepare_leading(&self, env: Env, sql: String, handle: JsAny) -> napi::Result<Option<LeadingStatement>> {
        let prepared = leading(&self.shared, &sql).and_then(|found| {
            found
                .map(|Leading { statement, rest }| {
                    crate::collected_statements::register_followed(Js::new(&env), statement, handle.0).map(|id| LeadingStatement { id, rest })
                })
                .transpose()
        });
        to_js(&env, prepared)
    }
}

#[napi]
impl NativeStatement {
    /// Binds `args` as `run()` (`forRun`) or `get()`/`all()` would, after the same
    /// checks, and returns the SQL with the parameters written in. The values stay
    /// bound for the next call only, which takes no arguments; `endLoggedCall()`
    /// ends that. A statement bound for good with `bind()` takes no arguments here either.
    #[napi(ts_args_type = "id: number, forRun: boolean, args: unknown[]")]
    pub fn bind_for_log(env: Env, id: f64, for_run: bool, args: JsAny) -> napi::Result<String> {
        let js = Js::new(&env);
        let bound = (|| {
            let args = (0..js.array_len(args.0)?).map(|i| js.element(args.0, i)).collect::<Result<Vec<_>>>()?;
            with_state(id, |state| {
                if state.bound_once {
                    // The logger of a call on this statement runs the statement again.
                    return Err(Error::type_error(
                        "HARDENED_STATEMENT_BUSY",
                        "This statement is in use by a call whose verbose logger is running; run it after the logger returns",
                    ));
                }
                state.inner.connection_idle()?;
                // A getter or Proxy trap met while binding may close the database: closing waits for this call.
                let _call = state.inner.active_call();
                if for_run {
                    state.inner.require_may_run(true)?;
                    state.start(js, CallParams::Args(&args))?;
                } else {
                    state.start_reader(js, CallParams::Args(&args))?;
                }
                let sql = state.inner.expanded_sql()?;
                if !state.inner.bound {
                    state.inner.bound = true;
                    state.bound_once = true;
                }
                Ok(sql)
            })
        })();
        to_js(&env, bound)
    }

    /// Ends the call `bindForLog()` bound values for: the next call binds its own again.
    #[napi]
    pub fn end_logged_call(env: Env, id: f64) -> napi::Result<()> {
        let ended = with_state(id, |state| {
            if state.bound_once {
                state.bound_once = false;
                state.inner.bound = false;
            }
            Ok(())
        });
        to_js(&env, ended)
    }

    /// The SQL with the values bound now written in: the `verbose` logger's text
    /// (an iteration, before its first row) and the bun face's `toString()`.
    #[napi]
    pub fn expanded_sql(env: Env, id: f64) -> napi::Result<String> {
        to_js(&env, with_state(id, |state| state.inner.expanded_sql()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Shared;
    use rusqlite::Connection;

    fn source(leading: &Leading) -> String {
        leading.statement.source.clone()
    }

    #[test]
    fn splits_a_script_as_better_sqlite3_exec_does() {
        let shared = Shared::new(Connection::open_in_memory().unwrap(), false, None);
        let first = leading(&shared, " ;\n select 5; select 6 -- end").unwrap().unwrap();
        assert_eq!(source(&first), "select 5;");
        assert_eq!(first.rest, " select 6 -- end");
        let second = leading(&shared, &first.rest).unwrap().unwrap();
        assert_eq!(source(&second), "select 6 -- end");
        assert!(leading(&shared, &second.rest).unwrap().is_none());
        assert!(leading(&shared, "  -- only a comment\n;").unwrap().is_none());
        assert_eq!(leading(&shared, "selec 8").err().unwrap().code(), "SQLITE_ERROR");
    }

    #[test]
    fn expands_long_values_only_up_to_the_trace_size_limit() {
        let shared = Shared::new(Connection::open_in_memory().unwrap(), false, None);
        let statement = Statement::prepare(&shared, "SELECT ?1, ?2").unwrap();
        let raw = statement.raw().unwrap();
        let long = "this is surely a very long bound parameter value";
        // SAFETY: `raw` is live; SQLite copies the text (SQLITE_TRANSIENT).
        unsafe {
            rusqlite::ffi::sqlite3_bind_text(raw, 1, long.as_ptr().cast(), long.len() as i32, rusqlite::ffi::SQLITE_TRANSIENT());
            rusqlite::ffi::sqlite3_bind_int(raw, 2, 7);
        }
        assert_eq!(statement.expanded_sql().unwrap(), "SELECT 'this is surely a very long bound'/*+16 bytes*/, 7");
    }
}
