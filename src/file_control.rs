//! `db.fileControl(op, value)` of the bun face: `sqlite3_file_control` for the
//! opcodes whose argument JS can give safely, one 8-byte slot that SQLite reads
//! and writes in place (bun:sqlite passes any opcode a pointer to the caller's
//! integer or TypedArray, so a pointer-taking one writes past it).

use std::ffi::CString;

use napi::Env;
use napi::bindgen_prelude::BigInt64Array;
use napi_derive::napi;
use rusqlite::ffi;

use crate::database::NativeDatabase;
use crate::errors::{Error, Result, to_js};

/// What an opcode reads or writes through its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Argument {
    /// One 32- or 64-bit integer, in or out (or nothing).
    Integer,
    /// It writes one pointer (to a file or VFS object): kept as a number.
    PointerOut,
    /// It writes a string SQLite allocated: freed at once, only the result code counts.
    StringOut,
}

/// The argument of opcode `op`, or `None` for one `fileControl` refuses: it takes
/// a pointer, a string or an array (`PRAGMA`, `SET_LOCKPROXYFILE`,
/// `WIN32_AV_RETRY`, ...), or reaches into SQLite's own machinery
/// (`NULL_IO` cuts the connection off its file; the atomic-write, checkpoint,
/// sync and busy-handler opcodes belong to the pager), or turns on
/// memory-mapped I/O, which the hardened open keeps off (`MMAP_SIZE`).
fn argument(op: i32) -> Option<Argument> {
    match op {
        ffi::SQLITE_FCNTL_LOCKSTATE
        | ffi::SQLITE_FCNTL_LAST_ERRNO
        | ffi::SQLITE_FCNTL_SIZE_HINT
        | ffi::SQLITE_FCNTL_CHUNK_SIZE
        | ffi::SQLITE_FCNTL_PERSIST_WAL
        | ffi::SQLITE_FCNTL_POWERSAFE_OVERWRITE
        | ffi::SQLITE_FCNTL_HAS_MOVED
        | ffi::SQLITE_FCNTL_LOCK_TIMEOUT
        | ffi::SQLITE_FCNTL_DATA_VERSION
        | ffi::SQLITE_FCNTL_SIZE_LIMIT
        | ffi::SQLITE_FCNTL_RESERVE_BYTES
        | ffi::SQLITE_FCNTL_EXTERNAL_READER
        | ffi::SQLITE_FCNTL_RESET_CACHE => Some(Argument::Integer),
        ffi::SQLITE_FCNTL_FILE_POINTER | ffi::SQLITE_FCNTL_VFS_POINTER | ffi::SQLITE_FCNTL_JOURNAL_POINTER => {
            Some(Argument::PointerOut)
        }
        ffi::SQLITE_FCNTL_VFSNAME | ffi::SQLITE_FCNTL_TEMPFILENAME => Some(Argument::StringOut),
        _ => None,
    }
}

#[napi]
impl NativeDatabase {
    /// `sqlite3_file_control(db, schema, op, slot)`: SQLite reads and writes the
    /// 8-byte `slot` in place (a 32-bit opcode uses its first four bytes);
    /// returns SQLite's result code, as bun:sqlite's `fileControl` does. An
    /// opcode [`argument`] does not know is refused.
    #[napi]
    pub fn file_control(&self, env: Env, schema: String, op: i32, mut slot: BigInt64Array) -> napi::Result<i32> {
        let controlled = (|| -> Result<i32> {
            let db = self.shared.handle()?;
            let kind = argument(op).ok_or_else(|| refused(op))?;
            let schema = CString::new(schema)
                .map_err(|_| Error::type_error("HARDENED_INVALID_ARGUMENT", "The schema name contains a NUL character"))?;
            // SAFETY: the JS caller made `slot` for this call alone and no JS runs
            // until it returns, so nothing else reads or writes its memory meanwhile.
            let Some(value) = (unsafe { slot.as_mut() }).first_mut() else {
                return Err(Error::type_error("HARDENED_INVALID_ARGUMENT", "fileControl() needs an 8-byte slot"));
            };
            if kind == Argument::StringOut {
                // Only a pointer SQLite wrote may be freed below, never the caller's value.
                *value = 0;
            }
            // SAFETY: `db` is open, `schema` NUL-terminated; every opcode `argument`
            // accepts reads or writes at most one integer or one pointer through
            // its argument, and `value` is an aligned 8-byte integer that outlives the call.
            let rc = unsafe { ffi::sqlite3_file_control(db, schema.as_ptr(), op, (value as *mut i64).cast()) };
            if kind == Argument::StringOut && *value != 0 {
                // SAFETY: SQLite wrote a string it allocated with sqlite3_malloc
                // (the caller owns it); nothing else holds it.
                unsafe { ffi::sqlite3_free(*value as usize as *mut std::ffi::c_void) };
                *value = 0;
            }
            Ok(rc)
        })();
        to_js(&env, controlled)
    }
}

/// The error for an opcode [`argument`] refuses.
fn refused(op: i32) -> Error {
    let why = if op == ffi::SQLITE_FCNTL_MMAP_SIZE {
        "it would turn on memory-mapped I/O, which the hardened open keeps off (a stray write through the map corrupts the file)"
    } else {
        "it takes a pointer, a string or an array, or drives SQLite's own machinery, none of which JS can pass safely"
    };
    Error::type_error(
        "HARDENED_UNSUPPORTED",
        format!(
            "fileControl() does not pass on opcode {op}: {why}; the opcodes that read or write one integer \
             (SQLITE_FCNTL_PERSIST_WAL, SIZE_HINT, CHUNK_SIZE, DATA_VERSION, HAS_MOVED, ...) are passed on"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_opcodes_whose_argument_js_cannot_give_and_mmap() {
        for refused_op in [
            ffi::SQLITE_FCNTL_PRAGMA,
            ffi::SQLITE_FCNTL_NULL_IO,
            ffi::SQLITE_FCNTL_MMAP_SIZE,
            ffi::SQLITE_FCNTL_BEGIN_ATOMIC_WRITE,
            ffi::SQLITE_FCNTL_CKPT_DONE,
            ffi::SQLITE_FCNTL_BUSYHANDLER,
            ffi::SQLITE_FCNTL_SET_LOCKPROXYFILE,
            ffi::SQLITE_FCNTL_WIN32_AV_RETRY,
        ] {
            assert_eq!(argument(refused_op), None, "{refused_op}");
        }
        assert_eq!(argument(ffi::SQLITE_FCNTL_PERSIST_WAL), Some(Argument::Integer));
        assert_eq!(argument(ffi::SQLITE_FCNTL_VFSNAME), Some(Argument::StringOut));
        assert_eq!(refused(ffi::SQLITE_FCNTL_MMAP_SIZE).code(), "HARDENED_UNSUPPORTED");
        assert!(refused(ffi::SQLITE_FCNTL_MMAP_SIZE).message().contains("memory-mapped"));
    }
}
