//! `await db.backup(destination, options)` of the async handle: the sync
//! backup's job (`backup.rs`: the destination checked, a temporary file with
//! `fileMode`, fsync, `integrity_check`, an atomic rename) stepped on the libuv
//! thread pool. It reads from a connection of its own, opened read-only by the
//! hardened open sequence, so the pool's readers and writer keep serving calls.

use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{AsyncTask, Either, Task};
use napi::Env;
use napi_derive::napi;

use crate::backup::{BackupJob, BackupResult};
use crate::errors::{Error, Result, to_js};
use crate::js::JsAny;
use crate::options::{OpenOptions, Settings};
use crate::r#async::pooled::Pooled;

/// A backup under way: the job, and the connection it reads from.
pub struct Running {
    /// Declared first: dropped (the SQLite backup finished, the temporary file
    /// removed) before `source` closes, as SQLite refuses to close a connection
    /// with an unfinished backup.
    job: BackupJob,
    /// The backup's own read-only connection.
    source: Pooled,
}

impl Running {
    /// Aborts the job (nothing is left beside the destination), then closes the source.
    fn abort(self) -> Result<()> {
        let Running { job, source } = self;
        drop(job);
        source.close()
    }
}

/// The state shared by the tasks of one backup: `None` once it ended.
type State = Arc<Mutex<Option<Running>>>;

fn lock(state: &State) -> Result<MutexGuard<'_, Option<Running>>> {
    state.lock().map_err(|_| Error::hardened("HARDENED_INTERNAL", "A backup was poisoned by a panic; start it again"))
}

fn ended() -> Error {
    Error::type_error("HARDENED_NOT_OPEN", "This backup has already ended")
}

/// What one task of a backup produced (internal: lib/async/backup.js reads it).
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AsyncBackupOutcome {
    /// Pages in the source database now.
    pub total_pages: i64,
    /// Pages still to copy.
    pub remaining_pages: i64,
    /// Every page has been copied (then `finish()`).
    pub done: bool,
    /// After `finish()`: the destination as given.
    pub path: Option<String>,
    /// After `finish()`: the size of the backup file in bytes.
    pub bytes: Option<i64>,
}

/// One backup of the async handle (internal: made by `startAsyncBackup`).
#[napi]
pub struct NativeAsyncBackup {
    state: State,
}

impl Drop for NativeAsyncBackup {
    /// A handle garbage-collected with its backup still under way (lib/async/backup.js
    /// always finishes or aborts it) aborts it: no temporary file, the source closed.
    fn drop(&mut self) {
        if let Ok(mut guard) = self.state.try_lock()
            && let Some(running) = guard.take()
        {
            let _ = running.abort();
        }
    }
}

/// What a task does with the backup.
enum Action {
    /// Opens the source on `path` with `settings` and starts the job to `destination`.
    Start { path: String, settings: Settings, destination: String, overwrite: Option<bool> },
    /// Copies up to this many pages (negative: all).
    Step(i32),
    /// Verifies the copy, renames it into place, closes the source.
    Finish,
    /// Aborts the backup and closes the source.
    Abort,
}

/// A task of one backup, on a pool thread.
pub struct BackupTask {
    state: State,
    action: Option<Action>,
}

impl BackupTask {
    fn run(&mut self) -> Result<AsyncBackupOutcome> {
        let action = self.action.take().unwrap_or(Action::Abort);
        let mut guard = lock(&self.state)?;
        match action {
            Action::Start { path, settings, destination, overwrite } => {
                let source = Pooled::new(crate::open::open(&path, &settings)?, settings.clone());
                match BackupJob::start(&source.conn, &destination, "main", settings.file_mode, overwrite) {
                    Ok(job) => *guard = Some(Running { job, source }),
                    Err(err) => {
                        let _ = source.close();
                        return Err(err);
                    }
                }
                Ok(AsyncBackupOutcome::default())
            }
            Action::Step(pages) => {
                let Some(running) = guard.as_mut() else { return Err(ended()) };
                let progress = running.job.step(&running.source.conn, pages)?;
                let done = running.job.done();
                Ok(AsyncBackupOutcome {
                    total_pages: progress.total_pages.into(),
                    remaining_pages: progress.remaining_pages.into(),
                    done,
                    ..Default::default()
                })
            }
            Action::Finish => {
                let Some(Running { mut job, source }) = guard.take() else { return Err(ended()) };
                let finished = job.finish();
                drop(job);
                let closed = source.close();
                let BackupResult { total_pages, remaining_pages, path, bytes } = finished?;
                closed?;
                Ok(AsyncBackupOutcome { total_pages, remaining_pages, done: true, path: Some(path), bytes: Some(bytes) })
            }
            Action::Abort => {
                if let Some(running) = guard.take() {
                    running.abort()?;
                }
                Ok(AsyncBackupOutcome::default())
            }
        }
    }
}

