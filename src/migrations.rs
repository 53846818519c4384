//! The migration runner: brings `PRAGMA user_version` up to the latest
//! migration, each one exactly once across processes, each in its own
//! `BEGIN IMMEDIATE` transaction, recorded in the `_hardened_migrations` ledger.

use std::collections::HashMap;
use std::time::Instant;

use napi::Either;
use napi_derive::napi;
use rusqlite::{Connection, OptionalExtension};

use crate::errors::{Error, Result};
use crate::migration_files::{self, Migration};
use crate::migration_script::{self, Failed};

/// The ledger table of applied migrations.
pub const LEDGER: &str = "_hardened_migrations";

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS _hardened_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT";

/// A migration given as data rather than as a file (for bundled apps and tests).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct MigrationInput {
    /// Its version: a whole number from 1 up, unique; `PRAGMA user_version` holds the last one applied.
    pub version: f64,
    /// Its name, shown in reports and errors.
    pub name: String,
    /// The SQL it runs: any number of statements.
    pub sql: String,
}

/// Loads migrations from a directory path or a list.
pub fn load(source: Either<String, Vec<MigrationInput>>) -> Result<Vec<Migration>> {
    match source {
        Either::A(dir) => migration_files::load_dir(std::path::Path::new(&dir)),
        Either::B(list) => migration_files::from_list(list.into_iter().map(|m| (m.version, m.name, m.sql)).collect()),
    }
}

/// What the app accepts knowingly (every field defaults to `false`).
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct MigrateOptions {
    /// Accept an applied migration whose SQL changed since it ran (or whose file is gone). Default `false`.
    pub allow_changed_migrations: Option<bool>,
    /// Accept a database whose `user_version` is newer than the latest known migration. Default `false`.
    pub allow_schema_ahead: Option<bool>,
    /// On a `readonly` connection, accept pending migrations instead of failing. Default `false`.
    pub allow_pending_migrations: Option<bool>,
}

/// One migration that ran.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// Milliseconds it took, waiting for the write lock included.
    pub ms: f64,
}

/// What `migrate()` did.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationReport {
    /// `user_version` before.
    pub from: i64,
    /// `user_version` after.
    pub to: i64,
    /// The migrations this call applied, in order (those another process applied meanwhile are not listed).
    pub applied: Vec<AppliedMigration>,
}

/// One migration not applied yet.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
}

/// Where the database stands, from `migrationStatus()`.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationStatus {
    /// `user_version`: the last migration applied (0 for none).
    pub current: i64,
    /// The highest version among the migrations (0 for none).
    pub latest: i64,
    /// Migrations above `current`, in the order they would run.
    pub pending: Vec<PendingMigration>,
}

fn flag(value: Option<bool>) -> bool {
    value.unwrap_or(false)
}

fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

