//! The busy handler: the same total timeout as `busy_timeout`, but fair.
//!
//! SQLite's built-in handler sleeps 1, 2, 5, 10 ... up to 100 ms between
//! attempts, so under several writers a waiter that was unlucky once keeps
//! sleeping long while newcomers take the lock: p99 stays low but single writes
//! stall for a second. This handler polls with short, jittered sleeps until the
//! same deadline, and the longer a waiter has waited the shorter it sleeps
//! (from about 3 ms down to 0.15 ms), so old waiters win over newcomers.
//!
//! Installing a handler makes SQLite's `PRAGMA busy_timeout` read 0, so the
//! configured timeout is kept in a registry that [`configured_timeout`] reads.
//!
//! Why waiters poll rather than block in the kernel (measured 2026-11-29, figures
//! in docs/concurrency.md): SQLite's blocking locks (`SQLITE_ENABLE_SETLK_TIMEOUT`
//! and `sqlite3_setlk_timeout`) do not block on Linux in SQLite 3.54.1. Its unix
//! VFS implements the timed blocking lock only in SQLite's own test builds
//! (`osSetPosixAdvisoryLock`, `#ifdef SQLITE_TEST`); elsewhere it makes one
//! non-blocking `F_SETLK` and answers `SQLITE_BUSY`, so this handler runs as before
//! (strace of a 0.8 s wait for the write lock: no `F_SETLKW`, about 8,000 `F_SETLK`
//! with or without it), and 5 stress runs each showed no change beyond the noise.
//! The one lock that does block, `SQLITE_SETLK_BLOCK_ON_CONNECT` (the SHARED lock
//! taken to connect), blocks with no timeout: an open would hang for as long as
//! another process holds the file EXCLUSIVE, past `busyTimeout`
//! (`__test__/lock-waits.spec.ts` pins the bounded behaviour). A prototype that
//! slept in the kernel until the write-lock byte of `-shm` was free (`F_OFD_SETLKW`)
//! cut the waiters' CPU time by a fifth to a quarter but not the worst write, and
//! a kernel wait can only be bounded by `busyTimeout` with signals; so it was not kept.

use std::cell::Cell;
use std::ffi::CStr;
use std::os::raw::{c_int, c_void};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ffi};

use crate::client_data;
use crate::errors::{Error, Result};

/// Per-connection state of the handler.
#[derive(Debug)]
struct BusyState {
    timeout: Duration,
    started: Cell<Instant>,
    rng: Cell<u64>,
    /// The connection's handle address (for `held_locks::must_fail_fast`).
    db: usize,
}

/// The key of a connection's handler state in its client data (see [`crate::client_data`]).
const STATE_KEY: &CStr = c"hardened-sqlite.busy";

/// Longest sleep (a newcomer's) and shortest (a waiter of 30 ms or more), in microseconds.
const NEWCOMER_SLEEP_US: u64 = 3000;
const VETERAN_SLEEP_US: u64 = 150;

impl BusyState {
    /// xorshift64*: jitter only, not cryptographic.
    fn next_random(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Whether to try again after sleeping; `attempt` counts earlier calls for this lock.
    fn wait(&self, attempt: c_int) -> bool {
        if attempt == 0 {
            self.started.set(Instant::now());
        }
        let elapsed = self.started.get().elapsed();
        if elapsed >= self.timeout {
            return false;
        }
        let waited_us = elapsed.as_micros() as u64;
        let cap = NEWCOMER_SLEEP_US.saturating_sub(waited_us / 10).max(VETERAN_SLEEP_US);
        let sleep = Duration::from_micros(cap / 2 + self.next_random() % (cap / 2 + 1));
        std::thread::sleep(sleep.min(self.timeout - elapsed));
        true
    }
}

extern "C" fn on_busy(state: *mut c_void, attempt: c_int) -> c_int {
    // SAFETY: `state` is the pointer `install` registered for this connection; the
    // box lives on the connection until it closes (SQLite can no longer call this
    // then) or `install` replaces it after replacing this handler.
    let state = unsafe { &*(state as *const BusyState) };
    if crate::r#async::held_locks::must_fail_fast(state.db) {
        return 0;
    }
    state.wait(attempt) as c_int
}

/// Installs the fair busy handler with `timeout_ms` on `conn` (0 turns waiting off).
pub fn install(conn: &Connection, timeout_ms: u32) -> Result<()> {
    // SAFETY: the handle is used only while `conn` is borrowed (open).
    let db = unsafe { conn.handle() };
    let seed = (Instant::now().elapsed().as_nanos() as u64) ^ (db as u64) ^ 0x9E37_79B9_7F4A_7C15;
    let state = Box::new(BusyState {
        timeout: Duration::from_millis(timeout_ms.into()),
        started: Cell::new(Instant::now()),
        rng: Cell::new(seed | 1),
        db: db as usize,
    });
    // SAFETY: `db` is open. SQLite's own handler replaces any earlier one of ours
    // before the state that one points to is replaced (and freed); then the new
    // handler is given the new state, which lives on the connection until it closes.
    let rc = unsafe {
        ffi::sqlite3_busy_handler(db, None, std::ptr::null_mut());
        let state = client_data::attach(db, STATE_KEY, state)?;
        ffi::sqlite3_busy_handler(db, Some(on_busy), state.cast::<c_void>())
    };
    if rc != ffi::SQLITE_OK {
        return Err(Error::Sqlite { code: rc, message: "cannot install the busy handler".into() });
    }
    Ok(())
}

