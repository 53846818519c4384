//! The crate's one error type, and the one place where it becomes a JS exception.
//!
//! Every error that reaches JS carries a stable string `.code`: SQLite's extended
//! result code name for SQLite failures, `HARDENED_*` for the library's own.
//! The JS facade (`lib/errors.js`) gives each code its class (`SqliteError`,
//! `HardenedDbError`, `TypeError`, `RangeError`) by that code alone.

use std::fmt;
use std::ptr;

use napi::{Env, Status, sys};
use rusqlite::ffi;

/// Result of every fallible function in this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong, by the JS class it becomes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// SQLite returned an error; becomes a `SqliteError`.
    Sqlite {
        /// Extended result code (`SQLITE_CONSTRAINT_UNIQUE` is 2067).
        code: i32,
        /// SQLite's own message, prefixed with what we were doing.
        message: String,
    },
    /// The library refused or detected something; becomes a `HardenedDbError`.
    Hardened {
        /// A `HARDENED_*` code.
        code: &'static str,
        /// What went wrong and how to fix it.
        message: String,
        /// The underlying failure, set as the JS error's `cause`.
        cause: Option<Box<Error>>,
    },
    /// Misuse of the API (closed database, wrong argument type); becomes a `TypeError`.
    Type {
        /// A `HARDENED_*` code.
        code: &'static str,
        /// What was wrong and what to pass instead.
        message: String,
    },
    /// A value out of range (too many parameters, unsafe integer); becomes a `RangeError`.
    Range {
        /// A `HARDENED_*` code.
        code: &'static str,
        /// What was out of range and the fix.
        message: String,
    },
    /// What a user-defined function or aggregate threw; rethrown to JS as the
    /// very same value (see `functions::failure`).
    Js {
        /// The connection whose statement ran the function (its handle's address).
        db: usize,
        /// Which failure of that connection it was.
        serial: u64,
    },
}

impl Error {
    /// A `HardenedDbError` with no cause.
    #[cold]
    pub fn hardened(code: &'static str, message: impl Into<String>) -> Self {
        Error::Hardened { code, message: message.into(), cause: None }
    }

    /// A `TypeError` with a code.
    #[cold]
    pub fn type_error(code: &'static str, message: impl Into<String>) -> Self {
        Error::Type { code, message: message.into() }
    }

    /// A `RangeError` with a code.
    #[cold]
    pub fn range(code: &'static str, message: impl Into<String>) -> Self {
        Error::Range { code, message: message.into() }
    }

    /// The `TypeError` for any use of a closed database or its statements.
    #[cold]
    pub fn not_open() -> Self {
        Error::type_error("HARDENED_NOT_OPEN", "The database connection is not open")
    }

    /// The error's stable code, as JS sees it in `.code`.
    pub fn code(&self) -> &str {
        match self {
            Error::Sqlite { code, .. } => code_name(*code),
            Error::Hardened { code, .. } | Error::Type { code, .. } | Error::Range { code, .. } => {
                code
            }
            Error::Js { .. } => "HARDENED_FUNCTION_THREW",
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            Error::Sqlite { message, .. }
            | Error::Hardened { message, .. }
            | Error::Type { message, .. }
            | Error::Range { message, .. } => message,
            Error::Js { .. } => "A user-defined function threw an exception",
        }
    }

    /// Prefixes the message with context (a path, a statement, a migration file).
    pub fn context(self, what: impl fmt::Display) -> Self {
        match self {
            Error::Sqlite { code, message } => Error::Sqlite { code, message: format!("{what}: {message}") },
            Error::Hardened { code, message, cause } => {
                Error::Hardened { code, message: format!("{what}: {message}"), cause }
            }
            other => other,
        }
    }

    /// Throws this error as a pending JS exception and returns the marker error
    /// napi-rs recognises as "already thrown".
    pub fn throw(self, env: &Env) -> napi::Error {
        // SAFETY: `env` is the live environment of the current call; `throw_raw`
        // only creates values in it and throws one of them.
        unsafe { throw_raw(env.raw(), &self) };
        napi::Error::new(Status::PendingException, String::new())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::SqliteFailure(e, msg) => Error::Sqlite {
                code: e.extended_code,
                message: msg.unwrap_or_else(|| e.to_string()),
            },
            other => Error::Sqlite { code: ffi::SQLITE_ERROR, message: other.to_string() },
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::hardened("HARDENED_IO", err.to_string())
    }
}

/// Converts a crate result into a napi result, throwing the error into JS.
pub fn to_js<T>(env: &Env, result: Result<T>) -> napi::Result<T> {
    result.map_err(|e| e.throw(env))
}

/// The JS error object for `err` (with `.code` and `.cause`), created in `env`
/// on the JS thread; the async handle resolves to it rather than throwing.
pub(crate) fn error_value(env: &Env, err: &Error) -> sys::napi_value {
    // SAFETY: `env` is the live environment of the current call on this thread.
    unsafe { create_js_error(env.raw(), err) }
}

