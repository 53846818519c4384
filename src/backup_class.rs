//! `NativeBackup`: the JS handle of a backup in progress (`db.backup()` steps it
//! once per event-loop turn, see lib/backup.js).

use std::cell::RefCell;
use std::rc::Rc;

use napi::Env;
use napi_derive::napi;

use crate::backup::{BackupJob, BackupProgress, BackupResult};
use crate::connection::Shared;
use crate::errors::{Error, to_js};

/// A backup in progress (internal: returned by `NativeDatabase.startBackup`).
#[napi]
pub struct NativeBackup {
    shared: Rc<Shared>,
    job: RefCell<Option<BackupJob>>,
}

impl NativeBackup {
    /// Wraps a started job on `shared`.
    pub fn new(shared: Rc<Shared>, job: BackupJob) -> NativeBackup {
        NativeBackup { shared, job: RefCell::new(Some(job)) }
    }
}

/// The error of a handle used after `close()` or `finish()`.
fn ended() -> Error {
    Error::type_error("HARDENED_NOT_OPEN", "This backup has already ended")
}

#[napi]
impl NativeBackup {
    /// Copies up to `pages` pages (`0`: none, negative: all); returns the progress.
    #[napi]
    pub fn transfer(&self, env: Env, pages: i32) -> napi::Result<BackupProgress> {
        let mut job = self.job.borrow_mut();
        let progress = match job.as_mut() {
            Some(job) => job.step(&*self.shared, pages),
            None => Err(ended()),
        };
        to_js(&env, progress)
    }

    /// Whether every page has been copied.
    #[napi(getter)]
    pub fn done(&self) -> bool {
        self.job.borrow().as_ref().is_some_and(BackupJob::done)
    }

    /// Verifies the finished copy and renames it into place; ends the backup.
    #[napi]
    pub fn finish(&self, env: Env) -> napi::Result<BackupResult> {
        let job = self.job.borrow_mut().take();
        let result = match job {
            Some(mut job) => job.finish(),
            None => Err(ended()),
        };
        to_js(&env, result)
    }

    /// Aborts the backup (idempotent): nothing is left at the destination or beside it.
    #[napi]
    pub fn close(&self) {
        self.job.borrow_mut().take();
    }
}
