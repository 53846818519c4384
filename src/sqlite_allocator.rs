//! SQLite's memory allocator: mimalloc (`SQLITE_CONFIG_MALLOC`), set when the
//! library loads (a constructor), before anything can call SQLite.
//!
//! Preparing, finalizing, opening and closing allocate and free many small
//! blocks (the parse tree, the VDBE program, the schema): with glibc's malloc a
//! `prepare` + `get` of the bench spent about a third of its time in malloc and
//! free (perf, Bun). Measured on 2026-11-30 in the same bench runs, glibc
//! against mimalloc: `prepare` + `get` 48–58k → 57–69k per second, open +
//! harden + close 8.4–11k → 9.3–13k, 100 inserts in a transaction 3–5% faster,
//! reads unchanged (docs/performance.md). Only SQLite's own allocations go
//! there; Rust keeps the system allocator.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use libmimalloc_sys as mi;
use rusqlite::ffi;

/// Whether SQLite took the allocator (set once, as the library loads).
static INSTALLED: OnceLock<bool> = OnceLock::new();

unsafe extern "C" fn x_malloc(size: c_int) -> *mut c_void {
    // SAFETY: mimalloc allocates any size; its blocks are 16-byte aligned (SQLite needs 8).
    unsafe { mi::mi_malloc(size.max(0) as usize) }
}

unsafe extern "C" fn x_free(block: *mut c_void) {
    // SAFETY: SQLite frees only blocks `x_malloc` or `x_realloc` gave it (or null).
    unsafe { mi::mi_free(block) }
}

unsafe extern "C" fn x_realloc(block: *mut c_void, size: c_int) -> *mut c_void {
    // SAFETY: as for `x_free`.
    unsafe { mi::mi_realloc(block, size.max(0) as usize) }
}

unsafe extern "C" fn x_size(block: *mut c_void) -> c_int {
    // SAFETY: as for `x_free`; SQLite's allocations stay far below 2 GiB.
    unsafe { mi::mi_usable_size(block) as c_int }
}

unsafe extern "C" fn x_roundup(size: c_int) -> c_int {
    // SAFETY: only computes; mimalloc's size classes never round past SQLite's limits.
    unsafe { mi::mi_good_size(size.max(0) as usize) as c_int }
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Gives SQLite mimalloc; runs once, as the library is loaded (napi-rs's
/// `module_init` is a constructor), before any function can call SQLite.
#[napi_derive::module_init]
fn install() {
    INSTALLED.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLite copies `methods`; nothing has initialized this (private,
        // statically linked) SQLite yet, so configuring it is allowed.
        unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const methods) == ffi::SQLITE_OK }
    });
}

/// The allocator SQLite uses: `"mimalloc"`, or `"system"` if it could not be set.
pub fn name() -> &'static str {
    if INSTALLED.get() == Some(&true) { "mimalloc" } else { "system" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_took_it_before_any_test_ran() {
        assert_eq!(crate::database::sqlite_allocator(), "mimalloc");
    }

    #[test]
    fn the_methods_allocate_resize_measure_and_free() {
        // SAFETY: each block is used within its size and freed once.
        unsafe {
            let block = x_malloc(100).cast::<u8>();
            assert!(!block.is_null() && (block as usize).is_multiple_of(8));
            assert!(x_size(block.cast()) >= 100);
            block.write_bytes(7, 100);
            let grown = x_realloc(block.cast(), 5000).cast::<u8>();
            assert!(x_size(grown.cast()) >= 5000);
            assert_eq!(*grown.add(99), 7, "realloc keeps the contents");
            x_free(grown.cast());
            x_free(std::ptr::null_mut());
        }
        for size in [1, 8, 100, 4096, 100_000] {
            // SAFETY: only computes.
            let rounded = unsafe { x_roundup(size) };
            assert!(rounded >= size, "{size} -> {rounded}");
        }
    }
}