/// Builds the JS error object for `err` (with `.code` and `.cause`).
///
/// # Safety
/// `env` must be the live environment of the current call on this thread.
unsafe fn create_js_error(env: sys::napi_env, err: &Error) -> sys::napi_value {
    let code = js_string(env, err.code());
    let message = js_string(env, err.message());
    let mut value = ptr::null_mut();
    // SAFETY: the strings were created in this env; `value` is a valid out pointer.
    unsafe {
        match err {
            Error::Type { .. } => sys::napi_create_type_error(env, code, message, &mut value),
            Error::Range { .. } => sys::napi_create_range_error(env, code, message, &mut value),
            _ => sys::napi_create_error(env, code, message, &mut value),
        };
        if let Error::Sqlite { code: errno, .. } = err {
            // The numeric extended code as a non-enumerable `errno` (bun:sqlite's
            // SQLiteError shows it; the main face's errors keep their own keys).
            let mut number = ptr::null_mut();
            sys::napi_create_int32(env, *errno, &mut number);
            let property = sys::napi_property_descriptor {
                utf8name: c"errno".as_ptr(),
                name: ptr::null_mut(),
                method: None,
                getter: None,
                setter: None,
                value: number,
                attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
                data: ptr::null_mut(),
            };
            sys::napi_define_properties(env, value, 1, &property);
        }
        if let Error::Hardened { cause: Some(cause), .. } = err {
            let cause_value = create_js_error(env, cause);
            sys::napi_set_named_property(env, value, c"cause".as_ptr(), cause_value);
        }
    }
    value
}

/// Throws `err` into `env`.
///
/// # Safety
/// `env` must be the live environment of the current call on this thread.
unsafe fn throw_raw(env: sys::napi_env, err: &Error) {
    // SAFETY: forwarded from the caller's guarantee.
    if let Error::Js { db, serial } = err
        && unsafe { crate::functions::failure::rethrow(env, *db, *serial) }
    {
        return;
    }
    // SAFETY: forwarded from the caller's guarantee.
    unsafe {
        let value = create_js_error(env, err);
        sys::napi_throw(env, value);
    }
}

fn js_string(env: sys::napi_env, text: &str) -> sys::napi_value {
    let mut value = ptr::null_mut();
    // SAFETY: `text` is valid UTF-8 of the given length; `env` is live (callers' contract).
    unsafe { sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut value) };
    value
}

macro_rules! code_names {
    ($($name:ident),* $(,)?) => {
        /// The name of a SQLite (extended) result code, as `SqliteError.code` shows it.
        pub fn code_name(code: i32) -> &'static str {
            match code {
                $(ffi::$name => stringify!($name),)*
                _ => primary_name(code & 0xff),
            }
        }
    };
}

code_names!(
    SQLITE_ERROR_MISSING_COLLSEQ, SQLITE_ERROR_RETRY, SQLITE_ERROR_SNAPSHOT,
    SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ, SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC,
    SQLITE_IOERR_DIR_FSYNC, SQLITE_IOERR_TRUNCATE, SQLITE_IOERR_FSTAT, SQLITE_IOERR_UNLOCK,
    SQLITE_IOERR_RDLOCK, SQLITE_IOERR_DELETE, SQLITE_IOERR_BLOCKED, SQLITE_IOERR_NOMEM,
    SQLITE_IOERR_ACCESS, SQLITE_IOERR_CHECKRESERVEDLOCK, SQLITE_IOERR_LOCK, SQLITE_IOERR_CLOSE,
    SQLITE_IOERR_DIR_CLOSE, SQLITE_IOERR_SHMOPEN, SQLITE_IOERR_SHMSIZE, SQLITE_IOERR_SHMLOCK,
    SQLITE_IOERR_SHMMAP, SQLITE_IOERR_SEEK, SQLITE_IOERR_DELETE_NOENT, SQLITE_IOERR_MMAP,
    SQLITE_IOERR_GETTEMPPATH, SQLITE_IOERR_CONVPATH, SQLITE_IOERR_VNODE, SQLITE_IOERR_AUTH,
    SQLITE_IOERR_BEGIN_ATOMIC, SQLITE_IOERR_COMMIT_ATOMIC, SQLITE_IOERR_ROLLBACK_ATOMIC,
    SQLITE_IOERR_DATA, SQLITE_IOERR_CORRUPTFS, SQLITE_IOERR_IN_PAGE,
    SQLITE_LOCKED_SHAREDCACHE, SQLITE_LOCKED_VTAB,
    SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_TIMEOUT,
    SQLITE_CANTOPEN_NOTEMPDIR, SQLITE_CANTOPEN_ISDIR, SQLITE_CANTOPEN_FULLPATH,
    SQLITE_CANTOPEN_CONVPATH, SQLITE_CANTOPEN_DIRTYWAL, SQLITE_CANTOPEN_SYMLINK,
    SQLITE_CORRUPT_VTAB, SQLITE_CORRUPT_SEQUENCE, SQLITE_CORRUPT_INDEX,
    SQLITE_READONLY_RECOVERY, SQLITE_READONLY_CANTLOCK, SQLITE_READONLY_ROLLBACK,
    SQLITE_READONLY_DBMOVED, SQLITE_READONLY_CANTINIT, SQLITE_READONLY_DIRECTORY,
    SQLITE_ABORT_ROLLBACK,
    SQLITE_CONSTRAINT_CHECK, SQLITE_CONSTRAINT_COMMITHOOK, SQLITE_CONSTRAINT_FOREIGNKEY,
    SQLITE_CONSTRAINT_FUNCTION, SQLITE_CONSTRAINT_NOTNULL, SQLITE_CONSTRAINT_PRIMARYKEY,
    SQLITE_CONSTRAINT_TRIGGER, SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_VTAB,
    SQLITE_CONSTRAINT_ROWID, SQLITE_CONSTRAINT_PINNED, SQLITE_CONSTRAINT_DATATYPE,
    SQLITE_NOTICE_RECOVER_WAL, SQLITE_NOTICE_RECOVER_ROLLBACK, SQLITE_WARNING_AUTOINDEX,
    SQLITE_AUTH_USER,
);