/// The ledger as `version -> (name, sha256)`, empty when the table does not exist yet.
fn ledger(conn: &Connection) -> Result<HashMap<i64, (String, String)>> {
    let exists: Option<i64> = conn
        .query_row("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", [LEDGER], |row| row.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(HashMap::new());
    }
    let mut stmt = conn.prepare("SELECT version, name, sha256 FROM _hardened_migrations")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Fails when the database is ahead of the code, an applied migration changed
/// or disappeared, or a migration below `current` was skipped.
///
/// Versions up to `current` that are missing from the ledger and below its
/// first entry were applied before the ledger existed (a database adopted from
/// another tool): they count as applied and have nothing to compare.
fn verify(conn: &Connection, migrations: &[Migration], current: i64, options: &MigrateOptions) -> Result<()> {
    let latest = migrations.last().map_or(0, |m| m.version);
    if current > latest && !flag(options.allow_schema_ahead) {
        return Err(schema_ahead(current, latest));
    }
    let recorded = ledger(conn)?;
    let first_recorded = recorded.keys().min().copied().unwrap_or(i64::MAX);
    for m in migrations.iter().filter(|m| m.version <= current) {
        match recorded.get(&m.version) {
            Some((_, sha)) if *sha != m.checksum() && !flag(options.allow_changed_migrations) => {
                return Err(changed(format!("{} was changed after it was applied (its SHA-256 differs from the one recorded)", m.source)));
            }
            None if m.version > first_recorded => {
                return Err(Error::hardened(
                    "HARDENED_MIGRATION_OUT_OF_ORDER",
                    format!(
                        "{} (version {}) was never applied, but later migrations already were (user_version is {current}); \
                         renumber it above {latest} so it runs",
                        m.source, m.version
                    ),
                ));
            }
            _ => {}
        }
    }
    let known: Vec<i64> = migrations.iter().map(|m| m.version).collect();
    let mut gone: Vec<(&i64, &(String, String))> =
        recorded.iter().filter(|(v, _)| **v <= latest && !known.contains(v)).collect();
    gone.sort();
    if let Some((version, (name, _))) = gone.first().filter(|_| !flag(options.allow_changed_migrations)) {
        return Err(changed(format!("migration {version} \"{name}\" was applied, but no migration has version {version} any more")));
    }
    Ok(())
}

fn changed(what: String) -> Error {
    Error::hardened(
        "HARDENED_MIGRATION_CHANGED",
        format!(
            "{what}; an applied migration never runs again, so the change would not reach this database: restore \
             the original and put the change in a new migration, or pass allowChangedMigrations: true to accept it"
        ),
    )
}

fn schema_ahead(current: i64, latest: i64) -> Error {
    Error::hardened(
        "HARDENED_SCHEMA_AHEAD",
        format!(
            "The database is at schema version {current}, newer than the latest migration this code knows ({latest}); \
             it was migrated by newer code, and older code must not write into it: deploy the newer code, or pass \
             allowSchemaAhead: true if this code is known to be compatible"
        ),
    )
}

/// Where the database stands, checked as `migrate` checks it, without changing anything.
pub fn status(conn: &Connection, migrations: &[Migration], options: &MigrateOptions) -> Result<MigrationStatus> {
    let current = user_version(conn)?;
    verify(conn, migrations, current, options)?;
    Ok(MigrationStatus {
        current,
        latest: migrations.last().map_or(0, |m| m.version),
        pending: migrations
            .iter()
            .filter(|m| m.version > current)
            .map(|m| PendingMigration { version: m.version, name: m.name.clone() })
            .collect(),
    })
}

/// Applies every pending migration, in order. On a read-only connection it
/// applies nothing and fails if any is pending (unless `allow_pending_migrations`).
pub fn migrate(conn: &Connection, migrations: &[Migration], options: &MigrateOptions, readonly: bool) -> Result<MigrationReport> {
    if !conn.is_autocommit() {
        return Err(Error::type_error(
            "HARDENED_IN_TRANSACTION",
            "Migrations cannot run inside a transaction (each one runs in its own): call migrate() outside of it",
        ));
    }
    let before = status(conn, migrations, options)?;
    let from = before.current;
    if readonly {
        if let Some(first) = before.pending.first().filter(|_| !flag(options.allow_pending_migrations)) {
            return Err(Error::hardened(
                "HARDENED_MIGRATIONS_PENDING",
                format!(
                    "The database is at schema version {from} and {} migration(s) are pending (the first is {} \"{}\"); \
                     a readonly connection never migrates: open it once without readonly: true, or pass \
                     allowPendingMigrations: true to read the older schema",
                    before.pending.len(),
                    first.version,
                    first.name
                ),
            ));
        }
        return Ok(MigrationReport { from, to: from, applied: Vec::new() });
    }
    let mut applied = Vec::new();
    for m in migrations.iter().filter(|m| m.version > from) {
        let started = Instant::now();
        if apply_one(conn, m, migrations, options)? {
            applied.push(AppliedMigration { version: m.version, name: m.name.clone(), ms: started.elapsed().as_secs_f64() * 1000.0 });
        }
    }
    Ok(MigrationReport { from, to: user_version(conn)?, applied })
}

/// Applies `m` unless another process did meanwhile; says whether it ran here.
fn apply_one(conn: &Connection, m: &Migration, all: &[Migration], options: &MigrateOptions) -> Result<bool> {
    let previous_foreign_keys = if m.foreign_keys_off { Some(set_foreign_keys(conn, false, m)?) } else { None };
    let result = conn
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| {
            let what = format!("{}: cannot take the write lock (another connection held it beyond busyTimeout)", m.source);
            Error::from(e).context(what)
        })
        .and_then(|()| apply_locked(conn, m, all, options));
    if !conn.is_autocommit() {
        // A failing ROLLBACK adds nothing to report: the first error says what happened.
        let _ = conn.execute_batch("ROLLBACK");
    }
    let restored = previous_foreign_keys.map_or(Ok(true), |previous| set_foreign_keys(conn, previous, m));
    let ran = result?;
    restored?;
    Ok(ran)
}

