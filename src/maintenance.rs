//! The maintenance SQLite leaves to its users: checkpoints, integrity checks,
//! incremental vacuum, `PRAGMA optimize` and the `-wal` size (backups: `backup.rs`).

use std::fs;
use std::path::Path;

use napi_derive::napi;
use rusqlite::{Connection, ffi};

use crate::busy;
use crate::errors::{Error, Result};
use crate::permissions::sidecar;

/// `PRAGMA wal_checkpoint` modes, weakest first.
pub const CHECKPOINT_MODES: [&str; 4] = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"];

/// What a checkpoint did.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointResult {
    /// A lock it needed was held by another connection (after waiting `busyTimeout`), so it did not finish.
    pub busy: bool,
    /// Frames in the `-wal` (`-1` when the database is not in WAL mode).
    pub wal_frames: i64,
    /// Frames of the `-wal` copied into the database (`-1` when not in WAL mode).
    pub checkpointed_frames: i64,
}

/// Copies WAL frames into the database (`mode`: `PASSIVE`, `FULL`, `RESTART`
/// or `TRUNCATE`, any case; `TRUNCATE` also empties the `-wal` file).
///
/// FULL, RESTART and TRUNCATE take the write lock, copy, and wait for readers while they
/// hold it, so every writer waits with them. Two things bound that: a PASSIVE pass first
/// copies what it can without the write lock (writers keep going), so the lock is held
/// only for what is left; and their busy waits last at most `wait_ms` (`None`: the
/// connection's busy timeout), after which the connection's own timeout is put back.
/// With `pinned` (an external replicator's read transaction holds the WAL, so a RESTART
/// or TRUNCATE cannot finish), the call ends after the PASSIVE pass and reports busy,
/// never taking the write lock: escalating would hold it while copying the frames
/// written since, only to fail on the reader.
pub fn checkpoint(conn: &Connection, mode: &str, wait_ms: Option<u32>, pinned: bool) -> Result<CheckpointResult> {
    let Some(mode) = CHECKPOINT_MODES.iter().find(|m| m.eq_ignore_ascii_case(mode)) else {
        return Err(Error::range(
            "HARDENED_INVALID_ARGUMENT",
            format!("Checkpoint mode \"{mode}\" is not one of {}", CHECKPOINT_MODES.join(", ")),
        ));
    };
    let run = |mode: &str| -> Result<CheckpointResult> {
        let (busy, wal_frames, checkpointed_frames) = conn
            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(CheckpointResult { busy: busy != 0, wal_frames, checkpointed_frames })
    };
    if *mode == "PASSIVE" {
        return run(mode);
    }
    let passive = run("PASSIVE")?;
    if pinned {
        return Ok(CheckpointResult { busy: true, ..passive });
    }
    match (wait_ms, busy::configured_timeout(conn)) {
        (Some(wait), Some(usual)) if i64::from(wait) != usual => {
            busy::install(conn, wait)?;
            let outcome = run(mode);
            busy::install(conn, usual.clamp(0, i64::from(u32::MAX)) as u32)?;
            outcome
        }
        _ => run(mode),
    }
}

/// Size in bytes of the `-wal` next to `db` (`0` when there is none).
pub fn wal_size(db: &Path) -> u64 {
    fs::metadata(sidecar(db, "-wal")).map_or(0, |m| m.len())
}

/// The problems `PRAGMA quick_check` (or `integrity_check` when `quick` is
/// false) reports; empty when the database is sound. When SQLite gives up with
/// `SQLITE_CORRUPT` or `SQLITE_NOTADB` part-way (a page too damaged to walk), the
/// problems reported so far are kept and that error is the last problem.
pub fn integrity_problems(conn: &Connection, quick: bool) -> Result<Vec<String>> {
    let pragma = if quick { "quick_check" } else { "integrity_check" };
    let mut problems = Vec::new();
    let outcome = (|| -> Result<()> {
        let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let line: String = row.get(0)?;
            if line != "ok" {
                problems.push(line);
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(problems),
        Err(Error::Sqlite { code, message }) if matches!(code & 0xff, ffi::SQLITE_CORRUPT | ffi::SQLITE_NOTADB) => {
            problems.push(format!("{pragma} stopped: {message} ({})", crate::errors::code_name(code)));
            Ok(problems)
        }
        Err(other) => Err(other),
    }
}

/// Returns up to `pages` free pages (all when `None`) to the file system;
/// returns how many were freed. Only databases with `auto_vacuum = INCREMENTAL` free any.
pub fn incremental_vacuum(conn: &Connection, pages: Option<u32>) -> Result<i64> {
    let free = |conn: &Connection| conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0));
    let before = free(conn)?;
    let body = pages.map_or_else(|| "incremental_vacuum".to_string(), |n| format!("incremental_vacuum({n})"));
    // Each row of incremental_vacuum is one step; the pragma only runs while it is stepped.
    let mut stmt = conn.prepare(&format!("PRAGMA {body}"))?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    drop(rows);
    Ok(before - free(conn)?)
}

