//! Migrations as data: loading a `migrations/` directory (`NNN_name.sql`) or
//! a list given by the app, and checking that versions are valid and unique.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::errors::{Error, Result};

/// The first-line directive that runs a migration with foreign keys off.
pub const FOREIGN_KEYS_OFF: &str = "foreign_keys=off";

/// Highest version a migration can have: `PRAGMA user_version` is a signed 32-bit integer.
pub const MAX_VERSION: i64 = i32::MAX as i64;

/// One schema change.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// Its version, from 1 up; `PRAGMA user_version` holds the last one applied.
    pub version: i64,
    /// Its name (`add_users` for `002_add_users.sql`).
    pub name: String,
    /// The SQL it runs (a leading byte-order mark removed).
    pub sql: String,
    /// Where it came from, for messages: the file path, or `migration 2 "add_users"`.
    pub source: String,
    /// Its first line is `-- hardened: foreign_keys=off` (a table rebuild).
    pub foreign_keys_off: bool,
}

impl Migration {
    /// Builds a migration, reading its `-- hardened:` directive.
    pub fn new(version: i64, name: String, sql: String, source: String) -> Result<Migration> {
        let sql = sql.strip_prefix('\u{FEFF}').map(str::to_string).unwrap_or(sql);
        let foreign_keys_off = directive(&sql, &source)?;
        Ok(Migration { version, name, sql, source, foreign_keys_off })
    }

    /// SHA-256 of the SQL as lowercase hex; CRLF counts as LF, so a checkout
    /// that converts line endings does not look like a changed migration.
    pub fn checksum(&self) -> String {
        let digest = Sha256::digest(self.sql.replace("\r\n", "\n").as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Reads the `-- hardened: ...` directive: only on the first line, only known ones.
fn directive(sql: &str, source: &str) -> Result<bool> {
    let mut foreign_keys_off = false;
    for (index, line) in sql.lines().enumerate() {
        let Some(rest) = line.trim().strip_prefix("--") else { continue };
        let Some(value) = rest.trim().strip_prefix("hardened:") else { continue };
        let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if !value.eq_ignore_ascii_case(FOREIGN_KEYS_OFF) {
            return Err(invalid(format!(
                "{source} line {}: unknown directive \"-- hardened:{}\"; the only one is \"-- hardened: {FOREIGN_KEYS_OFF}\"",
                index + 1,
                rest.trim().trim_start_matches("hardened:")
            )));
        }
        if index != 0 {
            return Err(invalid(format!(
                "{source} line {}: \"-- hardened: {FOREIGN_KEYS_OFF}\" only works as the first line of the file; move it there",
                index + 1
            )));
        }
        foreign_keys_off = true;
    }
    Ok(foreign_keys_off)
}

fn invalid(message: String) -> Error {
    Error::hardened("HARDENED_MIGRATION_INVALID", message)
}

/// Splits `NNN_name.sql` into its version and name, or says why it cannot.
pub fn parse_file_name(file_name: &str) -> std::result::Result<(i64, String), String> {
    let stem = file_name.get(..file_name.len().saturating_sub(4)).unwrap_or(file_name);
    let (digits, name) = stem.split_once('_').unwrap_or((stem, ""));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return Err("is not named NNN_name.sql (digits, an underscore, a name), such as 001_init.sql".into());
    }
    match digits.trim_start_matches('0').parse::<i64>() {
        Ok(v) if v <= MAX_VERSION => Ok((v, name.to_string())),
        Err(_) if digits.bytes().all(|b| b == b'0') => Err("has version 0; versions start at 1 (0 means an empty database)".into()),
        _ => Err(format!("has a version above {MAX_VERSION}, the largest PRAGMA user_version can hold")),
    }
}

fn is_sql(file_name: &str) -> bool {
    file_name.len() > 4 && file_name.get(file_name.len() - 4..).is_some_and(|ext| ext.eq_ignore_ascii_case(".sql"))
}

/// Loads every `*.sql` file of `dir` (other files and hidden files are ignored),
/// ordered by version.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>> {
    let entries = fs::read_dir(dir).map_err(|e| {
        let fix = if e.kind() == ErrorKind::NotFound { "create it, or fix the path (relative paths start at the current directory)" } else { "check its permissions" };
        Error::hardened("HARDENED_MIGRATIONS_NOT_FOUND", format!("cannot read migrations directory {}: {e}; {fix}", dir.display()))
    })?;
    let mut migrations = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::from(e).context(format!("cannot list {}", dir.display())))?;
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') || !is_sql(&file_name) || path.is_dir() {
            continue;
        }
        let source = path.display().to_string();
        if entry.file_name().to_str().is_none() {
            return Err(invalid(format!("{source} has a name that is not valid UTF-8; rename it to NNN_name.sql")));
        }
        let (version, name) = parse_file_name(&file_name).map_err(|why| invalid(format!("{source} {why}")))?;
        let bytes = fs::read(&path).map_err(|e| Error::from(e).context(&source))?;
        let sql = String::from_utf8(bytes).map_err(|_| invalid(format!("{source} is not valid UTF-8; save it as UTF-8")))?;
        migrations.push(Migration::new(version, name, sql, source)?);
    }
    ordered(migrations)
}

