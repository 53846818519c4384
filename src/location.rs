//! Where the database lives: path parsing (`file:` URLs, `:memory:`) and
//! creating the directory and the file with the right modes before SQLite sees them.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::authorizer::NO_ENCRYPTION_FIX;
use crate::errors::{Error, Result};
use crate::options::Settings;

/// URL parameters that ask SQLCipher or SEE for an encrypted database.
const KEY_PARAMETERS: [&str; 4] = ["key", "hexkey", "textkey", "cipher"];

/// The database a path names.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A private in-memory database (`":memory:"`).
    Memory,
    /// A private temporary database (`""`, as in better-sqlite3 and SQLite): in
    /// memory until it outgrows the page cache, then in a temporary file that
    /// SQLite deletes on close. Hardened like `Memory` (no WAL, no file checks).
    Temporary,
    /// A database file.
    File(PathBuf),
}

impl Location {
    /// Whether the database belongs to this connection alone (`":memory:"` or `""`), with no file to harden.
    pub fn is_private(&self) -> bool {
        matches!(self, Location::Memory | Location::Temporary)
    }
}

/// Parses a plain path, a `file:` URL (`file:data/app.db`, `file:///srv/app.db`) or `":memory:"`.
pub fn resolve(path: &str) -> Result<Location> {
    if path == ":memory:" {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Ok(Location::Temporary);
    }
    let plain = match path.strip_prefix("file:") {
        Some(rest) => file_url_path(path, rest)?,
        None => path.to_string(),
    };
    if plain.is_empty() {
        return Err(Error::type_error(
            "HARDENED_INVALID_PATH",
            format!("\"{path}\" names no file; pass a file path such as \"data/app.db\", \":memory:\" or \"\" (a temporary database)"),
        ));
    }
    if plain == ":memory:" {
        return Ok(Location::Memory);
    }
    Ok(Location::File(PathBuf::from(plain)))
}

fn file_url_path(original: &str, rest: &str) -> Result<String> {
    if let Some(key) = key_parameter(rest) {
        return Err(Error::hardened(
            "HARDENED_NO_ENCRYPTION",
            format!("\"{original}\" has the URL parameter \"{key}\", which is refused: {NO_ENCRYPTION_FIX}"),
        ));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(Error::type_error(
            "HARDENED_INVALID_PATH",
            format!(
                "\"{original}\" has URL parameters; they are not supported because the open sequence sets \
                 every mode itself: remove them and use the options object instead"
            ),
        ));
    }
    let without_host = match rest.strip_prefix("//") {
        // file://localhost/srv/app.db and file:///srv/app.db both name /srv/app.db.
        Some(authority_and_path) => {
            let slash = authority_and_path.find('/').unwrap_or(authority_and_path.len());
            let host = &authority_and_path[..slash];
            if !host.is_empty() && host != "localhost" {
                return Err(Error::type_error(
                    "HARDENED_INVALID_PATH",
                    format!("\"{original}\" names host \"{host}\"; only local files can be opened"),
                ));
            }
            &authority_and_path[slash..]
        }
        None => rest,
    };
    percent_decode(without_host).ok_or_else(|| {
        Error::type_error("HARDENED_INVALID_PATH", format!("\"{original}\" has an invalid %-escape"))
    })
}

