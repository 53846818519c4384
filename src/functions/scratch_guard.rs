//! Keeps the row scratch buffer of a running call intact across a
//! user-defined function.
//!
//! `all()` and iteration leave rows in the thread's one scratch buffer across
//! several steps, and a function runs inside a step. The function may run
//! statements of another connection (its own connection refuses), which write
//! the same buffer. So the first such call inside a function saves the buffer,
//! and the function's end puts it back, after the inner call's JS read its rows.
//! Calls that nest no statement pay one thread-local read.

use std::cell::{Cell, RefCell};

use crate::errors::Result;
use crate::js::Js;

/// The saved buffer of a frame: where it lives, and its bytes.
type Saved = (*mut u8, Box<[u8]>);

thread_local! {
    /// Functions running JS on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// One entry per running function: the buffer as it was before a nested call wrote it.
    static FRAMES: RefCell<Vec<Option<Saved>>> = const { RefCell::new(Vec::new()) };
}

/// A function running JS; dropping it restores the buffer if a nested call saved it.
pub struct Frame(());

impl Frame {
    /// Starts a frame.
    pub fn enter() -> Frame {
        FRAMES.with_borrow_mut(|frames| frames.push(None));
        DEPTH.set(DEPTH.get() + 1);
        crate::values::write_callback_depth(DEPTH.get());
        Frame(())
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get().saturating_sub(1));
        if let Some(Some((data, bytes))) = FRAMES.with_borrow_mut(|frames| frames.pop()) {
            // SAFETY: `data` is the scratch memory of this thread's environment, which
            // outlives every call (it is freed at teardown, when no function runs), is
            // `bytes.len()` long, and no JS reads it while native code runs.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        }
        // After the restore, which brought back the depth of when the buffer was saved.
        crate::values::write_callback_depth(DEPTH.get());
    }
}

/// Whether a user-defined function runs JS on this thread now.
pub fn in_callback() -> bool {
    DEPTH.get() != 0
}

/// Called by every hot statement call before it writes the buffer: inside a
/// function, saves the buffer once for the innermost frame.
#[inline]
pub fn before_hot_call(js: Js) -> Result<()> {
    if DEPTH.get() == 0 {
        return Ok(());
    }
    save(js)
}

#[cold]
fn save(js: Js) -> Result<()> {
    let needed = FRAMES.with_borrow(|frames| matches!(frames.last(), Some(None)));
    if !needed {
        return Ok(());
    }
    let (data, len) = crate::values::scratch_memory(js)?;
    // SAFETY: `scratch_memory` returns the live buffer and its length; no JS runs now.
    let bytes: Box<[u8]> = unsafe { std::slice::from_raw_parts(data, len) }.into();
    FRAMES.with_borrow_mut(|frames| {
        if let Some(top @ None) = frames.last_mut() {
            *top = Some((data, bytes));
        }
    });
    Ok(())
}
