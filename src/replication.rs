//! Option `replication`: an external WAL replicator (Litestream) ships the
//! `-wal` of this database. Litestream keeps a read transaction open for as long
//! as it runs and does the checkpoints itself, so the connection leaves the WAL
//! to it: no automatic checkpoint, no `-wal` truncation, and FULL/RESTART/TRUNCATE
//! checkpoints that report busy at once instead of holding the write lock while
//! they wait for a reader that never finishes. The health report learns the
//! replicator's tables, its WAL bound and whether it is running.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rusqlite::Connection;

use crate::errors::{Error, Result};
use crate::health::{HealthCheck, check, pass};
use crate::maintenance;
use crate::permissions::sidecar;

/// Who ships the WAL, as named by option `replication`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replication {
    /// Nobody: the connection checkpoints and truncates the WAL itself (the default).
    #[default]
    None,
    /// `litestream replicate` runs beside the app and owns checkpoints.
    Litestream,
}

/// The values of option `replication`.
pub const REPLICATION_NAMES: [&str; 2] = ["none", "litestream"];

/// The tables `litestream replicate` creates in the database it ships.
pub const LITESTREAM_TABLES: [&str; 2] = ["_litestream_seq", "_litestream_lock"];

/// Litestream's `DefaultTruncatePageN`: the WAL size, in pages, at which it runs its own
/// TRUNCATE checkpoint (its "emergency brake", about 500 MB with 4 KiB pages).
pub const LITESTREAM_TRUNCATE_PAGES: i64 = 121_359;

/// Checkpoint wait, in milliseconds, of FULL/RESTART/TRUNCATE without an explicit timeout
/// (capped by the connection's busy timeout): long enough for a short read to end,
/// short enough that writers waiting on their own busy timeout do not fail.
pub const DEFAULT_CHECKPOINT_TIMEOUT_MS: u32 = 1000;

impl Replication {
    /// Parses the option's value (any case).
    pub fn parse(value: Option<&str>) -> Result<Replication> {
        match value {
            None => Ok(Replication::None),
            Some(v) if v.eq_ignore_ascii_case("none") => Ok(Replication::None),
            Some(v) if v.eq_ignore_ascii_case("litestream") => Ok(Replication::Litestream),
            Some(v) => Err(Error::range(
                "HARDENED_INVALID_OPTION",
                format!(
                    "Option \"replication\" must be one of {}, got \"{v}\"; pass \"litestream\" when `litestream \
                     replicate` ships this database's WAL",
                    REPLICATION_NAMES.join(", ")
                ),
            )),
        }
    }

    /// Whether an external replicator owns the WAL.
    pub fn is_external(self) -> bool {
        self != Replication::None
    }

    /// `wal_autocheckpoint` this mode implies when the option is not given.
    pub fn default_wal_autocheckpoint(self, otherwise: i64) -> i64 {
        if self.is_external() { 0 } else { otherwise }
    }

    /// `journal_size_limit` this mode implies when the option is not given.
    pub fn default_journal_size_limit(self, otherwise: i64) -> i64 {
        if self.is_external() { -1 } else { otherwise }
    }
}

/// Refuses settings that would fight the replicator: automatic checkpoints or a `-wal`
/// truncation limit given together with `replication: "litestream"`.
pub fn check_settings(replication: Replication, wal_autocheckpoint: Option<i64>, journal_size_limit: Option<i64>) -> Result<()> {
    if !replication.is_external() {
        return Ok(());
    }
    let conflict = |option: &str, value: i64, why: &str| {
        Err(Error::range(
            "HARDENED_INVALID_OPTION",
            format!(
                "Option \"{option}\" is {value}, but replication: \"litestream\" leaves the WAL to Litestream ({why}); \
                 remove \"{option}\" (it becomes {}) or remove \"replication\"",
                if option == "walAutocheckpoint" { 0 } else { -1 }
            ),
        ))
    };
    match (wal_autocheckpoint, journal_size_limit) {
        (Some(pages), _) if pages != 0 => conflict("walAutocheckpoint", pages, "it checkpoints when it has shipped the frames"),
        (_, Some(bytes)) if bytes != -1 => conflict("journalSizeLimit", bytes, "a truncated -wal forces it to take a full snapshot"),
        _ => Ok(()),
    }
}

/// The busy wait, in milliseconds, for a `mode` checkpoint: PASSIVE never waits; FULL, RESTART
/// and TRUNCATE hold the write lock while they wait for readers, so they wait `requested`
/// (default [`DEFAULT_CHECKPOINT_TIMEOUT_MS`] capped by `busy_timeout_ms`), and not at all
/// under an external replicator, whose read transaction never ends.
pub fn checkpoint_timeout_ms(mode: &str, replication: Replication, requested: Option<u32>, busy_timeout_ms: u32) -> Option<u32> {
    if mode.eq_ignore_ascii_case("PASSIVE") {
        return None;
    }
    if replication.is_external() {
        return Some(0);
    }
    Some(requested.unwrap_or(DEFAULT_CHECKPOINT_TIMEOUT_MS.min(busy_timeout_ms)))
}

