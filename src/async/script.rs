//! The statements of an `exec()` script as the `verbose` option logs them on
//! the async handle: split on the JS thread with SQLite's tokenizer
//! (`sqlite3_complete`, which reads no schema and does no I/O), each with the
//! text the sync `exec()` logs (lib/verbose.js): white space and `;` before it
//! skipped, up to and with the `;` that ends it.

use std::ffi::CString;

use napi_derive::napi;
use rusqlite::ffi;

use crate::statement::only_comments;

/// Whether better-sqlite3's `exec()` skips `byte` before a statement: white space and `;`.
fn skipped(byte: u8) -> bool {
    byte == b' ' || byte == b';' || (b'\t'..=b'\r').contains(&byte)
}

/// Where the statement starting at `start` of `script` ends: after the first
/// `;` that makes it complete, else at the end of the script.
fn statement_end(script: &str, start: usize) -> usize {
    let bytes = script.as_bytes();
    let mut search = start;
    while let Some(offset) = bytes[search..].iter().position(|&b| b == b';') {
        let candidate = search + offset + 1;
        let Ok(text) = CString::new(&bytes[start..candidate]) else { return bytes.len() };
        // SAFETY: `text` is NUL-terminated and outlives the call; sqlite3_complete only reads it.
        if unsafe { ffi::sqlite3_complete(text.as_ptr()) } != 0 {
            return candidate;
        }
        search = candidate;
    }
    bytes.len()
}

/// The statements of `script`, in order (comment-only pieces left out).
pub fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        start += script.as_bytes()[start..].iter().take_while(|&&b| skipped(b)).count();
        if start >= script.len() {
            return out;
        }
        // `;` and the skipped bytes are ASCII, so both ends are character boundaries.
        let end = statement_end(script, start);
        let text = &script[start..end];
        if !only_comments(text) {
            out.push(text.to_string());
        }
        start = end;
    }
}

/// The statements of the `exec()` script `script`, for the `verbose` logger (internal).
#[napi]
#[cfg_attr(test, allow(dead_code))]
pub fn split_script(script: String) -> Vec<String> {
    statements(&script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_the_sync_exec_logs() {
        let script = "CREATE TABLE a(x); -- c\n CREATE TABLE b(y) ;;  INSERT INTO a VALUES ('x;y')\n-- trailing";
        assert_eq!(statements(script), vec!["CREATE TABLE a(x);", "-- c\n CREATE TABLE b(y) ;", "INSERT INTO a VALUES ('x;y')\n-- trailing"]);
        let trigger = "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END; SELECT 3";
        assert_eq!(statements(trigger), vec!["CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;", "SELECT 3"]);
        assert!(statements("  ;; /* only */ ").is_empty());
        assert_eq!(statements("SELECT 'é';SELECT 2"), vec!["SELECT 'é';", "SELECT 2"]);
    }
}
