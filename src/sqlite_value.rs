//! The bytes of a SQLite TEXT or BLOB value, read in one place for every
//! reader of values: result rows (`values.rs`), user-function arguments
//! (`functions/convert.rs`) and the async cursor (`async/cursor.rs`).

use rusqlite::ffi;

/// The UTF-8 bytes of a TEXT value (empty for a NULL pointer).
///
/// # Safety
/// `value` is a live `sqlite3_value` (a column of the current row, or an
/// argument of the running call). The slice is valid until the value is
/// read as another type, or the statement steps, resets or the call ends:
/// copy it before any of those.
pub unsafe fn text<'a>(value: *mut ffi::sqlite3_value) -> &'a [u8] {
    // SAFETY: the caller's guarantee; `sqlite3_value_bytes` after
    // `sqlite3_value_text` gives the length of that text, as SQLite documents.
    unsafe {
        let ptr = ffi::sqlite3_value_text(value);
        let len = ffi::sqlite3_value_bytes(value) as usize;
        if ptr.is_null() { &[] } else { std::slice::from_raw_parts(ptr, len) }
    }
}

/// The bytes of a BLOB value (empty for a zero-length BLOB, whose pointer is NULL).
///
/// # Safety
/// As for [`text`].
pub unsafe fn blob<'a>(value: *mut ffi::sqlite3_value) -> &'a [u8] {
    // SAFETY: the caller's guarantee; the length is read after the pointer, as SQLite documents.
    unsafe {
        let ptr = ffi::sqlite3_value_blob(value);
        let len = ffi::sqlite3_value_bytes(value) as usize;
        if ptr.is_null() || len == 0 { &[] } else { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
    }
}