/// Inside the write lock: re-checks the version, runs the SQL, records it,
/// commits. `Ok(false)`: another process applied it meanwhile.
fn apply_locked(conn: &Connection, m: &Migration, all: &[Migration], options: &MigrateOptions) -> Result<bool> {
    let current = user_version(conn)?;
    if current >= m.version {
        verify(conn, all, current, options)?;
        return Ok(false);
    }
    migration_script::run(conn, &m.sql).map_err(|f| failure(m, &f, current))?;
    if m.foreign_keys_off {
        check_foreign_keys(conn, m, current)?;
    }
    let record = || -> rusqlite::Result<()> {
        conn.execute_batch(&format!("{CREATE_LEDGER};\nPRAGMA user_version = {}", m.version))?;
        conn.execute(
            "INSERT OR REPLACE INTO _hardened_migrations (version, name, sha256, applied_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (m.version, &m.name, m.checksum()),
        )?;
        Ok(())
    };
    record().map_err(|e| Error::from(e).context(format!("{}: cannot record the migration", m.source)))?;
    conn.execute_batch("COMMIT").map_err(|e| {
        // Deferred foreign keys, for one, are only checked here.
        let f = Failed { line: 0, text: "COMMIT".into(), error: Error::from(e), refused: None };
        failure(m, &f, current)
    })?;
    Ok(true)
}

/// `HARDENED_MIGRATION_FAILED` naming the file, the statement, its line and SQLite's message.
fn failure(m: &Migration, f: &Failed, current: i64) -> Error {
    const SHOWN: usize = 300;
    let text = match f.text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &f.text[..cut]),
        None => f.text.clone(),
    };
    let at = if f.line > 0 { format!(", line {}", f.line) } else { String::new() };
    let why = f.refused.map_or_else(|| f.error.message().to_string(), str::to_string);
    Error::Hardened {
        code: "HARDENED_MIGRATION_FAILED",
        message: format!(
            "Migration {}{at} failed and was rolled back (user_version stays {current}): {why}\n  in statement: {text}",
            m.source
        ),
        cause: Some(Box::new(f.error.clone())),
    }
}

/// Sets `PRAGMA foreign_keys` outside any transaction, proves it took, and returns the previous value.
fn set_foreign_keys(conn: &Connection, on: bool, m: &Migration) -> Result<bool> {
    let previous: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    conn.execute_batch(&format!("PRAGMA foreign_keys = {}", if on { "ON" } else { "OFF" }))?;
    let now: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    if now != on {
        return Err(Error::hardened(
            "HARDENED_PRAGMA_MISMATCH",
            format!("{}: PRAGMA foreign_keys stayed {} when set to {}", m.source, now as i32, on as i32),
        ));
    }
    Ok(previous)
}

