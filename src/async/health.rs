//! `await db.health()` of the async handle: the sync report (`health.rs`),
//! built on the writer off the event loop, with where the migrations the
//! handle was opened with stand.

use napi::bindgen_prelude::Either;
use rusqlite::Connection;

use crate::errors::Result;
use crate::health::{self, HealthReport, Integrity, MigrationHealth, Subject};
use crate::migrations::{MigrateOptions, MigrationInput};
use crate::r#async::pooled::Pooled;

/// What `health()` needs beyond the connection.
pub struct HealthJob {
    /// `quick`, `full` or no integrity check.
    pub integrity: Integrity,
    /// The `migrations` option of `openAsync()`, and its flags.
    pub migrations: Option<(Either<String, Vec<MigrationInput>>, MigrateOptions)>,
}

/// Parses the `integrity` option as the sync `health()` does.
pub fn integrity(value: Option<&str>) -> Result<Integrity> {
    match value {
        None => Ok(Integrity::Skip),
        Some(v) if v.eq_ignore_ascii_case("quick") => Ok(Integrity::Quick),
        Some(v) if v.eq_ignore_ascii_case("full") => Ok(Integrity::Full),
        Some(v) => Err(crate::errors::Error::range(
            "HARDENED_INVALID_ARGUMENT",
            format!("Health option \"integrity\" must be \"quick\" or \"full\", got \"{v}\""),
        )),
    }
}

/// Where the schema stands; a migration error (changed migration, schema ahead) becomes a failed check.
fn migration_health(conn: &Connection, job: &mut HealthJob) -> Result<Option<MigrationHealth>> {
    let Some((source, options)) = job.migrations.take() else { return Ok(None) };
    let status = crate::migrations::load(source).and_then(|list| crate::migrations::status(conn, &list, &options));
    Ok(Some(match status {
        Ok(status) => MigrationHealth { current: status.current, latest: status.latest, pending: status.pending.len() as i64, error: None },
        Err(err) if err.code().starts_with("HARDENED_MIGRATION") || err.code() == "HARDENED_SCHEMA_AHEAD" => {
            MigrationHealth { current: 0, latest: 0, pending: 0, error: Some(format!("{} ({})", err.message(), err.code())) }
        }
        Err(err) => return Err(err),
    }))
}

/// Builds the report on `pooled` (the writer).
pub fn report(pooled: &Pooled, mut job: HealthJob) -> Result<HealthReport> {
    let migrations = migration_health(&pooled.conn, &mut job)?;
    let subject = Subject { conn: &pooled.conn, settings: &pooled.settings, path: pooled.path.as_deref(), is_new: pooled.is_new };
    health::report(subject, job.integrity, migrations.as_ref())
}
