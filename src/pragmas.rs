//! The hardened pragma recipe: what each pragma must be, setting it, and
//! reading every value back to prove it took.

use std::fmt;

use rusqlite::config::DbConfig;
use rusqlite::types::Value;
use rusqlite::{Connection, ffi};

use crate::busy;
use crate::errors::{Error, Result};
use crate::options::{AUTO_VACUUM, SYNCHRONOUS, Settings, TEMP_STORE};

/// A pragma value as SQLite reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum PragmaValue {
    /// A number (`synchronous` reads back as `1`, not `NORMAL`).
    Int(i64),
    /// A word (`journal_mode` reads back as `wal`).
    Text(String),
}

impl fmt::Display for PragmaValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PragmaValue::Int(v) => write!(f, "{v}"),
            PragmaValue::Text(v) => write!(f, "{v}"),
        }
    }
}

/// One pragma of the recipe and the value it must read back as.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The pragma's name (`synchronous`).
    pub name: &'static str,
    /// What `PRAGMA name` must return.
    pub value: PragmaValue,
    /// The names of its numbered values (`synchronous`: OFF, NORMAL, ...), for messages.
    names: &'static [&'static str],
}

impl Expected {
    /// A readable form of the value for messages (`1 (NORMAL)`); made only when a
    /// message needs it, not at every open.
    pub fn label(&self) -> String {
        match self.value {
            PragmaValue::Int(v) if !self.names.is_empty() => {
                format!("{v} ({})", usize::try_from(v).ok().and_then(|i| self.names.get(i)).copied().unwrap_or("?"))
            }
            ref value => value.to_string(),
        }
    }
}

fn int(name: &'static str, value: i64) -> Expected {
    Expected { name, value: PragmaValue::Int(value), names: &[] }
}

