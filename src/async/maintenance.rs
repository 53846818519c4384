//! Maintenance of the async handle off the event loop: `checkpoint()`,
//! `integrityCheck()`, `incrementalVacuum()`, `vacuum()` and `optimize()`, the sync API's
//! functions (`maintenance.rs`) run as a task on a pooled connection.

use napi::bindgen_prelude::{Either, Task};
use napi::Env;
use napi_derive::napi;

use crate::errors::{Error, Result};
use crate::js::JsAny;
use crate::maintenance::{self, CheckpointResult};
use crate::options::Settings;
use std::path::Path;
use crate::r#async::pooled::{self, Slot};

/// One maintenance job.
pub enum Job {
    /// `PRAGMA wal_checkpoint(mode)`, waiting at most the ms given for readers
    /// (`None`: the sync API's default; see `replication::checkpoint`).
    Checkpoint(String, Option<u32>),
    /// `PRAGMA integrity_check` (or `quick_check` when true).
    IntegrityCheck(bool),
    /// `PRAGMA incremental_vacuum(pages)`.
    IncrementalVacuum(Option<u32>),
    /// `VACUUM`.
    Vacuum,
    /// `PRAGMA optimize`.
    Optimize,
    /// The health report (needs the pooled connection's settings, see `health.rs`).
    Health(crate::r#async::health::HealthJob),
}

/// What a job produced (internal: lib/async reads the field its call asked for).
#[napi(object)]
#[derive(Default)]
pub struct MaintenanceOutcome {
    /// `checkpoint()`'s result.
    pub checkpoint: Option<CheckpointResult>,
    /// `integrityCheck()`'s problems (empty when sound).
    pub problems: Option<Vec<String>>,
    /// `incrementalVacuum()`'s pages released, or `vacuum()`'s.
    pub pages: Option<f64>,
    /// `health()`'s report.
    pub health: Option<crate::health::HealthReport>,
}

/// Runs `job` on `conn`, opened with `settings` on `path`.
pub fn run(conn: &rusqlite::Connection, settings: &Settings, path: Option<&Path>, job: &Job) -> Result<MaintenanceOutcome> {
    Ok(match job {
        Job::Checkpoint(mode, requested) => {
            let result = crate::replication::checkpoint(conn, mode, settings, path, *requested)?;
            MaintenanceOutcome { checkpoint: Some(result), ..Default::default() }
        }
        Job::IntegrityCheck(quick) => {
            MaintenanceOutcome { problems: Some(maintenance::integrity_problems(conn, *quick)?), ..Default::default() }
        }
        Job::IncrementalVacuum(pages) => {
            MaintenanceOutcome { pages: Some(maintenance::incremental_vacuum(conn, *pages)? as f64), ..Default::default() }
        }
        Job::Vacuum => MaintenanceOutcome { pages: Some(maintenance::vacuum(conn)? as f64), ..Default::default() },
        Job::Optimize => {
            maintenance::optimize(conn)?;
            MaintenanceOutcome::default()
        }
        Job::Health(_) => return Err(Error::hardened("HARDENED_INTERNAL", "health() runs on the pooled connection")),
    })
}

/// A maintenance job on one pooled connection.
pub struct MaintenanceTask {
    /// The connection.
    pub slot: Slot,
    /// What to do.
    pub job: Job,
}

impl Task for MaintenanceTask {
    type Output = Result<MaintenanceOutcome>;
    type JsValue = Either<MaintenanceOutcome, JsAny>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = &mut self.job;
        Ok(pooled::with_open(&self.slot, |pooled| {
            if matches!(job, Job::Health(_))
                && let Job::Health(health) = std::mem::replace(job, Job::Optimize)
            {
                let report = crate::r#async::health::report(pooled, health)?;
                return Ok(MaintenanceOutcome { health: Some(report), ..Default::default() });
            }
            pooled.timed("maintenance", |conn| run(conn, &pooled.settings, pooled.path.as_deref(), job))
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output {
            Ok(outcome) => Either::A(outcome),
            Err(err) => Either::B(JsAny(crate::errors::error_value(&env, &err))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_each_job() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let settings = Settings::default();
        let run = |job: &Job| run(&conn, &settings, None, job);
        assert_eq!(run(&Job::IntegrityCheck(false)).unwrap().problems, Some(vec![]));
        assert_eq!(run(&Job::Checkpoint("bogus".into(), None)).err().unwrap().code(), "HARDENED_INVALID_ARGUMENT");
        assert!(run(&Job::Optimize).unwrap().checkpoint.is_none());
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t SELECT randomblob(5000) FROM (SELECT 1 UNION ALL SELECT 2); DELETE FROM t").unwrap();
        assert!(run(&Job::Vacuum).unwrap().pages.unwrap() >= 2.0);
    }
}
