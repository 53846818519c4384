//! hardened-sqlite: a SQLite connection for Node and Bun that is safe by
//! construction. This file only wires the modules together.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod connection;
pub mod database;
pub mod errors;
pub mod js;
pub mod location;
pub mod open;
pub mod options;
pub mod params;
pub mod pragmas;
pub mod statement;
pub mod statement_class;
pub mod values;
