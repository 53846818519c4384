//! Which `PRAGMA name = value` statements would silently undo the hardened
//! open, and why. The authorizer ([`crate::authorizer`]) asks [`weakens`] while
//! a statement is prepared and refuses it with `HARDENED_WEAKER_PRAGMA`, unless
//! `db.unsafeMode()` is on.
//!
//! Each check accepts only the values it knows to be as strong as the hardened
//! one, rather than trying to list the weak ones: SQLite reads `synchronous = 7`
//! as OFF (the level wraps) and `trusted_schema = 2` as ON, so a list of
//! forbidden words would miss them. Reading a pragma (no value) is never refused.
//!
//! `foreign_keys = OFF` is not refused: table rebuilds in migrations need it,
//! and `db.health()` reports it when it stays off.

/// What the open sequence set, against which a new value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Baseline {
    /// The `synchronous` option was `"OFF"`: setting OFF again is not weaker.
    pub synchronous_off: bool,
    /// The `mmapSize` option in bytes (0 by default): a larger `mmap_size` is refused.
    pub mmap_size: i64,
    /// A `readonly` connection found its file in WAL mode at open, so `journal_mode = WAL`
    /// (a Bun reader's usual line) changes nothing and is allowed there (see `crate::authorizer`).
    pub wal_at_open: bool,
}

/// A pragma write that weakens the hardened open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeakerPragma {
    /// `journal_mode` other than WAL on a database that is a file.
    JournalMode,
    /// `synchronous = OFF` (or a number SQLite reads as OFF).
    Synchronous,
    /// `mmap_size` above the `mmapSize` option.
    MmapSize,
    /// `trusted_schema = ON`.
    TrustedSchema,
    /// `locking_mode = EXCLUSIVE`.
    LockingMode,
}

impl WeakerPragma {
    /// The pragma's name.
    pub fn name(self) -> &'static str {
        match self {
            WeakerPragma::JournalMode => "journal_mode",
            WeakerPragma::Synchronous => "synchronous",
            WeakerPragma::MmapSize => "mmap_size",
            WeakerPragma::TrustedSchema => "trusted_schema",
            WeakerPragma::LockingMode => "locking_mode",
        }
    }

    /// The hardened value, why it matters, and the fix.
    pub fn explain(self) -> &'static str {
        match self {
            WeakerPragma::JournalMode => {
                "the hardened value is WAL: readers never block the writer and a crash mid-write cannot corrupt the \
                 file, and other processes' connections rely on it; the open already set WAL, so remove the \
                 statement (PRAGMA journal_mode = WAL is allowed and does nothing)"
            }
            WeakerPragma::Synchronous => {
                "the hardened value is NORMAL (the synchronous option): with OFF a power loss or OS crash can \
                 corrupt the database; remove the statement, or set NORMAL, FULL or EXTRA"
            }
            WeakerPragma::MmapSize => {
                "the hardened value is 0 (the mmapSize option): with memory-mapped I/O a disk error or a file \
                 truncated by another process kills the process with SIGBUS instead of returning an error, and \
                 a stray write through a pointer can reach the file; remove the statement or set 0 (or open with \
                 the mmapSize option if you accept that)"
            }
            WeakerPragma::TrustedSchema => {
                "the hardened value is OFF: with ON, the views, triggers and defaults of a database (which an \
                 attached or downloaded file brings along) may call functions with side effects; remove the \
                 statement, and mark your own functions innocuous if a view needs them"
            }
            WeakerPragma::LockingMode => {
                "the hardened value is NORMAL: EXCLUSIVE keeps the file locked after the first write, so every \
                 other process (readers, backups, the CLI) fails with SQLITE_BUSY until this connection closes; \
                 remove the statement"
            }
        }
    }
}

