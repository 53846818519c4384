//! `NativeAsyncConnection`: one pooled connection as JS sees it (internal:
//! lib/async/ schedules requests over a writer and readers of these). Every
//! method converts its arguments on the JS thread and returns a promise of
//! work done on the libuv thread pool.

use std::cell::Cell;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Either};
use napi::Env;
use napi_derive::napi;

use crate::errors::{Error, Result, to_js};
use crate::js::{Js, JsAny};
use crate::migrations::{MigrateOptions, MigrationInput};
use crate::options::{OpenOptions, Settings};
use crate::r#async::bind_values;
use crate::r#async::interrupter::Interrupter;
use crate::r#async::maintenance::{Job, MaintenanceTask};
use crate::r#async::pooled::{Pooled, Slot};
use crate::r#async::cursor_task::{CursorStep, CursorTask};
use crate::r#async::query::{Mode, Request};
use rusqlite::types::Value;
use crate::r#async::tasks::{CloseTask, MigrateTask, OpenTask, QueryTask};

/// One connection of the async handle's pool (internal).
#[napi]
pub struct NativeAsyncConnection {
    pub(crate) slot: Slot,
    interrupter: Arc<Interrupter>,
    name: String,
    is_new: bool,
    next_id: Cell<u32>,
}

impl NativeAsyncConnection {
    /// Wraps a connection opened on a pool thread.
    pub(crate) fn new(pooled: Pooled, interrupter: Arc<Interrupter>, name: String, is_new: bool) -> Self {
        NativeAsyncConnection { slot: Arc::new(Mutex::new(Some(pooled))), interrupter, name, is_new, next_id: Cell::new(1) }
    }
}

impl Drop for NativeAsyncConnection {
    /// A handle garbage-collected without `close()` leaves no entry behind in `held_locks`
    /// (a later file could reuse the inode).
    fn drop(&mut self) {
        if let Ok(guard) = self.slot.try_lock()
            && let Some(pooled) = guard.as_ref()
        {
            // SAFETY: address only, as the registry key.
            let db = unsafe { pooled.conn.handle() } as usize;
            crate::r#async::held_locks::record(db, None, std::thread::current().id(), false);
        }
    }
}

fn mode(name: &str) -> Result<Mode> {
    Ok(match name {
        "get" => Mode::Get,
        "all" => Mode::All,
        "run" => Mode::Run,
        "exec" => Mode::Exec,
        "describe" => Mode::Describe,
        other => return Err(Error::type_error("HARDENED_INVALID_ARGUMENT", format!("Unknown request mode \"{other}\""))),
    })
}

/// The values of a named-parameter object, by key as given.
type NamedValues = Vec<(String, Value)>;