/// Runs a `mode` checkpoint on `conn`, a connection opened with `settings` on `path`,
/// waiting at most `requested` ms for readers (see [`checkpoint_timeout_ms`]). Under an
/// external replicator, its read lock (or locks that cannot be read) means the WAL is
/// pinned: the checkpoint then never takes the write lock (see `maintenance::checkpoint`).
pub fn checkpoint(
    conn: &Connection,
    mode: &str,
    settings: &crate::options::Settings,
    path: Option<&Path>,
    requested: Option<u32>,
) -> Result<crate::maintenance::CheckpointResult> {
    let wait = checkpoint_timeout_ms(mode, settings.replication, requested, settings.busy_timeout_ms);
    let pinned = settings.replication.is_external() && path.is_some_and(|p| other_process_reading(p) != Some(false));
    crate::maintenance::checkpoint(conn, mode, wait, pinned)
}

/// The WAL size, in bytes, past which the health report warns: `journal_size_limit`
/// without a replicator (`None`: no bound), Litestream's TRUNCATE threshold with it.
pub fn wal_bound(conn: &Connection, replication: Replication, journal_size_limit: i64) -> Result<Option<i64>> {
    if !replication.is_external() {
        return Ok((journal_size_limit >= 0).then_some(journal_size_limit));
    }
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    // A WAL frame is a 24-byte header and one page, after a 32-byte file header.
    Ok(Some(32 + LITESTREAM_TRUNCATE_PAGES * (page_size + 24)))
}

/// Whether another process holds a WAL read lock on `db` right now (Linux: `/proc/locks`),
/// or `None` when it cannot be told. SQLite's unix VFS locks bytes 123..=127 of the `-shm`
/// (`WAL_READ_LOCK(0..5)`) for a read transaction; Litestream holds one while it runs.
/// Reading `/proc/locks` is used instead of `F_GETLK` because opening and closing another
/// descriptor of the `-shm` would drop this process's own POSIX locks on it.
pub fn other_process_reading(db: &Path) -> Option<bool> {
    let inode = fs::metadata(sidecar(db, "-shm")).ok()?.ino();
    let locks = fs::read_to_string("/proc/locks").ok()?;
    let own = std::process::id().to_string();
    Some(locks.lines().any(|line| holds_read_mark(line, inode, &own)))
}

/// One `/proc/locks` line: `1: POSIX  ADVISORY  READ 1234 08:01:5678 123 123`.
fn holds_read_mark(line: &str, inode: u64, own_pid: &str) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // A blocked waiter's line has "->" after the number; it holds nothing.
    if fields.len() < 8 || fields[1] == "->" || fields[1] != "POSIX" {
        return false;
    }
    let (pid, file, start, end) = (fields[4], fields[5], fields[6], fields[7]);
    let same_file = file.rsplit(':').next().and_then(|n| n.parse::<u64>().ok()) == Some(inode);
    let start: u64 = start.parse().unwrap_or(u64::MAX);
    let end: u64 = if end == "EOF" { u64::MAX } else { end.parse().unwrap_or(0) };
    same_file && pid != own_pid && start <= 127 && end >= 123
}

/// Litestream's `DefaultMinCheckpointPageN`: the WAL size, in pages, at which a running
/// Litestream checkpoints (PASSIVE) and the WAL starts over from its beginning.
pub const LITESTREAM_MIN_CHECKPOINT_PAGES: i64 = 1000;

/// The replication checks of the health report: the WAL-size rule with the bound that applies
/// (every database) and, under a replicator, whether it is running.
pub fn checks(conn: &Connection, path: &Path, replication: Replication, journal_size_limit: i64) -> Result<Vec<HealthCheck>> {
    let mut found = vec![wal_size_check(path, wal_bound(conn, replication, journal_size_limit)?, replication)];
    if replication.is_external() {
        found.push(running_check(conn, path)?);
    }
    Ok(found)
}