/// The first parameter of the URL's query that asks for encryption, if any.
fn key_parameter(rest: &str) -> Option<&str> {
    let query = &rest[rest.find('?')? + 1..];
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .map(|pair| pair.split('=').next().unwrap_or_default())
        .find(|name| KEY_PARAMETERS.iter().any(|k| k.eq_ignore_ascii_case(name)))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Makes sure the file exists (creating directory and file with the configured
/// modes when allowed) and says whether it holds no database yet.
pub fn prepare_file(path: &Path, settings: &Settings) -> Result<bool> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::hardened(
            "HARDENED_PATH_IS_DIRECTORY",
            format!("{} is a directory; pass the path of the database file inside it, such as {}", path.display(), path.join("app.db").display()),
        )),
        Ok(meta) => Ok(meta.len() == 0),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if !settings.create {
                return Err(Error::hardened(
                    "HARDENED_FILE_NOT_FOUND",
                    format!(
                        "{} does not exist and {} never creates it; check the path, or open without readonly/fileMustExist to create it",
                        path.display(),
                        if settings.readonly { "readonly" } else { "fileMustExist" }
                    ),
                ));
            }
            create_file(path, settings.file_mode)
        }
        Err(e) => Err(Error::hardened(
            "HARDENED_IO",
            format!("cannot inspect {}: {e}; check that every directory on the path is searchable", path.display()),
        )),
    }
}

fn create_file(path: &Path, mode: u32) -> Result<bool> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(|e| {
            Error::hardened(
                "HARDENED_DIR_NOT_WRITABLE",
                format!("cannot create directory {} for the database: {e}; create it or make its parent writable", parent.display()),
            )
        })?;
    }
    match fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path) {
        Ok(file) => {
            // open(2) applies the umask; fchmod does not, so the file gets exactly `mode`.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
            Ok(true)
        }
        // Another process created it between our stat and open: it is theirs to initialise.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(fs::metadata(path)?.len() == 0),
        Err(e) => Err(Error::hardened(
            "HARDENED_DIR_NOT_WRITABLE",
            format!(
                "cannot create {}: {e}; SQLite in WAL mode must create files in {}: make it writable by this process",
                path.display(),
                path.parent().map_or_else(|| ".".into(), |p| p.display().to_string())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_plain_paths_urls_and_memory() {
        assert_eq!(resolve(":memory:").unwrap(), Location::Memory);
        assert_eq!(resolve("data/app.db").unwrap(), Location::File("data/app.db".into()));
        assert_eq!(resolve("file:data/app.db").unwrap(), Location::File("data/app.db".into()));
        assert_eq!(resolve("file:///srv/my%20app.db").unwrap(), Location::File("/srv/my app.db".into()));
        assert_eq!(resolve("file://localhost/srv/a.db").unwrap(), Location::File("/srv/a.db".into()));
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        assert_eq!(resolve("").unwrap(), Location::Temporary);
        assert_eq!(resolve("file:").unwrap_err().code(), "HARDENED_INVALID_PATH");
        assert_eq!(resolve("file:a.db?mode=ro").unwrap_err().code(), "HARDENED_INVALID_PATH");
        assert_eq!(resolve("file://server/a.db").unwrap_err().code(), "HARDENED_INVALID_PATH");
        assert_eq!(resolve("file:a.db?monkey=1").unwrap_err().code(), "HARDENED_INVALID_PATH");
    }

    #[test]
    fn key_parameters_say_there_is_no_encryption() {
        for path in ["file:app.db?key=secret", "file:///srv/a.db?mode=rwc&hexkey=00ff", "file:a.db?cipher=aes", "file:a.db?KEY"] {
            let err = resolve(path).unwrap_err();
            assert_eq!(err.code(), "HARDENED_NO_ENCRYPTION", "{path}");
            assert!(err.message().contains("encrypt the disk"), "{}", err.message());
        }
    }

    #[test]
    fn creates_directory_and_file_with_exact_modes() {
        let dir = std::env::temp_dir().join(format!("hs-loc-{}", std::process::id()));
        let path = dir.join("nested/app.db");
        let settings = Settings { file_mode: 0o640, ..Settings::default() };
        assert!(prepare_file(&path, &settings).unwrap());
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o640);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_to_create_when_told_not_to() {
        let path = std::env::temp_dir().join(format!("hs-missing-{}/app.db", std::process::id()));
        let settings = Settings { create: false, ..Settings::default() };
        assert_eq!(prepare_file(&path, &settings).unwrap_err().code(), "HARDENED_FILE_NOT_FOUND");
        assert!(!path.parent().unwrap().exists());
    }
}