fn primary_name(code: i32) -> &'static str {
    match code {
        ffi::SQLITE_OK => "SQLITE_OK",
        ffi::SQLITE_INTERNAL => "SQLITE_INTERNAL",
        ffi::SQLITE_PERM => "SQLITE_PERM",
        ffi::SQLITE_ABORT => "SQLITE_ABORT",
        ffi::SQLITE_BUSY => "SQLITE_BUSY",
        ffi::SQLITE_LOCKED => "SQLITE_LOCKED",
        ffi::SQLITE_NOMEM => "SQLITE_NOMEM",
        ffi::SQLITE_READONLY => "SQLITE_READONLY",
        ffi::SQLITE_INTERRUPT => "SQLITE_INTERRUPT",
        ffi::SQLITE_IOERR => "SQLITE_IOERR",
        ffi::SQLITE_CORRUPT => "SQLITE_CORRUPT",
        ffi::SQLITE_NOTFOUND => "SQLITE_NOTFOUND",
        ffi::SQLITE_FULL => "SQLITE_FULL",
        ffi::SQLITE_CANTOPEN => "SQLITE_CANTOPEN",
        ffi::SQLITE_PROTOCOL => "SQLITE_PROTOCOL",
        ffi::SQLITE_EMPTY => "SQLITE_EMPTY",
        ffi::SQLITE_SCHEMA => "SQLITE_SCHEMA",
        ffi::SQLITE_TOOBIG => "SQLITE_TOOBIG",
        ffi::SQLITE_CONSTRAINT => "SQLITE_CONSTRAINT",
        ffi::SQLITE_MISMATCH => "SQLITE_MISMATCH",
        ffi::SQLITE_MISUSE => "SQLITE_MISUSE",
        ffi::SQLITE_NOLFS => "SQLITE_NOLFS",
        ffi::SQLITE_AUTH => "SQLITE_AUTH",
        ffi::SQLITE_FORMAT => "SQLITE_FORMAT",
        ffi::SQLITE_RANGE => "SQLITE_RANGE",
        ffi::SQLITE_NOTADB => "SQLITE_NOTADB",
        ffi::SQLITE_NOTICE => "SQLITE_NOTICE",
        ffi::SQLITE_WARNING => "SQLITE_WARNING",
        _ => "SQLITE_ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_extended_codes() {
        assert_eq!(code_name(2067), "SQLITE_CONSTRAINT_UNIQUE");
        assert_eq!(code_name(517), "SQLITE_BUSY_SNAPSHOT");
        assert_eq!(code_name(ffi::SQLITE_BUSY), "SQLITE_BUSY");
        assert_eq!(code_name(26), "SQLITE_NOTADB");
    }

    #[test]
    fn unknown_extended_code_falls_back_to_its_primary() {
        assert_eq!(code_name((99 << 8) | ffi::SQLITE_IOERR), "SQLITE_IOERR");
    }

    #[test]
    fn context_prefixes_the_message_and_keeps_the_code() {
        let err = Error::Sqlite { code: 2067, message: "UNIQUE constraint failed".into() };
        let err = err.context("app.db");
        assert_eq!(err.message(), "app.db: UNIQUE constraint failed");
        assert_eq!(err.code(), "SQLITE_CONSTRAINT_UNIQUE");
    }
}
