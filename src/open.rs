//! The hardened open sequence: file first, busy timeout first, header checked
//! before any write, then WAL and the pragma recipe, the defensive
//! configuration and the run-time limits, every value read back; then the
//! authorizer and the statement timeout.

use rusqlite::{Connection, OpenFlags, ffi};

use crate::authorizer;
use crate::busy;
use crate::defensive;
use crate::errors::{Error, Result};
use crate::limits;
use crate::location::{self, Location};
use crate::options::Settings;
use crate::permissions::{self, Policy};
use crate::pragmas::{self, PragmaValue};
use crate::preflight;
use crate::statement_timeout::StatementTimeout;
use crate::vfs;
use crate::weaker_pragmas::Baseline;

/// A connection that went through the whole open sequence.
#[derive(Debug)]
pub struct Opened {
    /// The hardened connection.
    pub conn: Connection,
    /// What was opened.
    pub location: Location,
    /// The open sequence created the database (empty file or new file).
    pub is_new: bool,
    /// Files whose mode is wider than `fileMode`, for the JS warning (`permissions: "warn"`).
    pub mode_warnings: Vec<String>,
    /// The database file in the registry of open files (see `open_files.rs`), until dropped.
    pub open_file: Option<crate::open_files::Registration>,
    /// The progress handler's state when `statementTimeout` is set. Declared after
    /// `conn`, so an `Opened` dropped as is closes the connection before freeing it.
    pub statement_timeout: Option<Box<StatementTimeout>>,
}

impl Location {
    /// The path as shown in messages and as `db.name`.
    pub fn display_name(&self) -> String {
        match self {
            Location::Memory => ":memory:".to_string(),
            Location::Temporary => String::new(),
            Location::File(path) => path.display().to_string(),
        }
    }
}

/// Opens `path` and hardens the connection as `settings` say.
///
/// Neither open passes `SQLITE_OPEN_URI` (rusqlite's default flags do) and the
/// build sets `SQLITE_USE_URI=0`: a name given to `ATTACH` is a plain file name,
/// so SQL cannot reach `?mode=`, `?vfs=`, `?immutable=` or `?nolock=` through it.
/// `file:` paths given to the constructor are parsed by [`location::resolve`].
pub fn open(path: &str, settings: &Settings) -> Result<Opened> {
    let location = location::resolve(path)?;
    // Every file SQLite creates through the connection (ATTACH, VACUUM INTO) gets fileMode.
    let vfs = vfs::name(settings.file_mode, settings.readonly)?;
    let flags = open_flags(settings);
    let mut files_before = None;
    let (conn, is_new) = match &location {
        Location::Memory | Location::Temporary if settings.readonly => {
            return Err(Error::type_error(
                "HARDENED_INVALID_OPTION",
                format!(
                    "In-memory/temporary databases cannot be readonly (\"{path}\" starts empty and nothing else can write it); \
                     remove readonly: true or open a file"
                ),
            ));
        }
        Location::Memory => (Connection::open_with_flags_and_vfs(":memory:", flags, vfs)?, true),
        Location::Temporary => (Connection::open_with_flags_and_vfs("", flags, vfs)?, true),
        Location::File(file) => {
            let files = preflight::check(file, settings)?;
            // A file the checks found (not a directory: they refused that) needs no second look.
            let is_new = match files.db.size {
                Some(size) => size == 0,
                None => location::prepare_file(file, settings)?,
            };
            files_before = Some(files);
            permissions::enforce(file, settings.file_mode, settings.permissions)?;
            // The file exists now, created by us with fileMode if it was missing.
            let conn = vfs::open_existing(|| Connection::open_with_flags_and_vfs(file, flags, vfs))
                .map_err(|e| Error::from(e).context(format!("cannot open {}", file.display())))?;
            (conn, is_new)
        }
    };
    let name = location.display_name();
    harden(&conn, settings, &name, location.is_private(), is_new)?;
    let mode_warnings = match &files_before {
        Some(files) if settings.permissions == Policy::Warn => permissions::wide_files_after_open(files, settings.file_mode),
        _ => Vec::new(),
    };
    let open_file = files_before.as_ref().and_then(|files| crate::open_files::register_opened(&conn, &files.db));
    let statement_timeout = StatementTimeout::install(&conn, settings.statement_timeout_ms);
    Ok(Opened { conn, location, is_new, mode_warnings, open_file, statement_timeout })
}

/// Opens an in-memory database made from `image` (`new HardenedDb(buffer)`)
/// and hardens it like `:memory:`: the header is checked (a buffer that is not a
/// database fails with `HARDENED_NOT_A_DATABASE`) and the pragmas are set and read back.
pub fn open_image(image: &[u8], settings: &Settings) -> Result<Opened> {
    let vfs = vfs::name(settings.file_mode, settings.readonly)?;
    let conn = Connection::open_with_flags_and_vfs(":memory:", open_flags(settings), vfs)?;
    crate::serialize::deserialize(&conn, image, settings.readonly)?;
    harden(&conn, settings, "The buffer given to the constructor", true, image.is_empty())?;
    let statement_timeout = StatementTimeout::install(&conn, settings.statement_timeout_ms);
    let is_new = image.is_empty();
    Ok(Opened { conn, location: Location::Memory, is_new, mode_warnings: Vec::new(), open_file: None, statement_timeout })
}

