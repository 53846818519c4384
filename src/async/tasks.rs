//! The work of the async handle on the libuv thread pool: each task locks its
//! pooled connection in `compute` (a pool thread) and builds JS values in
//! `resolve` (the JS thread). A failure resolves to the JS error object, which
//! lib/async throws, so its `.code` and class survive the trip.

use std::sync::Arc;

use napi::bindgen_prelude::{Either, Task};
use napi::Env;

use crate::errors::{Error, Result};
use crate::js::JsAny;
use crate::migrations::{MigrateOptions, MigrationInput};
use crate::options::Settings;
use crate::r#async::interrupter::Interrupter;
use crate::r#async::native::NativeAsyncConnection;
use crate::r#async::outcome_js::{self, AsyncOutcome};
use crate::r#async::pooled::{self, Pooled, Slot};
use crate::r#async::query::{self, Outcome, Request};

/// A JS error value for `err`, created on the JS thread.
fn error_value(env: &Env, err: &Error) -> JsAny {
    JsAny(crate::errors::error_value(env, err))
}

/// Opens one pooled connection.
pub struct OpenTask {
    /// The path given to `openAsync()`.
    pub path: String,
    /// Validated settings (a reader's are `readonly`).
    pub settings: Settings,
}

impl Task for OpenTask {
    type Output = Result<(Pooled, String, bool)>;
    type JsValue = Either<NativeAsyncConnection, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(crate::open::open(&self.path, &self.settings).and_then(|opened| {
            if opened.location.is_private() {
                return Err(Error::type_error(
                    "HARDENED_INVALID_OPTION",
                    "openAsync() needs a database file: its pooled connections would each see their own in-memory \
                     database; use new HardenedDb(\":memory:\") or a file path",
                ));
            }
            let name = opened.location.display_name();
            let is_new = opened.is_new;
            Ok((Pooled::new(opened, self.settings.clone()), name, is_new))
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output {
            Ok((pooled, name, is_new)) => {
                let interrupter = Arc::new(Interrupter::new(pooled.conn.get_interrupt_handle()));
                Either::A(NativeAsyncConnection::new(pooled, interrupter, name, is_new))
            }
            Err(err) => Either::B(error_value(&env, &err)),
        })
    }
}

/// Runs one request.
pub struct QueryTask {
    /// The connection.
    pub slot: Slot,
    /// Its interrupter.
    pub interrupter: Arc<Interrupter>,
    /// The request, converted on the JS thread.
    pub request: Request,
    /// Its id, for `interrupt(id)`.
    pub id: u32,
    /// Integers become bigints.
    pub safe_integers: bool,
    /// The JS thread that made the request (see `held_locks`).
    pub js_thread: std::thread::ThreadId,
}

impl Task for QueryTask {
    type Output = Result<Outcome>;
    type JsValue = Either<AsyncOutcome, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(pooled::with_open(&self.slot, |pooled| {
            if !self.interrupter.begin(self.id) {
                return Err(Error::Sqlite { code: rusqlite::ffi::SQLITE_INTERRUPT, message: "interrupted before it started".into() });
            }
            let outcome = pooled.timed(&self.request.sql, |conn| query::run(conn, &self.request));
            // SAFETY: address only, as the registry key.
            let db = unsafe { pooled.conn.handle() } as usize;
            crate::r#async::held_locks::record(db, pooled.file, self.js_thread, !pooled.conn.is_autocommit());
            self.interrupter.end();
            outcome
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output.and_then(|outcome| outcome_js::to_js(outcome, self.safe_integers)) {
            Ok(outcome) => Either::A(outcome),
            Err(err) => Either::B(error_value(&env, &err)),
        })
    }
}

/// Applies pending migrations on the writer.
pub struct MigrateTask {
    /// The writer.
    pub slot: Slot,
    /// A directory or a list of migrations.
    pub source: Either<String, Vec<MigrationInput>>,
    /// `allowChangedMigrations` and the other flags.
    pub options: MigrateOptions,
    /// The handle is `readonly` (pending migrations are then refused, not run).
    pub readonly: bool,
}

impl Task for MigrateTask {
    type Output = Result<()>;
    type JsValue = Either<bool, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let source = std::mem::replace(&mut self.source, Either::B(Vec::new()));
        Ok(pooled::with_open(&self.slot, |pooled| {
            let list = crate::migrations::load(source)?;
            crate::migrations::migrate(&pooled.conn, &list, &self.options, self.readonly).map(|_| ())
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output {
            Ok(()) => Either::A(true),
            Err(err) => Either::B(error_value(&env, &err)),
        })
    }
}

/// Closes one pooled connection (idempotent).
pub struct CloseTask {
    /// The connection.
    pub slot: Slot,
}

impl Task for CloseTask {
    type Output = Result<()>;
    type JsValue = Either<bool, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let taken = match pooled::lock(&self.slot) {
            Ok(mut guard) => guard.take(),
            Err(err) => return Ok(Err(err)),
        };
        Ok(taken.map_or(Ok(()), Pooled::close))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output {
            Ok(()) => Either::A(true),
            Err(err) => Either::B(error_value(&env, &err)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::r#async::query::Mode;
    use crate::test_support::temp_dir;

    fn request(sql: &str, mode: Mode) -> Request {
        Request { sql: sql.into(), mode, positional: vec![], named: None, reader: false, in_transaction: false }
    }

    fn query(slot: &Slot, interrupter: &Arc<Interrupter>, id: u32, req: Request) -> Result<Outcome> {
        let mut task = QueryTask { slot: Arc::clone(slot), interrupter: Arc::clone(interrupter), request: req, id, safe_integers: false, js_thread: std::thread::current().id() };
        task.compute().unwrap()
    }

    #[test]
    fn opens_a_file_runs_requests_and_closes_it() {
        let dir = temp_dir("async-tasks");
        let path = dir.join("app.db");
        let mut open = OpenTask { path: path.to_str().unwrap().into(), settings: Settings::default() };
        let (pooled, _, is_new) = open.compute().unwrap().unwrap();
        assert!(is_new);
        let interrupter = Arc::new(Interrupter::new(pooled.conn.get_interrupt_handle()));
        let native = NativeAsyncConnection::new(pooled, Arc::clone(&interrupter), String::new(), true);
        let slot = Arc::clone(&native.slot);
        query(&slot, &interrupter, 1, request("CREATE TABLE t(x); INSERT INTO t VALUES (1)", Mode::Exec)).unwrap();
        // A request cancelled while queued never runs.
        assert!(!interrupter.interrupt(2));
        let err = query(&slot, &interrupter, 2, request("INSERT INTO t VALUES (2)", Mode::Run)).unwrap_err();
        assert_eq!(err.code(), "SQLITE_INTERRUPT");
        let rows = query(&slot, &interrupter, 3, request("SELECT x FROM t", Mode::All)).unwrap();
        assert_eq!(rows, Outcome::Rows { columns: vec!["x".into()], cells: vec![rusqlite::types::Value::Integer(1)] });
        CloseTask { slot: Arc::clone(&slot) }.compute().unwrap().unwrap();
        assert_eq!(query(&slot, &interrupter, 4, request("SELECT 1", Mode::Get)).unwrap_err().code(), "HARDENED_NOT_OPEN");
        assert!(!std::path::Path::new(&format!("{}-wal", path.display())).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_an_in_memory_database() {
        let mut open = OpenTask { path: ":memory:".into(), settings: Settings::default() };
        assert_eq!(open.compute().unwrap().err().unwrap().code(), "HARDENED_INVALID_OPTION");
    }
}