fn named(name: &'static str, value: i64, names: &'static [&'static str]) -> Expected {
    Expected { name, value: PragmaValue::Int(value), names }
}

/// Every connection-level pragma the open sequence sets, in the order it sets them.
/// `journal_mode` and `auto_vacuum` are not here: they belong to the file (see [`file_recipe`]).
/// An in-memory database has no `mmap_size` (there is no file to map).
///
/// `trusted_schema` is always off: the views, triggers, CHECK constraints, defaults,
/// generated columns and indexes of the schema (which a downloaded or attached
/// database brings along) may only call functions marked innocuous, so opening a
/// file cannot make it call one with side effects. It is a pragma rather than
/// `SQLITE_DBCONFIG_TRUSTED_SCHEMA` (the same switch) so that `db.health()`,
/// which re-reads this recipe, also sees SQL that turned it back on.
pub fn connection_recipe(settings: &Settings, memory: bool) -> Vec<Expected> {
    let mut recipe = vec![
        int("busy_timeout", settings.busy_timeout_ms as i64),
        named("synchronous", settings.synchronous, &SYNCHRONOUS),
        int("foreign_keys", settings.foreign_keys as i64),
        named("temp_store", settings.temp_store, &TEMP_STORE),
        int("cache_size", settings.cache_size),
        int("journal_size_limit", settings.journal_size_limit),
        int("wal_autocheckpoint", settings.wal_autocheckpoint),
        int("trusted_schema", 0),
    ];
    if !memory {
        recipe.insert(2, int("mmap_size", settings.mmap_size));
    }
    if settings.readonly {
        recipe.push(int("query_only", 1));
    }
    recipe
}

/// The file-level pragmas the open sequence ensures: WAL for files, and
/// `auto_vacuum` when it created the database.
pub fn file_recipe(settings: &Settings, memory: bool, is_new: bool) -> Vec<Expected> {
    let mut recipe = Vec::new();
    if is_new && !settings.readonly {
        recipe.push(named("auto_vacuum", settings.auto_vacuum, &AUTO_VACUUM));
    }
    if !memory && !settings.readonly {
        recipe.push(Expected { name: "journal_mode", value: PragmaValue::Text("wal".to_string()), names: &[] });
    }
    recipe
}

/// Runs `PRAGMA <body>` and returns the first column of its first row, if any.
pub fn query(conn: &Connection, body: &str) -> Result<Option<PragmaValue>> {
    let mut stmt = conn.prepare(&format!("PRAGMA {body}"))?;
    let mut rows = stmt.query([])?;
    let Some(row) = rows.next()? else { return Ok(None) };
    Ok(pragma_value(row.get::<_, Value>(0)?))
}

/// A pragma's result cell as a [`PragmaValue`].
fn pragma_value(value: Value) -> Option<PragmaValue> {
    match value {
        Value::Integer(v) => Some(PragmaValue::Int(v)),
        Value::Text(v) => Some(PragmaValue::Text(v)),
        Value::Real(v) => Some(PragmaValue::Int(v as i64)),
        Value::Null | Value::Blob(_) => None,
    }
}

/// The current value of each pragma of `recipe`, in recipe order. What SQLite's C
/// API reads without a statement comes from there (see [`read_without_statement`]);
/// the rest takes one `PRAGMA name` statement each (not the `pragma_<name>`
/// table-valued functions: each of those parses a table declaration when
/// connected, which costs more than the statements it would save).
pub fn read_all(conn: &Connection, recipe: &[Expected]) -> Result<Vec<Option<PragmaValue>>> {
    recipe
        .iter()
        .map(|pragma| match read_without_statement(conn, pragma.name) {
            Some(value) => value,
            None => query(conn, pragma.name),
        })
        .collect()
}

/// Reads `name` from the connection's state through SQLite's C API, the same
/// field `PRAGMA name` returns, at a fraction of a statement's cost (each
/// statement is parsed and compiled: about 5,000 instructions); `None` when the
/// API has no reader for it.
///
/// - `busy_timeout` comes from the fair handler, since SQLite reads 0 once a custom
///   handler is installed;
/// - `foreign_keys` and `trusted_schema` are flags of the connection, which
///   `sqlite3_db_config(SQLITE_DBCONFIG_ENABLE_FKEY / _TRUSTED_SCHEMA, -1, &v)` reads
///   without changing (the same bits `PRAGMA foreign_keys = ...` and SQL set);
/// - `mmap_size` is what `PRAGMA mmap_size` itself reads: `sqlite3_file_control`
///   with `SQLITE_FCNTL_MMAP_SIZE` and a negative size, which queries the limit of
///   the main database file (no value when it has no file).
fn read_without_statement(conn: &Connection, name: &str) -> Option<Result<Option<PragmaValue>>> {
    let flag = |config| conn.db_config(config).map(|on| Some(PragmaValue::Int(i64::from(on)))).map_err(Error::from);
    match name {
        "busy_timeout" => busy::configured_timeout(conn).map(|ms| Ok(Some(PragmaValue::Int(ms)))),
        "foreign_keys" => Some(flag(DbConfig::SQLITE_DBCONFIG_ENABLE_FKEY)),
        "trusted_schema" => Some(flag(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA)),
        "mmap_size" => Some(mmap_size(conn)),
        _ => None,
    }
}

/// The main database's memory-map limit, as `PRAGMA mmap_size` reads it.
fn mmap_size(conn: &Connection) -> Result<Option<PragmaValue>> {
    let mut size: i64 = -1;
    // SAFETY: the handle is open for the borrow of `conn`; "main" is a NUL-terminated
    // name, and SQLITE_FCNTL_MMAP_SIZE takes a pointer to an i64, which a negative
    // value makes a query: SQLite writes the current limit into it and changes nothing.
    let rc = unsafe {
        ffi::sqlite3_file_control(conn.handle(), c"main".as_ptr(), ffi::SQLITE_FCNTL_MMAP_SIZE, (&raw mut size).cast())
    };
    match rc {
        ffi::SQLITE_OK => Ok(Some(PragmaValue::Int(size))),
        ffi::SQLITE_NOTFOUND => Ok(None),
        rc => Err(Error::from(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None))),
    }
}

/// Whether `actual` is what `pragma` must read back as (words compare without case).
fn reads_as_expected(actual: &Option<PragmaValue>, pragma: &Expected) -> bool {
    match (actual, &pragma.value) {
        (Some(PragmaValue::Text(a)), PragmaValue::Text(e)) => a.eq_ignore_ascii_case(e),
        (a, e) => a.as_ref() == Some(e),
    }
}