/// The timeout installed on `conn` by [`install`], in milliseconds.
pub fn configured_timeout(conn: &Connection) -> Option<i64> {
    // SAFETY: `conn` is open and borrowed for the call; STATE_KEY holds only `BusyState`s.
    unsafe { client_data::with(conn.handle(), STATE_KEY, |state: &BusyState| state.timeout.as_millis() as i64) }
}

/// Puts the fair handler back after SQL ran `PRAGMA busy_timeout = requested_ms`
/// (SQLite then installs its own handler, or none for 0), keeping the timeout
/// the SQL asked for. When SQLite reads back something else, the pragma did not
/// run (an earlier statement of the script failed) and the fair handler is still there.
pub fn adopt(conn: &Connection, requested_ms: u32) -> Result<()> {
    let sqlite_ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |row| row.get(0))?;
    if sqlite_ms == i64::from(requested_ms) {
        install(conn, requested_ms)?;
    }
    Ok(())
}

/// Runs `step` again after `SQLITE_BUSY` until `timeout_ms` has passed, for
/// the steps SQLite refuses without calling the busy handler.
///
/// On a brand-new file still in rollback-journal mode, several processes
/// switching it to WAL at once can each hold a SHARED lock while another waits
/// for EXCLUSIVE; SQLite then returns `SQLITE_BUSY` at once rather than call a
/// handler that could deadlock. The switch is idempotent, so trying again is safe.
pub fn retry_while_busy<T>(timeout_ms: u32, mut step: impl FnMut() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let timeout = Duration::from_millis(timeout_ms.into());
    let mut attempt: u64 = 0;
    loop {
        match step() {
            Err(Error::Sqlite { code, .. }) if code & 0xff == ffi::SQLITE_BUSY && started.elapsed() < timeout => {
                attempt += 1;
                // 0.5 to 4 ms, varied by attempt and clock so racing processes spread out.
                let jitter = (started.elapsed().subsec_nanos() as u64 ^ attempt.wrapping_mul(0x9E37)) % 3500;
                std::thread::sleep(Duration::from_micros(500 + jitter).min(timeout.saturating_sub(started.elapsed())));
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_busy_until_it_passes_and_gives_up_at_the_deadline() {
        let mut calls = 0;
        let busy = || Error::Sqlite { code: ffi::SQLITE_BUSY, message: "database is locked".into() };
        let result = retry_while_busy(1000, || {
            calls += 1;
            if calls < 3 { Err(busy()) } else { Ok(calls) }
        });
        assert_eq!(result.unwrap(), 3);
        let start = Instant::now();
        assert_eq!(retry_while_busy(20, || -> Result<()> { Err(busy()) }).unwrap_err().code(), "SQLITE_BUSY");
        assert!(start.elapsed() >= Duration::from_millis(20));
        let other = retry_while_busy(1000, || -> Result<()> { Err(Error::hardened("HARDENED_IO", "x")) });
        assert_eq!(other.unwrap_err().code(), "HARDENED_IO");
    }

    #[test]
    fn reports_the_configured_timeout() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(configured_timeout(&conn), None);
        install(&conn, 1234).unwrap();
        assert_eq!(configured_timeout(&conn), Some(1234));
        install(&conn, 50).unwrap();
        assert_eq!(configured_timeout(&conn), Some(50));
    }

    #[test]
    fn gives_up_at_the_deadline_after_short_sleeps() {
        let state = BusyState {
            timeout: Duration::from_millis(30),
            started: Cell::new(Instant::now()),
            rng: Cell::new(7),
            db: 0,
        };
        let start = Instant::now();
        let mut attempts = 0;
        while state.wait(attempts) {
            attempts += 1;
        }
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        assert!(attempts >= 12, "sleeps must stay short: only {attempts} attempts in {waited:?}");
    }

    #[test]
    fn a_second_connection_waits_then_gets_the_lock() {
        let path = std::env::temp_dir().join(format!("hs-busy-{}.db", std::process::id()));
        let a = Connection::open(&path).unwrap();
        let b = Connection::open(&path).unwrap();
        install(&b, 2000).unwrap();
        a.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);").unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            a.execute_batch("COMMIT").unwrap();
        });
        b.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT;").unwrap();
        releaser.join().unwrap();
        let n: i64 = b.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
        drop(b);
        let _ = std::fs::remove_file(&path);
    }
}