/// Runs `VACUUM`: rewrites the database without its free pages (it needs that much
/// free disk space); returns how many pages the database shrank by.
pub fn vacuum(conn: &Connection) -> Result<i64> {
    let pages = |conn: &Connection| conn.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0));
    let before = pages(conn)?;
    conn.execute_batch("VACUUM")?;
    Ok(before - pages(conn)?)
}

/// Runs `PRAGMA optimize` (refreshes the query planner's statistics where they are stale).
pub fn optimize(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA optimize")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use crate::open::open;
    use crate::options::Settings;

    #[test]
    fn truncate_checkpoint_empties_the_wal() {
        let dir = temp_dir("maint-ckpt");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened.conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(10000))").unwrap();
        assert!(wal_size(&path) > 0);
        let result = checkpoint(&opened.conn, "truncate", None, false).unwrap();
        assert!(!result.busy);
        assert_eq!((result.wal_frames, result.checkpointed_frames), (0, 0));
        assert_eq!(wal_size(&path), 0);
        assert_eq!(checkpoint(&opened.conn, "sometimes", Some(0), false).unwrap_err().code(), "HARDENED_INVALID_ARGUMENT");
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_pinned_wal_ends_a_truncate_after_the_passive_pass() {
        let dir = temp_dir("maint-pinned");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened.conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)").unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM t;").unwrap();
        opened.conn.execute_batch("INSERT INTO t VALUES (2)").unwrap();
        let pinned = checkpoint(&opened.conn, "TRUNCATE", Some(0), true).unwrap();
        assert!(pinned.busy);
        assert!(pinned.checkpointed_frames < pinned.wal_frames, "{pinned:?}");
        assert!(wal_size(&path) > 0);
        reader.execute_batch("COMMIT").unwrap();
        assert!(checkpoint(&opened.conn, "TRUNCATE", Some(0), true).unwrap().busy, "pinned: never escalates");
        let done = checkpoint(&opened.conn, "TRUNCATE", Some(0), false).unwrap();
        assert_eq!(done, CheckpointResult { busy: false, wal_frames: 0, checkpointed_frames: 0 });
        drop((reader, opened));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn integrity_check_keeps_the_problems_found_before_sqlite_gave_up() {
        let dir = temp_dir("maint-corrupt");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        opened
            .conn
            .execute_batch(
                "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT); CREATE INDEX ta ON t(a); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) \
                 INSERT INTO t (a, b) SELECT 'a' || (i * 7919 % 3000), printf('%.50c', 'x') FROM n;",
            )
            .unwrap();
        drop(opened);
        let mut bytes = fs::read(&path).unwrap();
        for (i, byte) in bytes[2 * 4096..5 * 4096].iter_mut().enumerate() {
            *byte = (i * 131 + 7) as u8;
        }
        fs::write(&path, bytes).unwrap();
        let conn = Connection::open(&path).unwrap();
        for quick in [false, true] {
            let problems = integrity_problems(&conn, quick).unwrap();
            assert!(problems.len() > 1, "{problems:?}");
            assert!(problems.last().unwrap().ends_with("(SQLITE_CORRUPT)"), "{problems:?}");
        }
        drop(conn);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn integrity_vacuum_and_optimize_run_on_a_sound_database() {
        let dir = temp_dir("maint-vacuum");
        let path = dir.join("app.db");
        let settings = Settings { auto_vacuum: 2, ..Settings::default() };
        let opened = open(path.to_str().unwrap(), &settings).unwrap();
        let conn = &opened.conn;
        conn.execute_batch(
            "CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
             INSERT INTO t SELECT randomblob(4000) FROM n;",
        )
        .unwrap();
        conn.execute_batch("DELETE FROM t").unwrap();
        assert!(integrity_problems(conn, true).unwrap().is_empty());
        assert!(integrity_problems(conn, false).unwrap().is_empty());
        assert_eq!(incremental_vacuum(conn, Some(5)).unwrap(), 5);
        assert!(incremental_vacuum(conn, None).unwrap() > 0);
        assert_eq!(conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
        optimize(conn).unwrap();
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }
}
