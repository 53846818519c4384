//! The asynchronous handle (`HardenedDb.openAsync()`, docs/async.md): a pool of
//! one writer and N reader connections, each opened by the hardened open
//! sequence, whose SQLite work runs on the libuv thread pool.
//!
//! Each pooled connection sits in a `Mutex`: a task locks it for the whole of
//! its work on a pool thread, so one thread at a time uses it (the build is
//! `SQLITE_THREADSAFE=2` and opens with `NOMUTEX`). Bind values are converted to
//! plain Rust values on the JS thread before a task starts ([`bind_values`]),
//! and rows become JS values on the JS thread after it ends ([`outcome_js`]).
//! Scheduling (the writer's FIFO queue, idle readers, transactions) is in
//! lib/async/.

pub mod bind_values;
pub mod backup;
pub mod cursor;
pub mod cursor_task;
pub mod health;
pub mod held_locks;
pub mod interrupter;
pub mod maintenance;
pub mod native;
pub mod outcome_js;
pub mod pooled;
pub mod query;
pub mod script;
pub mod tasks;
