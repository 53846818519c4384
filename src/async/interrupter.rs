//! Cancelling the running request of one pooled connection (`AbortSignal`,
//! per-call timeouts) through `sqlite3_interrupt`, and only that request.

use std::sync::Mutex;

use rusqlite::InterruptHandle;

/// The interrupt handle of a pooled connection and the request running on it.
pub struct Interrupter {
    handle: InterruptHandle,
    /// The request running now, and the last one cancelled before it started.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: Option<u32>,
    cancelled: Option<u32>,
}

impl Interrupter {
    /// Wraps the handle of a connection (rusqlite's handle is safe after close).
    pub fn new(handle: InterruptHandle) -> Interrupter {
        Interrupter { handle, state: Mutex::new(State::default()) }
    }

    /// Marks request `id` as running (from the pool thread, before its first
    /// step); false when it was cancelled while queued: it must not run.
    pub fn begin(&self, id: u32) -> bool {
        match self.state.lock() {
            Ok(mut state) if state.cancelled != Some(id) => {
                state.running = Some(id);
                true
            }
            _ => false,
        }
    }

    /// Marks the connection idle (after the request's statements were reset).
    pub fn end(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.running = None;
        }
    }

    /// Interrupts request `id` if it is running now (returns true), else makes
    /// sure it never starts (ids are never reused, so a finished one is unaffected).
    /// The lock is held across the interrupt, so a later request of the same
    /// connection is never the one interrupted: `end()` waits for it, and
    /// SQLite clears the flag when the next statement starts on an idle connection.
    pub fn interrupt(&self, id: u32) -> bool {
        let Ok(mut state) = self.state.lock() else { return false };
        if state.running == Some(id) {
            self.handle.interrupt();
            true
        } else {
            state.cancelled = Some(id);
            false
        }
    }

    /// Interrupts the request running now, if any (the process is exiting, see
    /// `close_now`); returns whether one was.
    pub fn interrupt_running(&self) -> bool {
        let Ok(state) = self.state.lock() else { return false };
        if state.running.is_some() {
            self.handle.interrupt();
        }
        state.running.is_some()
    }
}