/// Fails with every foreign key violation the rebuild left behind (up to 10 listed).
fn check_foreign_keys(conn: &Connection, m: &Migration, current: i64) -> Result<()> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |row| {
        let (table, parent): (String, String) = (row.get(0)?, row.get(2)?);
        let rowid = row.get::<_, Option<i64>>(1)?.map_or_else(|| "?".to_string(), |r| r.to_string());
        Ok(format!("{table} row {rowid} references a missing row in {parent}"))
    })?;
    let violations = rows.collect::<rusqlite::Result<Vec<String>>>()?;
    if violations.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = violations.iter().take(10).map(String::as_str).collect();
    Err(Error::hardened(
        "HARDENED_MIGRATION_FAILED",
        format!(
            "Migration {} left {} foreign key violation(s) and was rolled back (user_version stays {current}): {}; \
             fix the data in the migration (or the rebuild's INSERT ... SELECT) so every reference has its row",
            m.source,
            violations.len(),
            shown.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(i64, &str)]) -> Vec<Migration> {
        let items = items.iter().map(|(v, sql)| (*v as f64, format!("m{v}"), sql.to_string())).collect();
        crate::migration_files::from_list(items).unwrap()
    }

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        conn
    }

    fn run(conn: &Connection, migrations: &[Migration]) -> Result<MigrationReport> {
        migrate(conn, migrations, &MigrateOptions::default(), false)
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn ledger_rows(conn: &Connection) -> Vec<(i64, String, String)> {
        let mut stmt = conn.prepare("SELECT version, name, sha256 FROM _hardened_migrations ORDER BY version").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(|r| r.unwrap()).collect()
    }

    const THREE: [(i64, &str); 3] = [
        (1, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"),
        (2, "INSERT INTO t VALUES (2);"),
        (5, "CREATE INDEX t_x ON t(x);"),
    ];

    #[test]
    fn applies_all_once_and_records_them() {
        let conn = db();
        let migrations = list(&THREE);
        let report = run(&conn, &migrations).unwrap();
        assert_eq!((report.from, report.to), (0, 5));
        assert_eq!(report.applied.iter().map(|a| a.version).collect::<Vec<_>>(), vec![1, 2, 5]);
        assert_eq!(user_version(&conn).unwrap(), 5);
        let rows = ledger_rows(&conn);
        assert_eq!(rows.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(), vec![(1, "m1"), (2, "m2"), (5, "m5")]);
        assert_eq!(rows[0].2, migrations[0].checksum());
        let again = run(&conn, &migrations).unwrap();
        assert_eq!((again.from, again.to, again.applied.len()), (5, 5, 0));
        assert_eq!(count(&conn, "SELECT count(*) FROM t"), 2);
    }

    #[test]
    fn status_lists_pending_without_changing_anything() {
        let conn = db();
        let migrations = list(&THREE);
        run(&conn, &migrations[..1]).unwrap();
        let s = status(&conn, &migrations, &MigrateOptions::default()).unwrap();
        assert_eq!((s.current, s.latest), (1, 5));
        assert_eq!(s.pending.iter().map(|p| p.version).collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!((user_version(&conn).unwrap(), ledger_rows(&conn).len()), (1, 1));
    }

    #[test]
    fn a_failing_statement_rolls_back_the_whole_migration_and_stops() {
        let conn = db();
        run(&conn, &list(&THREE[..1])).unwrap();
        let bad = list(&[
            THREE[0],
            (2, "CREATE TABLE u(y);\nINSERT INTO t VALUES (20);\nINSERT INTO nowhere VALUES (1);\nINSERT INTO t VALUES (21);"),
            (3, "CREATE TABLE later(z);"),
        ]);
        let err = run(&conn, &bad).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_FAILED");
        let message = err.message();
        assert!(message.contains("migration 2 \"m2\", line 3"), "{message}");
        assert!(message.contains("INSERT INTO nowhere VALUES (1);") && message.contains("no such table: nowhere"), "{message}");
        let Error::Hardened { cause: Some(cause), .. } = &err else { panic!("no cause: {err:?}") };
        assert_eq!(cause.code(), "SQLITE_ERROR");
        assert_eq!((user_version(&conn).unwrap(), ledger_rows(&conn).len()), (1, 1));
        assert_eq!(count(&conn, "SELECT count(*) FROM t"), 1);
        assert_eq!(count(&conn, "SELECT count(*) FROM sqlite_schema WHERE name IN ('u', 'later')"), 0);
        assert!(conn.is_autocommit());
    }

    #[test]
    fn a_changed_or_missing_applied_migration_is_refused_unless_accepted() {
        let conn = db();
        run(&conn, &list(&THREE)).unwrap();
        let mut edited = list(&THREE);
        edited[1].sql.push_str(" -- edited");
        let err = run(&conn, &edited).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_CHANGED");
        assert!(err.message().contains("migration 2 \"m2\" was changed"), "{}", err.message());
        let accept = MigrateOptions { allow_changed_migrations: Some(true), ..Default::default() };
        assert!(migrate(&conn, &edited, &accept, false).is_ok());
        let without_two = list(&[THREE[0], THREE[2]]);
        let err = run(&conn, &without_two).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_CHANGED");
        assert!(err.message().contains("no migration has version 2"), "{}", err.message());
    }

    #[test]
    fn a_database_ahead_of_the_code_is_refused_unless_accepted() {
        let conn = db();
        run(&conn, &list(&THREE)).unwrap();
        let err = run(&conn, &list(&THREE[..2])).unwrap_err();
        assert_eq!(err.code(), "HARDENED_SCHEMA_AHEAD");
        assert!(err.message().contains("version 5") && err.message().contains("(2)"), "{}", err.message());
        let accept = MigrateOptions { allow_schema_ahead: Some(true), ..Default::default() };
        assert_eq!(migrate(&conn, &list(&THREE[..2]), &accept, false).unwrap().to, 5);
    }

    #[test]
    fn a_skipped_lower_version_is_refused() {
        let conn = db();
        run(&conn, &list(&[THREE[0], THREE[2]])).unwrap();
        let err = run(&conn, &list(&THREE)).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_OUT_OF_ORDER");
        assert!(err.message().contains("migration 2 \"m2\""), "{}", err.message());
    }

    #[test]
    fn versions_applied_before_the_ledger_existed_count_as_applied() {
        let conn = db();
        conn.execute_batch("CREATE TABLE t(x); PRAGMA user_version = 2").unwrap();
        let report = run(&conn, &list(&THREE)).unwrap();
        assert_eq!((report.from, report.to, report.applied.len()), (2, 5, 1));
        assert!(run(&conn, &list(&THREE)).unwrap().applied.is_empty());
    }

    #[test]
    fn readonly_never_migrates() {
        let conn = db();
        let err = migrate(&conn, &list(&THREE), &MigrateOptions::default(), true).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATIONS_PENDING");
        let accept = MigrateOptions { allow_pending_migrations: Some(true), ..Default::default() };
        let report = migrate(&conn, &list(&THREE), &accept, true).unwrap();
        assert_eq!((report.from, report.to, report.applied.len()), (0, 0, 0));
        assert_eq!(user_version(&conn).unwrap(), 0);
    }

    #[test]
    fn refuses_to_run_inside_a_transaction() {
        let conn = db();
        conn.execute_batch("BEGIN").unwrap();
        assert_eq!(run(&conn, &list(&THREE)).unwrap_err().code(), "HARDENED_IN_TRANSACTION");
    }

    const PARENT_CHILD: (i64, &str) = (
        1,
        "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE);
         INSERT INTO parent VALUES (1, 'a'), (2, 'b'); INSERT INTO child VALUES (10, 1), (11, 2);",
    );

    fn rebuild(keep: &str) -> String {
        format!(
            "-- hardened: foreign_keys=off
             CREATE TABLE parent_new(id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
             INSERT INTO parent_new SELECT id, name FROM parent WHERE {keep};
             DROP TABLE parent;
             ALTER TABLE parent_new RENAME TO parent;"
        )
    }

    #[test]
    fn foreign_keys_off_rebuild_keeps_child_rows_and_restores_foreign_keys() {
        let conn = db();
        let good = rebuild("1");
        let report = run(&conn, &list(&[PARENT_CHILD, (2, &good)])).unwrap();
        assert_eq!(report.to, 2);
        assert_eq!(count(&conn, "SELECT count(*) FROM child"), 2);
        assert_eq!(count(&conn, "PRAGMA foreign_keys"), 1);
    }

    #[test]
    fn foreign_keys_off_rebuild_with_a_dangling_reference_rolls_back() {
        let conn = db();
        let dangling = rebuild("id = 1");
        let err = run(&conn, &list(&[PARENT_CHILD, (2, &dangling)])).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_FAILED");
        assert!(err.message().contains("child row 11 references a missing row in parent"), "{}", err.message());
        assert_eq!((user_version(&conn).unwrap(), count(&conn, "SELECT count(*) FROM parent")), (1, 2));
        assert_eq!(count(&conn, "PRAGMA foreign_keys"), 1);
    }

    #[test]
    fn the_same_rebuild_without_the_directive_is_what_cascades() {
        let conn = db();
        let plain = rebuild("1").replacen("-- hardened: foreign_keys=off", "-- no directive", 1);
        run(&conn, &list(&[PARENT_CHILD, (2, &plain)])).unwrap();
        assert_eq!(count(&conn, "SELECT count(*) FROM child"), 0);
    }
}