/// Sets one pragma of the recipe to its expected value.
fn set(conn: &Connection, pragma: &Expected) -> Result<()> {
    if pragma.name == "busy_timeout" {
        if let PragmaValue::Int(ms) = pragma.value {
            // `PRAGMA busy_timeout = N` would replace the fair handler with SQLite's own.
            busy::install(conn, ms.clamp(0, i32::MAX as i64) as u32)?;
        }
        return Ok(());
    }
    query(conn, &format!("{} = {}", pragma.name, pragma.value))?;
    Ok(())
}

/// Makes every pragma of `recipe` read back as expected: reads them all (see
/// [`read_all`]), sets, in recipe order, only those
/// that differ, and reads those back, failing with `HARDENED_PRAGMA_MISMATCH`
/// (see [`verify`]) if one did not take. Every value is read back either way;
/// what the build's defaults already give (see `.cargo/config.toml`) costs no
/// statement of its own: on a reopened WAL file with the default options the
/// whole recipe is one statement per pragma instead of two.
pub fn ensure(conn: &Connection, recipe: &[Expected], path: &str) -> Result<()> {
    let current = read_all(conn, recipe).map_err(|e| e.context(path))?;
    let differing: Vec<Expected> = recipe
        .iter()
        .zip(&current)
        .filter(|(pragma, actual)| !reads_as_expected(actual, pragma))
        .map(|(pragma, _)| pragma.clone())
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    for pragma in &differing {
        set(conn, pragma).map_err(|e| e.context(path))?;
    }
    verify(conn, &differing, path)
}

/// One pragma whose value is not what the recipe set.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The pragma that differs.
    pub expected: Expected,
    /// What SQLite reports instead (`None` when it reports nothing).
    pub actual: Option<PragmaValue>,
}

/// Reads back every pragma of `recipe` and lists those that differ.
pub fn mismatches(conn: &Connection, recipe: &[Expected]) -> Result<Vec<Mismatch>> {
    let current = read_all(conn, recipe)?;
    Ok(recipe
        .iter()
        .zip(current)
        .filter(|(pragma, actual)| !reads_as_expected(actual, pragma))
        .map(|(pragma, actual)| Mismatch { expected: pragma.clone(), actual })
        .collect())
}

