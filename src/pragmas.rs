//! The hardened pragma recipe: what each pragma must be, setting it, and
//! reading every value back to prove it took.

use std::fmt;

use rusqlite::Connection;
use rusqlite::types::Value;

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
    /// A readable form of the value for messages (`1 (NORMAL)`).
    pub label: String,
}

fn int(name: &'static str, value: i64) -> Expected {
    Expected { name, value: PragmaValue::Int(value), label: value.to_string() }
}

fn named(name: &'static str, value: i64, names: &[&str]) -> Expected {
    let label = format!("{value} ({})", names.get(value as usize).copied().unwrap_or("?"));
    Expected { name, value: PragmaValue::Int(value), label }
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
        let wal = "wal".to_string();
        recipe.push(Expected { name: "journal_mode", value: PragmaValue::Text(wal.clone()), label: wal });
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

/// The current value of each pragma of `recipe`, in recipe order, one `PRAGMA
/// name` statement each (not the `pragma_<name>` table-valued functions: each of
/// those parses a table declaration when connected, which costs more than the
/// statements it would save); `busy_timeout` comes from the fair handler, since
/// SQLite reads 0 once a custom handler is installed.
pub fn read_all(conn: &Connection, recipe: &[Expected]) -> Result<Vec<Option<PragmaValue>>> {
    recipe
        .iter()
        .map(|pragma| {
            let handler_timeout = (pragma.name == "busy_timeout").then(|| busy::configured_timeout(conn)).flatten();
            match handler_timeout {
                Some(ms) => Ok(Some(PragmaValue::Int(ms))),
                None => query(conn, pragma.name),
            }
        })
        .collect()
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
            format!("PRAGMA {} is {actual}, expected {}", m.expected.name, m.expected.label)
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