/// Read-write always (a `readonly` reader keeps the WAL index up to date); with
/// `SQLITE_OPEN_CREATE`, as in better-sqlite3, unless `readonly` or `fileMustExist`:
/// SQLite passes these flags on to `ATTACH`, which then may or may not create a new file.
fn open_flags(settings: &Settings) -> OpenFlags {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if settings.create { flags | OpenFlags::SQLITE_OPEN_CREATE } else { flags }
}

/// Runs the pragma part of the sequence on an open connection.
pub fn harden(conn: &Connection, settings: &Settings, name: &str, memory: bool, is_new: bool) -> Result<()> {
    busy::install(conn, settings.busy_timeout_ms)?;
    check_header(conn, name)?;
    let file = pragmas::file_recipe(settings, memory, is_new);
    let connection = pragmas::connection_recipe(settings, memory);
    busy::retry_while_busy(settings.busy_timeout_ms, || pragmas::ensure(conn, &file, name))?;
    pragmas::ensure(conn, &connection, name)?;
    defensive::apply(conn, name)?;
    limits::apply(conn, &settings.limits)?;
    let wal_at_open =
        settings.readonly && !memory && pragmas::query(conn, "journal_mode")? == Some(PragmaValue::Text("wal".into()));
    let baseline = Baseline { synchronous_off: settings.synchronous == 0, mmap_size: settings.mmap_size, wal_at_open };
    authorizer::install(conn, settings.readonly, baseline)
}

/// Loads the schema, which makes SQLite validate the header first, before anything writes.
///
/// Asking whether `sqlite_schema` exists (`sqlite3_table_column_metadata` with no column)
/// reads the header and parses the schema in one read transaction, without compiling a
/// statement. The pragma reads that follow need the schema, so they start no read
/// transaction of their own: `PRAGMA schema_version`, used before, validated the header
/// in a transaction of its own and `journal_mode` then started a second one to parse
/// the schema (two more `fcntl` calls, a `stat` and a statement per open, 2026-11-30).
fn check_header(conn: &Connection, name: &str) -> Result<()> {
    let outcome = match conn.table_exists(Some("main"), "sqlite_schema") {
        Ok(true) => return Ok(()),
        // SQLITE_ERROR, which rusqlite reads as "no such table": the statement says what failed.
        Ok(false) => conn.query_row("PRAGMA schema_version", [], |_| Ok(())),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => {
            let err = Error::from(e);
            match err {
                Error::Sqlite { code, .. } if code & 0xff == ffi::SQLITE_NOTADB => Err(Error::Hardened {
                    code: "HARDENED_NOT_A_DATABASE",
                    message: format!(
                        "{name} is not a SQLite database (its header is not \"SQLite format 3\"); it was left \
                         untouched: check the path, or restore the file from a backup"
                    ),
                    cause: Some(Box::new(err)),
                }),
                other => Err(other.context(name)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;


    #[test]
    fn new_file_is_wal_and_0600_with_its_sidecars() {
        let dir = temp_dir("open-new");
        let path = dir.join("app.db");
        let opened = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        assert!(opened.is_new);
        let mode: String = opened.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let vacuum: i64 = opened.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
        assert_eq!(vacuum, 0);
        opened.conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);").unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "{suffix}");
        }
        drop(opened);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn not_a_database_is_refused_and_left_byte_for_byte() {
        let dir = temp_dir("open-notadb");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notes.db");
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(&path, &bytes).unwrap();
        let err = open(path.to_str().unwrap(), &Settings::default()).unwrap_err();
        assert_eq!(err.code(), "HARDENED_NOT_A_DATABASE");
        assert!(err.message().contains("notes.db"));
        assert_eq!(fs::read(&path).unwrap(), bytes);
        assert!(!dir.join("notes.db-wal").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_build_does_not_read_file_names_as_uris() {
        // SQLITE_USE_URI=0 in .cargo/config.toml (the ATTACH behaviour itself is
        // tested in __test__/security.spec.ts, in a process whose cwd is a temp dir).
        let opened = open(":memory:", &Settings::default()).unwrap();
        let mut stmt = opened.conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|o| o.unwrap()).collect();
        assert!(options.iter().any(|o| o == "DQS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o.starts_with("USE_URI")), "{options:?}");
    }

    #[test]
    fn readonly_rejects_writes() {
        let dir = temp_dir("open-ro");
        let path = dir.join("app.db");
        let writer = open(path.to_str().unwrap(), &Settings::default()).unwrap();
        writer.conn.execute_batch("CREATE TABLE t(x)").unwrap();
        let reader = open(path.to_str().unwrap(), &Settings { readonly: true, create: false, ..Settings::default() }).unwrap();
        let err = Error::from(reader.conn.execute("INSERT INTO t VALUES (1)", []).unwrap_err());
        assert_eq!(err.code(), "SQLITE_READONLY");
        writer.conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
        drop((writer, reader));
        fs::remove_dir_all(dir).unwrap();
    }
}