/// Builds migrations from an app-supplied list of `(version, name, sql)`, ordered by version.
pub fn from_list(items: Vec<(f64, String, String)>) -> Result<Vec<Migration>> {
    let mut migrations = Vec::with_capacity(items.len());
    for (index, (version, name, sql)) in items.into_iter().enumerate() {
        if version.fract() != 0.0 || !(1.0..=MAX_VERSION as f64).contains(&version) {
            return Err(invalid(format!(
                "migrations[{index}] (\"{name}\") has version {version}; versions are whole numbers from 1 to {MAX_VERSION}"
            )));
        }
        if name.trim().is_empty() {
            return Err(invalid(format!("migrations[{index}] (version {version}) has an empty name; give it one, such as \"add_users\"")));
        }
        let version = version as i64;
        let source = format!("migration {version} \"{name}\"");
        migrations.push(Migration::new(version, name, sql, source)?);
    }
    ordered(migrations)
}

/// Sorts by version and rejects two migrations with the same one.
fn ordered(mut migrations: Vec<Migration>) -> Result<Vec<Migration>> {
    migrations.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.source.cmp(&b.source)));
    if let Some(pair) = migrations.windows(2).find(|pair| pair[0].version == pair[1].version) {
        return Err(Error::hardened(
            "HARDENED_MIGRATION_DUPLICATE",
            format!(
                "{} and {} both have version {}; give each migration its own number",
                pair[0].source, pair[1].source, pair[0].version
            ),
        ));
    }
    Ok(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn dir_with(tag: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = crate::test_support::temp_dir(&format!("mfiles-{tag}"));
        fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn parses_names_numerically() {
        assert_eq!(parse_file_name("001_init.sql").unwrap(), (1, "init".to_string()));
        assert_eq!(parse_file_name("10_add_users.sql").unwrap(), (10, "add_users".to_string()));
        assert_eq!(parse_file_name("0000123_x.sql").unwrap(), (123, "x".to_string()));
        for bad in ["init.sql", "001.sql", "001_.sql", "v1_init.sql", "_init.sql", "1a_init.sql"] {
            assert!(parse_file_name(bad).unwrap_err().contains("NNN_name.sql"), "{bad}");
        }
        assert!(parse_file_name("000_init.sql").unwrap_err().contains("version 0"));
        assert!(parse_file_name("99999999999_big.sql").unwrap_err().contains("2147483647"));
    }

    #[test]
    fn loads_sql_files_in_numeric_order_and_ignores_the_rest() {
        let dir = dir_with(
            "order",
            &[("10_ten.sql", "SELECT 10;"), ("2_two.sql", ""), ("001_one.sql", "\u{FEFF}SELECT 1;"), ("README.md", "x"), (".002_hidden.sql", "x")],
        );
        let list = load_dir(&dir).unwrap();
        let versions: Vec<(i64, &str)> = list.iter().map(|m| (m.version, m.name.as_str())).collect();
        assert_eq!(versions, vec![(1, "one"), (2, "two"), (10, "ten")]);
        assert_eq!(list[0].sql, "SELECT 1;");
        assert!(list[0].source.ends_with("001_one.sql"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn misnamed_file_and_version_zero_name_the_file() {
        let dir = dir_with("bad", &[("001_init.sql", ""), ("add_users.sql", "")]);
        let err = load_dir(&dir).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_INVALID");
        assert!(err.message().contains("add_users.sql"), "{}", err.message());
        fs::remove_dir_all(dir).unwrap();
        let dir = dir_with("zero", &[("000_init.sql", "")]);
        let err = load_dir(&dir).unwrap_err();
        assert!(err.message().contains("000_init.sql") && err.message().contains("version 0"), "{}", err.message());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn duplicate_versions_name_both_files() {
        let dir = dir_with("dup", &[("1_a.sql", ""), ("001_b.sql", "")]);
        let err = load_dir(&dir).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_DUPLICATE");
        assert!(err.message().contains("1_a.sql") && err.message().contains("001_b.sql"), "{}", err.message());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_directory_names_it() {
        let err = load_dir(Path::new("/nonexistent/hs-migrations")).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATIONS_NOT_FOUND");
        assert!(err.message().contains("/nonexistent/hs-migrations"));
    }

    #[test]
    fn list_versions_must_be_positive_whole_numbers() {
        let ok = from_list(vec![(2.0, "b".into(), "".into()), (1.0, "a".into(), "".into())]).unwrap();
        assert_eq!(ok.iter().map(|m| m.version).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(ok[0].source, "migration 1 \"a\"");
        for bad in [0.0, -1.0, 1.5, f64::NAN, 3e9] {
            assert_eq!(from_list(vec![(bad, "a".into(), "".into())]).unwrap_err().code(), "HARDENED_MIGRATION_INVALID");
        }
        let err = from_list(vec![(1.0, "a".into(), "".into()), (1.0, "b".into(), "".into())]).unwrap_err();
        assert_eq!(err.code(), "HARDENED_MIGRATION_DUPLICATE");
    }

    #[test]
    fn reads_the_foreign_keys_directive_on_the_first_line_only() {
        let m = |sql: &str| Migration::new(1, "a".into(), sql.into(), "001_a.sql".into());
        assert!(m("-- hardened: foreign_keys=off\nDROP TABLE t;").unwrap().foreign_keys_off);
        assert!(m("--hardened:foreign_keys = OFF\n").unwrap().foreign_keys_off);
        assert!(!m("-- rebuild\nDROP TABLE t;").unwrap().foreign_keys_off);
        let late = m("-- rebuild\n-- hardened: foreign_keys=off\n").unwrap_err();
        assert!(late.message().contains("001_a.sql line 2") && late.message().contains("first line"), "{}", late.message());
        let typo = m("-- hardened: foreign_key=off\n").unwrap_err();
        assert!(typo.message().contains("unknown directive"), "{}", typo.message());
    }

    #[test]
    fn checksum_ignores_line_endings_only() {
        let m = |sql: &str| Migration::new(1, "a".into(), sql.into(), "a".into()).unwrap().checksum();
        assert_eq!(m("SELECT 1;\nSELECT 2;\n"), m("SELECT 1;\r\nSELECT 2;\r\n"));
        assert_ne!(m("SELECT 1;"), m("SELECT 2;"));
        assert_eq!(m("").len(), 64);
    }
}
