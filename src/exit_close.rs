//! The connections of this thread still open, so that process exit closes them
//! (the last connection to a file checkpoints the WAL and removes `-wal` and
//! `-shm`) without a JS `WeakRef` per connection.
//!
//! Each `WeakRef` keeps its target alive until the current job ends, so a loop
//! that opens and closes connections without yielding kept every database
//! object (and its native wrapper) for the collector to walk: about 8 µs of CPU
//! per open + close on Node 20 (a `FinalizationRegistry` cost the same). A
//! `Weak` here costs nothing the collector sees.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::connection::Shared;

/// Smallest list that is compacted.
const MIN_COMPACT: usize = 64;

#[derive(Default)]
struct Open {
    connections: Vec<Weak<Shared>>,
    /// `connections.len()` at which the next `remember` drops the dead entries.
    compact_at: usize,
}

thread_local! {
    static OPEN: RefCell<Open> = RefCell::new(Open::default());
}

/// Remembers a connection just opened on this thread.
pub fn remember(shared: &Rc<Shared>) {
    OPEN.with_borrow_mut(|open| {
        // Dropping the connections that were closed and collected only when the list
        // doubled keeps this O(1) amortised however many stay open.
        if open.connections.len() >= open.compact_at.max(MIN_COMPACT) {
            open.connections.retain(|weak| weak.upgrade().is_some_and(|shared| shared.is_open()));
            open.compact_at = open.connections.len() * 2;
        }
        open.connections.push(Rc::downgrade(shared));
    });
}

/// Closes every connection of this thread still open, even with an iterator
/// open (nothing will finish it at exit); returns how many it closed. A
/// connection that cannot close now (a user-defined function of it is running)
/// is left to SQLite.
pub fn close_all() -> u32 {
    let connections = OPEN.with_borrow_mut(|open| std::mem::take(&mut open.connections));
    let mut closed = 0;
    for shared in connections.iter().filter_map(Weak::upgrade) {
        if shared.is_open() && shared.close().is_ok() {
            closed += 1;
        }
    }
    closed
}