/// Litestream holds a WAL read lock for as long as it runs and checkpoints at 1000 pages. Failed
/// (a warning) when no other process holds a read lock and the `-wal` has grown past that mark:
/// nothing is shipping or checkpointing it. Its tables are listed as expected, never as stray.
fn running_check(conn: &Connection, path: &Path) -> Result<HealthCheck> {
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let bound = 32 + LITESTREAM_MIN_CHECKPOINT_PAGES * (page_size + 24);
    let bytes = maintenance::wal_size(path) as i64;
    let present: Vec<&str> = LITESTREAM_TABLES
        .iter()
        .copied()
        .filter(|table| {
            conn.query_row("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |_| Ok(()))
                .is_ok()
        })
        .collect();
    let reading = other_process_reading(path);
    let lock = match reading {
        Some(true) => "a WAL read lock held by another process",
        Some(false) => "no other process holds a WAL read lock",
        None => "read locks unknown (no /proc/locks)",
    };
    let tables = if present.is_empty() { "not created yet".to_string() } else { present.join(", ") };
    let expected = format!(
        "litestream replicate holding a WAL read lock, or a -wal under {bound} bytes; its tables {} expected",
        LITESTREAM_TABLES.join(" and ")
    );
    let actual = format!("{lock}, -wal {bytes} bytes, Litestream's tables: {tables}");
    let stalled = reading == Some(false) && bytes > bound;
    Ok(check(!stalled, pass("replication.running", "warning", expected, actual), || {
        format!(
            "nothing is replicating {}: Litestream holds a read transaction for as long as it runs and none is held, \
             while the -wal has grown past the point where Litestream checkpoints. Start `litestream replicate` as \
             the app's user (or run the app under `litestream replicate -exec`); until then nothing checkpoints the \
             -wal (wal_autocheckpoint is 0) and it keeps growing",
            path.display()
        )
    }))
}

fn wal_size_check(path: &Path, bound: Option<i64>, replication: Replication) -> HealthCheck {
    let bytes = maintenance::wal_size(path);
    let expected = match (bound, replication.is_external()) {
        (None, _) => "any size (journalSizeLimit is -1)".to_string(),
        (Some(limit), false) => format!("<= {limit} bytes"),
        (Some(limit), true) => format!("<= {limit} bytes (Litestream's TRUNCATE threshold)"),
    };
    let over = bound.is_some_and(|limit| bytes > limit as u64);
    check(!over, pass("wal_size", "warning", expected, format!("{bytes} bytes")), || {
        let wal = sidecar(path, "-wal");
        if replication.is_external() {
            format!(
                "{} has grown past the size at which Litestream truncates it: Litestream is not running, or a read \
                 transaction of the app stays open so its checkpoints cannot finish; check `litestream replicate` and \
                 close long reads (an unfinished iterate())",
                wal.display()
            )
        } else {
            format!(
                "{} has grown past journalSizeLimit: checkpoints are not keeping up, usually because a read \
                 transaction stays open (an unfinished iterate()); close it, then run db.checkpoint(\"TRUNCATE\") or \
                 `hardened-sqlite checkpoint {} --mode truncate`",
                wal.display(),
                path.display()
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_parses_and_refuses_other_names() {
        assert_eq!(Replication::parse(None).unwrap(), Replication::None);
        assert_eq!(Replication::parse(Some("LiteStream")).unwrap(), Replication::Litestream);
        let err = Replication::parse(Some("litefs")).unwrap_err();
        assert_eq!(err.code(), "HARDENED_INVALID_OPTION");
        assert!(err.message().contains("none, litestream"), "{}", err.message());
    }

    #[test]
    fn settings_that_fight_the_replicator_are_refused() {
        let r = Replication::Litestream;
        assert!(check_settings(r, None, None).is_ok());
        assert!(check_settings(r, Some(0), Some(-1)).is_ok());
        assert!(check_settings(Replication::None, Some(1000), Some(5)).is_ok());
        let err = check_settings(r, Some(1000), None).unwrap_err();
        assert!(err.message().contains("\"walAutocheckpoint\" is 1000"), "{}", err.message());
        let err = check_settings(r, None, Some(67_108_864)).unwrap_err();
        assert!(err.message().contains("\"journalSizeLimit\""), "{}", err.message());
    }

    #[test]
    fn checkpoint_waits_are_bounded_and_zero_under_a_replicator() {
        let (none, ls) = (Replication::None, Replication::Litestream);
        assert_eq!(checkpoint_timeout_ms("passive", ls, Some(50), 5000), None);
        assert_eq!(checkpoint_timeout_ms("TRUNCATE", ls, Some(50), 5000), Some(0));
        assert_eq!(checkpoint_timeout_ms("RESTART", none, None, 5000), Some(1000));
        assert_eq!(checkpoint_timeout_ms("full", none, None, 200), Some(200));
        assert_eq!(checkpoint_timeout_ms("truncate", none, Some(30), 5000), Some(30));
    }

    #[test]
    fn proc_locks_lines_are_read_for_other_processes_read_marks() {
        let line = |pid: &str, start: &str, end: &str| format!("7: POSIX  ADVISORY  READ {pid} 00:2c:4242 {start} {end}");
        assert!(holds_read_mark(&line("99", "124", "124"), 4242, "1"));
        assert!(!holds_read_mark(&line("1", "124", "124"), 4242, "1"), "our own lock");
        assert!(!holds_read_mark(&line("99", "120", "120"), 4242, "1"), "the write lock");
        assert!(!holds_read_mark(&line("99", "124", "124"), 4243, "1"), "another file");
        assert!(!holds_read_mark("7: -> POSIX  ADVISORY  READ 99 00:2c:4242 124 124", 4242, "1"));
        assert!(holds_read_mark(&line("99", "0", "EOF"), 4242, "1"));
    }
}