/// Converts a call's positional values and named object (keys and values) on the JS thread.
fn values(
    js: Js,
    positional: Vec<JsAny>,
    named_keys: Option<Vec<String>>,
    named_values: Option<Vec<JsAny>>,
) -> Result<(Vec<Value>, Option<NamedValues>)> {
    let positional = positional
        .into_iter()
        .enumerate()
        .map(|(i, v)| bind_values::from_js(js, v, &|| format!("Parameter {}", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let named = match (named_keys, named_values) {
        (Some(keys), Some(values)) => Some(
            keys.into_iter()
                .zip(values)
                .map(|(key, v)| {
                    let value = bind_values::from_js(js, v, &|| format!("Named parameter \"{key}\""))?;
                    Ok((key, value))
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        _ => None,
    };
    Ok((positional, named))
}

/// Opens one pooled connection with the hardened open sequence, off the JS
/// thread; a `reader` is opened `readonly` and never creates the file.
#[napi]
#[cfg_attr(test, allow(dead_code))]
pub fn open_async_connection(env: Env, path: String, options: Option<OpenOptions>, reader: bool) -> napi::Result<AsyncTask<OpenTask>> {
    let mut settings = to_js(&env, Settings::from_options(&options.unwrap_or_default()))?;
    if reader {
        settings.readonly = true;
        settings.create = false;
    }
    Ok(AsyncTask::new(OpenTask { path, settings }))
}

#[napi]
impl NativeAsyncConnection {
    /// Starts request `mode` (`get`, `all`, `run`, `exec`, `describe`) of `sql`
    /// with `positional` values and the named object's `named_keys`/`named_values`
    /// (absent when no object was given). Returns `[id, promise]`-like: the id is
    /// read with `lastRequestId` right after the call, for `interrupt(id)`.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &self,
        env: Env,
        sql: String,
        mode_name: String,
        positional: Vec<JsAny>,
        named_keys: Option<Vec<String>>,
        named_values: Option<Vec<JsAny>>,
        reader: bool,
        in_transaction: bool,
        safe_integers: bool,
    ) -> napi::Result<AsyncTask<QueryTask>> {
        let js = Js::new(&env);
        let request = values(js, positional, named_keys, named_values)
            .and_then(|(positional, named)| Ok(Request { sql, mode: mode(&mode_name)?, positional, named, reader, in_transaction }));
        let request = to_js(&env, request)?;
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        Ok(AsyncTask::new(QueryTask { slot: Arc::clone(&self.slot), interrupter: Arc::clone(&self.interrupter), request, id, safe_integers, js_thread: std::thread::current().id() }))
    }

    /// One step of `iterate()`: `open` (with `sql` and the values, then the
    /// first batch), `next` (the next batch of at most `batch` rows) or `close`.
    /// Its id is read with `lastRequestId`, as for `query()`.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn cursor(
        &self,
        env: Env,
        step: String,
        sql: Option<String>,
        positional: Option<Vec<JsAny>>,
        named_keys: Option<Vec<String>>,
        named_values: Option<Vec<JsAny>>,
        batch: u32,
        safe_integers: bool,
    ) -> napi::Result<AsyncTask<CursorTask>> {
        let step = match step.as_str() {
            "open" => {
                let (positional, named) = to_js(&env, values(Js::new(&env), positional.unwrap_or_default(), named_keys, named_values))?;
                CursorStep::Open { sql: sql.unwrap_or_default(), positional, named }
            }
            "next" => CursorStep::Next,
            _ => CursorStep::Close,
        };
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        Ok(AsyncTask::new(CursorTask {
            slot: Arc::clone(&self.slot),
            interrupter: Arc::clone(&self.interrupter),
            id,
            step: Some(step),
            batch: batch as usize,
            safe_integers,
        }))
    }

    /// The id of the request started by the last `query()` call.
    #[napi(getter)]
    pub fn last_request_id(&self) -> u32 {
        self.next_id.get().wrapping_sub(1)
    }

    /// Interrupts request `id` through `sqlite3_interrupt` if it is running now;
    /// returns whether it was (a queued or finished request is left alone).
    #[napi]
    pub fn interrupt(&self, id: u32) -> bool {
        self.interrupter.interrupt(id)
    }

    /// Applies the pending migrations of `source` (on the writer).
    #[napi]
    pub fn migrate(
        &self,
        source: Either<String, Vec<MigrationInput>>,
        options: Option<MigrateOptions>,
        readonly: bool,
    ) -> AsyncTask<MigrateTask> {
        AsyncTask::new(MigrateTask { slot: Arc::clone(&self.slot), source, options: options.unwrap_or_default(), readonly })
    }

    /// Runs a maintenance job: `checkpoint` (with `mode`, waiting at most `timeout_ms`
    /// for readers), `integrityCheck` (`quick`), `incrementalVacuum` (`pages`), `vacuum` or `optimize`.
    #[napi]
    pub fn maintain(
        &self,
        env: Env,
        job: String,
        mode: Option<String>,
        quick: Option<bool>,
        pages: Option<u32>,
        timeout_ms: Option<f64>,
    ) -> napi::Result<AsyncTask<MaintenanceTask>> {
        let timeout = timeout_ms.map(|ms| crate::options::busy_timeout_ms(ms, "checkpoint option \"timeout\""));
        let timeout = to_js(&env, timeout.transpose())?;
        let job = match job.as_str() {
            "checkpoint" => Job::Checkpoint(mode.unwrap_or_else(|| "PASSIVE".into()), timeout),
            "integrityCheck" => Job::IntegrityCheck(quick.unwrap_or(false)),
            "incrementalVacuum" => Job::IncrementalVacuum(pages),
            "optimize" => Job::Optimize,
            "vacuum" => Job::Vacuum,
            other => {
                return Err(Error::type_error("HARDENED_INVALID_ARGUMENT", format!("Unknown maintenance job \"{other}\"")).throw(&env));
            }
        };
        Ok(AsyncTask::new(MaintenanceTask { slot: Arc::clone(&self.slot), job }))
    }

    /// Builds the health report (on the writer): `integrity` `"quick"` or
    /// `"full"`, and the `migrations` source and flags the handle was opened with.
    #[napi]
    pub fn health(
        &self,
        env: Env,
        integrity: Option<String>,
        migrations: Option<Either<String, Vec<MigrationInput>>>,
        flags: Option<MigrateOptions>,
    ) -> napi::Result<AsyncTask<MaintenanceTask>> {
        let integrity = to_js(&env, crate::r#async::health::integrity(integrity.as_deref()))?;
        let job = crate::r#async::health::HealthJob { integrity, migrations: migrations.map(|m| (m, flags.unwrap_or_default())) };
        Ok(AsyncTask::new(MaintenanceTask { slot: Arc::clone(&self.slot), job: Job::Health(job) }))
    }

    /// Closes the connection once its running request ended (idempotent).
    #[napi]
    pub fn close(&self) -> AsyncTask<CloseTask> {
        AsyncTask::new(CloseTask { slot: Arc::clone(&self.slot) })
    }

    /// Closes at once on the JS thread, for the process's `exit` event (no task
    /// will run after it): interrupts the running request, waits at most about
    /// 500 ms for its pool thread to let go, then closes. Returns whether it closed.
    #[napi]
    pub fn close_now(&self) -> bool {
        self.interrupter.interrupt_running();
        for _ in 0..500 {
            match self.slot.try_lock() {
                Ok(mut guard) => {
                    let Some(pooled) = guard.take() else { return true };
                    return pooled.close().is_ok();
                }
                Err(std::sync::TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(std::sync::TryLockError::Poisoned(_)) => return false,
            }
        }
        false
    }

    /// The path as opened.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Whether this open created the database.
    #[napi(getter)]
    pub fn is_new(&self) -> bool {
        self.is_new
    }
}
