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

/// The first statement of a script, and the text after it.
#[napi(object, object_from_js = false)]
pub struct LeadingStatement {
    /// The first statement, prepared.
    pub statement: NativeStatement,
    /// The rest of the script, after the statement's end.
    pub rest: String,
}

/// Whether better-sqlite3's `exec()` skips `byte` before a statement: white space and `;`.
fn skipped(byte: u8) -> bool {
    byte == b' ' || byte == b';' || (b'\t'..=b'\r').contains(&byte)
}

/// Splits the first statement off `sql`, after the white space and `;` before it.
fn leading(shared: &std::rc::Rc<crate::connection::Shared>, sql: &str) -> Result<Option<LeadingStatement>> {
    let start = sql.bytes().position(|b| !skipped(b)).unwrap_or(sql.len());
    let sql = &sql[start..];
    Ok(Statement::prepare_first(shared, sql)?
        .map(|(statement, consumed)| LeadingStatement { statement: NativeStatement::new(statement), rest: sql[consumed..].to_string() }))
}

#[napi]
impl NativeDatabase {
    /// Prepares the first statement of `sql` (what `exec()` runs one by one when
    /// a `verbose` logger is set); `null` when only white space and comments are left.
    #[napi]
    pub fn prepare_leading(&self, env: Env, sql: String) -> napi::Result<Option<LeadingStatement>> {
        to_js(&env, leading(&self.shared, &sql))
    }
}

#[napi]
impl NativeStatement {
    /// Binds `args` as `run()` (`forRun`) or `get()`/`all()` would, after the same
    /// checks, and returns the SQL with the parameters written in. The values stay
    /// bound for the next call only, which takes no arguments; `endLoggedCall()`
    /// ends that. A statement bound for good with `bind()` takes no arguments here either.
    #[napi(ts_args_type = "forRun: boolean, args: unknown[]")]
    pub fn bind_for_log(&self, env: Env, for_run: bool, args: JsAny) -> napi::Result<String> {
        let js = Js::new(&env);
        let bound = (|| {
            let args = (0..js.array_len(args.0)?).map(|i| js.element(args.0, i)).collect::<Result<Vec<_>>>()?;
            let mut state = self.state()?;
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
        })();
        to_js(&env, bound)
    }

    /// Ends the call `bindForLog()` bound values for: the next call binds its own again.
    #[napi]
    pub fn end_logged_call(&self, env: Env) -> napi::Result<()> {
        let ended = self.state().map(|mut state| {
            if state.bound_once {
                state.bound_once = false;
                state.inner.bound = false;
            }
        });
        to_js(&env, ended)
    }

    /// The SQL with the values bound now written in: the `verbose` logger's text
    /// (an iteration, before its first row) and the bun face's `toString()`.
    #[napi]
    pub fn expanded_sql(&self, env: Env) -> napi::Result<String> {
        to_js(&env, self.state().and_then(|state| state.inner.expanded_sql()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Shared;
    use rusqlite::Connection;

    fn source(leading: &LeadingStatement) -> String {
        leading.statement.state().unwrap().inner.source.clone()
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