/// Whether `PRAGMA name = value` weakens the hardened open. `name` and `value`
/// are lowercased and dequoted, as the authorizer gets them; `is_file` says
/// whether the database the pragma names (main if none) is a file.
pub fn weakens(name: &str, value: &str, baseline: Baseline, is_file: bool) -> Option<WeakerPragma> {
    let value = value.trim();
    let (pragma, weaker) = match name {
        "journal_mode" => (WeakerPragma::JournalMode, is_file && is_journal_mode(value) && value != "wal"),
        "synchronous" => (
            WeakerPragma::Synchronous,
            !baseline.synchronous_off
                && !matches!(value, "1" | "2" | "3" | "normal" | "full" | "extra" | "on" | "yes" | "true"),
        ),
        "mmap_size" => {
            (WeakerPragma::MmapSize, integer(value).is_none_or(|bytes| bytes < 0 || bytes > baseline.mmap_size))
        }
        "trusted_schema" => (WeakerPragma::TrustedSchema, !matches!(value, "0" | "off" | "no" | "false")),
        "locking_mode" => (WeakerPragma::LockingMode, value == "exclusive"),
        _ => return None,
    };
    weaker.then_some(pragma)
}

/// The journal modes SQLite knows; any other word only reads the mode.
fn is_journal_mode(value: &str) -> bool {
    matches!(value, "delete" | "persist" | "off" | "truncate" | "memory" | "wal")
}

/// A decimal or `0x` hexadecimal integer, as `PRAGMA mmap_size` reads one.
fn integer(value: &str) -> Option<i64> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let parsed = match digits.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        None => return None,
    };
    Some(if negative { -parsed } else { parsed })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARDENED: Baseline = Baseline { synchronous_off: false, mmap_size: 0, wal_at_open: false };

    #[test]
    fn only_values_as_strong_as_the_hardened_ones_pass() {
        for (name, value) in [
            ("journal_mode", "wal"),
            ("journal_mode", "query"),
            ("synchronous", "normal"),
            ("synchronous", "full"),
            ("synchronous", "extra"),
            ("synchronous", "2"),
            ("mmap_size", "0"),
            ("mmap_size", "0x0"),
            ("trusted_schema", "off"),
            ("trusted_schema", "0"),
            ("locking_mode", "normal"),
            ("foreign_keys", "off"),
            ("cache_size", "-2000"),
        ] {
            assert_eq!(weakens(name, value, HARDENED, true), None, "{name} = {value}");
        }
    }

    #[test]
    fn weaker_values_are_named_including_the_numbers_sqlite_wraps() {
        for (name, value, refusal) in [
            ("journal_mode", "delete", WeakerPragma::JournalMode),
            ("journal_mode", "memory", WeakerPragma::JournalMode),
            ("synchronous", "off", WeakerPragma::Synchronous),
            ("synchronous", "0", WeakerPragma::Synchronous),
            ("synchronous", "7", WeakerPragma::Synchronous),
            ("synchronous", "false", WeakerPragma::Synchronous),
            ("mmap_size", "268435456", WeakerPragma::MmapSize),
            ("mmap_size", "-1", WeakerPragma::MmapSize),
            ("mmap_size", "lots", WeakerPragma::MmapSize),
            ("trusted_schema", "on", WeakerPragma::TrustedSchema),
            ("trusted_schema", "2", WeakerPragma::TrustedSchema),
            ("locking_mode", "exclusive", WeakerPragma::LockingMode),
        ] {
            assert_eq!(weakens(name, value, HARDENED, true), Some(refusal), "{name} = {value}");
        }
    }

    #[test]
    fn the_options_of_the_open_and_memory_databases_set_the_baseline() {
        let relaxed = Baseline { synchronous_off: true, mmap_size: 4096, wal_at_open: false };
        assert_eq!(weakens("synchronous", "off", relaxed, true), None);
        assert_eq!(weakens("mmap_size", "4096", relaxed, true), None);
        assert_eq!(weakens("mmap_size", "8192", relaxed, true), Some(WeakerPragma::MmapSize));
        assert_eq!(weakens("journal_mode", "delete", HARDENED, false), None);
    }
}
