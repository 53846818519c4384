//! hardened-sqlite: a SQLite connection for Node and Bun that is safe by
//! construction. This file only wires the modules together.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[path = "async/mod.rs"]
mod r#async;
mod authorizer;
mod backup;
mod backup_class;
mod backup_destination;
mod busy;
mod client_data;
mod collected_statements;
mod connection;
mod database;
mod database_bun;
mod database_io;
mod database_upkeep;
mod deferred_finalize;
mod defensive;
mod errors;
mod exit_close;
mod extension;
mod face;
mod file_control;
mod functions;
mod health;
mod idle;
mod js;
mod limits;
mod location;
mod maintenance;
mod migration_files;
mod migration_script;
mod migrations;
mod mounts;
mod open;
mod open_files;
mod options;
mod params;
mod params_bun;
mod params_encoded;
mod permissions;
mod pragmas;
mod preflight;
mod probe;
mod replication;
mod scratch_layout;
mod serialize;
mod sqlite_allocator;
mod sqlite_value;
mod statement;
mod statement_bun;
mod statement_class;
mod statement_hot;
mod statement_ids;
mod statement_ffi;
mod statement_iteration;
mod statement_timeout;
mod tenant;
#[cfg(test)]
mod test_support;
mod values;
mod verbose;
mod vfs;
mod weaker_pragmas;