/// Fails with `HARDENED_PRAGMA_MISMATCH` naming every pragma that did not take.
pub fn verify(conn: &Connection, recipe: &[Expected], path: &str) -> Result<()> {
    let found = mismatches(conn, recipe)?;
    if found.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = found
        .iter()
        .map(|m| {
            let actual = m.actual.as_ref().map_or_else(|| "nothing".to_string(), ToString::to_string);
            format!("PRAGMA {} is {actual}, expected {}", m.expected.name, m.expected.label())
        })
        .collect();
    Err(Error::hardened(
        "HARDENED_PRAGMA_MISMATCH",
        format!(
            "{path}: {}. SQLite did not accept the hardened setting; for journal_mode this means the file system \
             cannot hold the WAL index (use a local disk, not a network share) or another process holds an \
             exclusive lock",
            listed.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_recipe_applies_and_verifies_on_memory() {
        let conn = Connection::open_in_memory().unwrap();
        let recipe = connection_recipe(&Settings::default(), true);
        ensure(&conn, &recipe, ":memory:").unwrap();
        assert_eq!(mismatches(&conn, &recipe).unwrap(), vec![]);
        assert_eq!(query(&conn, "synchronous").unwrap(), Some(PragmaValue::Int(1)));
    }

    #[test]
    fn the_c_api_reads_what_the_pragmas_read_after_sql_changed_them() {
        let dir = crate::test_support::temp_dir("pragma-c-api");
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join("app.db")).unwrap();
        let names = ["foreign_keys", "trusted_schema", "mmap_size"];
        for sql in ["", "PRAGMA foreign_keys = OFF; PRAGMA trusted_schema = ON; PRAGMA mmap_size = 65536"] {
            conn.execute_batch(sql).unwrap();
            for name in names {
                let read = read_without_statement(&conn, name).unwrap().unwrap();
                assert_eq!(read, query(&conn, name).unwrap(), "{name} after {sql:?}");
            }
        }
        assert_eq!(read_without_statement(&conn, "mmap_size").unwrap().unwrap(), Some(PragmaValue::Int(65536)));
        let recipe = vec![int("foreign_keys", 1), int("trusted_schema", 0), int("mmap_size", 0)];
        assert_eq!(mismatches(&conn, &recipe).unwrap().len(), 3);
        // An in-memory database has no file to map: nothing, as `PRAGMA mmap_size` returns.
        let memory = Connection::open_in_memory().unwrap();
        assert_eq!(read_without_statement(&memory, "mmap_size").unwrap().unwrap(), query(&memory, "mmap_size").unwrap());
        assert!(read_without_statement(&conn, "cache_size").is_none());
        drop(conn);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_schema_may_only_call_innocuous_functions() {
        use rusqlite::functions::FunctionFlags;
        let conn = Connection::open_in_memory().unwrap();
        // A function with side effects: not marked SQLITE_INNOCUOUS, not DIRECTONLY.
        conn.create_scalar_function("side_effect", 0, FunctionFlags::SQLITE_UTF8, |_| Ok(1)).unwrap();
        conn.execute_batch("PRAGMA trusted_schema = ON; CREATE VIEW v AS SELECT side_effect() AS x").unwrap();
        conn.query_row("SELECT x FROM v", [], |_| Ok(())).unwrap();
        let recipe = connection_recipe(&Settings::default(), true);
        ensure(&conn, &recipe, ":memory:").unwrap();
        let err = Error::from(conn.query_row("SELECT x FROM v", [], |_| Ok(())).unwrap_err());
        assert!(err.message().contains("unsafe use of side_effect()"), "{}", err.message());
        conn.query_row("SELECT side_effect()", [], |_| Ok(())).unwrap();
    }

    #[test]
    fn the_build_defaults_are_the_hardened_defaults() {
        // .cargo/config.toml compiles SQLite so that a new WAL connection already reads
        // as the recipe says, so `ensure` sets nothing but temp_store (SQLite reads its
        // compiled default as 0, whatever it is) and busy_timeout (the fair handler's).
        let dir = crate::test_support::temp_dir("pragma-defaults");
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join("app.db")).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).unwrap();
        let recipe: Vec<Expected> = connection_recipe(&Settings::default(), false)
            .into_iter()
            .filter(|p| p.name != "busy_timeout" && p.name != "temp_store")
            .collect();
        assert_eq!(mismatches(&conn, &recipe).unwrap(), vec![]);
        drop(conn);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ensure_sets_only_what_differs_and_reads_it_back() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA cache_size = 123").unwrap();
        let recipe = vec![int("cache_size", -4000), int("foreign_keys", 1)];
        ensure(&conn, &recipe, ":memory:").unwrap();
        assert_eq!(query(&conn, "cache_size").unwrap(), Some(PragmaValue::Int(-4000)));
        // A pragma that cannot take its value (mmap_size has no file here) is named in the error.
        let err = ensure(&conn, &[int("mmap_size", 4096)], "app.db").unwrap_err();
        assert_eq!(err.code(), "HARDENED_PRAGMA_MISMATCH");
        assert!(err.message().starts_with("app.db: PRAGMA mmap_size is nothing, expected 4096"), "{}", err.message());
    }

    #[test]
    fn verify_names_pragma_expected_and_actual() {
        let conn = Connection::open_in_memory().unwrap();
        let recipe = vec![int("cache_size", -12345)];
        let err = verify(&conn, &recipe, "app.db").unwrap_err();
        assert_eq!(err.code(), "HARDENED_PRAGMA_MISMATCH");
        assert!(err.message().contains("PRAGMA cache_size is -16000, expected -12345"), "{}", err.message());
    }

    #[test]
    fn readonly_adds_query_only_and_skips_file_pragmas() {
        let settings = Settings { readonly: true, ..Settings::default() };
        assert!(connection_recipe(&settings, false).iter().any(|p| p.name == "query_only"));
        assert!(file_recipe(&settings, false, true).is_empty());
        assert_eq!(file_recipe(&Settings::default(), true, false), vec![]);
    }
}