impl Task for BackupTask {
    type Output = Result<AsyncBackupOutcome>;
    type JsValue = Either<AsyncBackupOutcome, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output {
            Ok(outcome) => Either::A(outcome),
            Err(err) => Either::B(JsAny(crate::errors::error_value(&env, &err))),
        })
    }
}

#[napi]
impl NativeAsyncBackup {
    /// A handle with no backup yet (`start()` begins one).
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeAsyncBackup { state: Arc::new(Mutex::new(None)) }
    }

    fn task(&self, action: Action) -> AsyncTask<BackupTask> {
        AsyncTask::new(BackupTask { state: Arc::clone(&self.state), action: Some(action) })
    }

    /// Opens the database at `path` read-only with `options` (the hardened open
    /// sequence) and starts backing it up to `destination`, checked as the sync
    /// `backup()` checks it (`overwrite`); the temporary file gets `fileMode`.
    #[napi]
    pub fn start(
        &self,
        env: Env,
        path: String,
        options: Option<OpenOptions>,
        destination: String,
        overwrite: Option<bool>,
    ) -> napi::Result<AsyncTask<BackupTask>> {
        let mut settings = to_js(&env, Settings::from_options(&options.unwrap_or_default()))?;
        settings.readonly = true;
        settings.create = false;
        Ok(self.task(Action::Start { path, settings, destination, overwrite }))
    }

    /// Copies up to `pages` pages (`0`: none, negative: all); resolves to the progress.
    #[napi]
    pub fn step(&self, pages: i32) -> AsyncTask<BackupTask> {
        self.task(Action::Step(pages))
    }

    /// Once done: verifies the copy, renames it into place, closes the source;
    /// resolves to the result with `path` and `bytes`.
    #[napi]
    pub fn finish(&self) -> AsyncTask<BackupTask> {
        self.task(Action::Finish)
    }

    /// Aborts the backup (idempotent): nothing is left at the destination or beside it.
    #[napi]
    pub fn abort(&self) -> AsyncTask<BackupTask> {
        self.task(Action::Abort)
    }

    /// Aborts at once on the JS thread, for the process's `exit` event: waits at
    /// most about 500 ms for a running step to end. Returns whether it aborted.
    #[napi]
    pub fn abort_now(&self) -> bool {
        for _ in 0..500 {
            match self.state.try_lock() {
                Ok(mut guard) => return guard.take().is_none_or(|running| running.abort().is_ok()),
                Err(std::sync::TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(std::sync::TryLockError::Poisoned(_)) => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use std::os::unix::fs::PermissionsExt;

    fn task(state: &State, action: Action) -> Result<AsyncBackupOutcome> {
        BackupTask { state: Arc::clone(state), action: Some(action) }.run()
    }

    #[test]
    fn backs_up_from_its_own_connection_in_steps_and_aborts_cleanly() {
        let dir = temp_dir("async-backup");
        let path = dir.join("app.db");
        let writer = crate::open::open(path.to_str().unwrap(), &Settings::default()).unwrap().conn;
        writer.execute_batch("CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) INSERT INTO t SELECT randomblob(3000) FROM n").unwrap();
        let settings = Settings { readonly: true, create: false, ..Settings::default() };
        let start = |dest: &str| Action::Start { path: path.to_str().unwrap().into(), settings: settings.clone(), destination: dest.into(), overwrite: None };
        let state: State = Arc::new(Mutex::new(None));
        let dest = dir.join("copy.db");
        task(&state, start(dest.to_str().unwrap())).unwrap();
        let mut steps = 0;
        while !task(&state, Action::Step(10)).unwrap().done {
            steps += 1;
            assert!(steps < 100);
        }
        assert!(steps >= 4, "{steps}");
        let finished = task(&state, Action::Finish).unwrap();
        assert_eq!(finished.path.as_deref(), dest.to_str());
        assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);
        let copy = rusqlite::Connection::open(&dest).unwrap();
        assert_eq!(copy.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 50);
        assert_eq!(task(&state, Action::Step(1)).unwrap_err().code(), "HARDENED_NOT_OPEN");
        // An aborted backup leaves nothing beside the destination.
        let state: State = Arc::new(Mutex::new(None));
        task(&state, start(dir.join("other.db").to_str().unwrap())).unwrap();
        task(&state, Action::Step(2)).unwrap();
        task(&state, Action::Abort).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert!(!names.iter().any(|n| n.contains("other.db")), "{names:?}");
        assert_eq!(task(&state, start(dir.to_str().unwrap())).unwrap_err().code(), "HARDENED_PATH_IS_DIRECTORY");
        // A handle dropped mid-backup aborts it too.
        let handle = NativeAsyncBackup::new();
        task(&handle.state, start(dir.join("dropped.db").to_str().unwrap())).unwrap();
        task(&handle.state, Action::Step(2)).unwrap();
        assert!(std::fs::read_dir(&dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("dropped.db")));
        drop(handle);
        assert!(!std::fs::read_dir(&dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("dropped.db")));
        drop(copy);
        drop(writer);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
