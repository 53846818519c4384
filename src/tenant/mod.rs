//! Tenant handles (`db.forTenant(id)`): a connection of its own to the same
//! file on which every table having the tenant column is shadowed by a temp
//! view showing only this tenant's rows, written through INSTEAD OF triggers
//! that fill in and guard the tenant column, with the authorizer refusing the
//! way around them (see `rules`) and the `main` schema refused by name (see `lexer`).
//!
//! The temp objects are rebuilt when `PRAGMA main.schema_version` moved (a
//! migration by any connection), checked before each prepare outside a transaction.

pub mod lexer;
pub mod native;
pub mod rules;
pub mod schema;

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::authorizer;
use crate::errors::{Error, Result};
use rules::{Denial, DenialKind, NOTE_FUNCTION, Rules};

/// A tenant's id as given: bound into the layer's SQL as a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantId {
    /// An integer id.
    Integer(i64),
    /// A text id.
    Text(String),
}

impl TenantId {
    /// The id as a SQL literal: digits, or a string with its quotes doubled.
    pub fn literal(&self) -> String {
        match self {
            TenantId::Integer(n) => n.to_string(),
            TenantId::Text(text) => schema::literal(text),
        }
    }
}

/// Rows written through the tenant views, counted by the triggers: SQLite
/// reports 0 `changes()` for a view and forgets the rowid a trigger inserted.
#[derive(Debug, Default)]
pub struct Counts {
    changes: AtomicI64,
    last_rowid: AtomicI64,
}

impl Counts {
    /// Rows written since the connection opened.
    pub fn total(&self) -> i64 {
        self.changes.load(Ordering::Relaxed)
    }

    /// The rowid of the last row inserted through a tenant view.
    pub fn last_rowid(&self) -> i64 {
        self.last_rowid.load(Ordering::Relaxed)
    }

    fn note(&self, changes: i64, rowid: Option<i64>) {
        self.changes.fetch_add(changes, Ordering::Relaxed);
        if let (Some(rowid), true) = (rowid, changes > 0) {
            self.last_rowid.store(rowid, Ordering::Relaxed);
        }
    }
}

/// The tenant layer of one connection.
#[derive(Debug)]
pub struct Tenant {
    id: String,
    column: String,
    shared: HashSet<String>,
    /// `main`'s schema version the temp objects were built for.
    version: Cell<Option<i64>>,
    /// What the triggers counted.
    pub counts: Arc<Counts>,
}

impl Tenant {
    /// Turns `conn` (fresh from the open sequence) into a tenant handle.
    pub fn install(conn: &Connection, id: &TenantId, column: &str, shared: &[String]) -> Result<Tenant> {
        let counts = Arc::new(Counts::default());
        let noted = Arc::clone(&counts);
        conn.create_scalar_function(NOTE_FUNCTION, 2, FunctionFlags::SQLITE_UTF8, move |ctx| {
            noted.note(ctx.get::<Option<i64>>(0)?.unwrap_or(0), ctx.get::<Option<i64>>(1)?);
            Ok(None::<i64>)
        })?;
        let tenant = Tenant {
            id: id.literal(),
            column: column.to_string(),
            shared: shared.iter().map(|s| s.to_ascii_lowercase()).collect(),
            version: Cell::new(None),
            counts,
        };
        // Refuses everything until the first build succeeded.
        authorizer::set_tenant_rules(conn, Some(Rules { column: column.to_string(), ..Rules::default() }))?;
        tenant.refresh(conn)?;
        Ok(tenant)
    }

    /// Rebuilds the views and triggers if `main`'s schema changed since they were built.
    /// Inside a transaction nothing is rebuilt (a rollback would undo it); a
    /// statement running on a view (SQLITE_LOCKED) postpones it to the next call.
    /// Either way the rules in force stay safe: a table without a view is refused.
    pub fn refresh(&self, conn: &Connection) -> Result<()> {
        if !conn.is_autocommit() && self.version.get().is_some() {
            return Ok(());
        }
        let rebuilt = authorizer::with_tenant_rules_lifted(conn, || {
            let version: i64 = conn.query_row("PRAGMA main.schema_version", [], |row| row.get(0))?;
            if Some(version) == self.version.get() {
                return Ok(None);
            }
            conn.execute_batch("BEGIN")?;
            match self.rebuild(conn) {
                Ok(built) => {
                    conn.execute_batch("COMMIT")?;
                    Ok(Some(built))
                }
                Err(err) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    let locked = err.code().starts_with("SQLITE_LOCKED") && self.version.get().is_some();
                    if locked { Ok(None) } else { Err(err) }
                }
            }
        })?;
        if let Some((rules, version)) = rebuilt {
            authorizer::set_tenant_rules(conn, Some(rules))?;
            self.version.set(Some(version));
        }
        Ok(())
    }

    /// Replaces every temp view (the layer's are the only ones) inside the open transaction.
    fn rebuild(&self, conn: &Connection) -> Result<(Rules, i64)> {
        let version: i64 = conn.query_row("PRAGMA main.schema_version", [], |row| row.get(0))?;
        let found = schema::find(conn, &self.column)?;
        let mut views = conn.prepare("SELECT name FROM sqlite_temp_schema WHERE type = 'view'")?;
        let old = views.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        for name in old {
            conn.execute_batch(&format!("DROP VIEW temp.{}", schema::ident(&name)))?;
        }
        let mut rules = Rules { column: self.column.clone(), ..Rules::default() };
        for table in &found.tenant_tables {
            conn.execute_batch(&schema::create(table, &self.id).join(";\n"))?;
            let name = table.name.to_ascii_lowercase();
            rules.own_triggers.extend(schema::trigger_names(&name));
            if table.key.is_empty() {
                rules.without_key.insert(name.clone());
            }
            rules.tenant_tables.insert(name);
        }
        rules.main_triggers = found.main_triggers.iter().map(|n| n.to_ascii_lowercase()).collect();
        rules.shared = self.shared.iter().filter(|s| !rules.tenant_tables.contains(*s)).cloned().collect();
        let tables: HashSet<String> = found.all_tables.iter().map(|n| n.to_ascii_lowercase()).collect();
        rules.shared.extend(rules::TABLE_FUNCTIONS.iter().filter(|f| !tables.contains(**f)).map(|f| f.to_string()));
        Ok((rules, version))
    }
}

/// Refuses SQL naming the `main` schema (see `lexer`).
pub fn check_sql(sql: &str) -> Result<()> {
    match lexer::main_schema_reference(sql) {
        Some(found) => Err(Denial::new(DenialKind::MainSchema, found).error()),
        None => Ok(()),
    }
}

/// Refuses `INSERT`/`UPDATE`/`DELETE ... RETURNING` (a writer that returns rows).
pub fn check_returning(reader: bool, readonly: bool) -> Result<()> {
    if reader && !readonly {
        return Err(Denial::new(DenialKind::Returning, "INSERT, UPDATE or DELETE").error());
    }
    Ok(())
}

/// The prefix of every message the layer's triggers raise.
pub const VIOLATION_PREFIX: &str = "hardened-sqlite tenant: ";

/// A `RAISE` of the layer's triggers as `HARDENED_TENANT_VIOLATION` (with SQLite's error as `cause`).
pub fn violation(code: i32, message: &str) -> Option<Error> {
    let text = message.strip_prefix(VIOLATION_PREFIX)?;
    Some(Error::Hardened {
        code: "HARDENED_TENANT_VIOLATION",
        message: format!("refused by the tenant handle: {text}"),
        cause: Some(Box::new(Error::Sqlite { code, message: message.to_string() })),
    })
}

/// Checks a tenant id given by JS: an integer's decimal digits, or text.
pub fn tenant_id(text: String, integer: bool) -> Result<TenantId> {
    let bad = |why: &str| Err(Error::type_error("HARDENED_INVALID_ARGUMENT", format!("forTenant(tenantId): {why}")));
    if integer {
        return match text.parse::<i64>() {
            Ok(n) => Ok(TenantId::Integer(n)),
            Err(_) => bad("an integer tenant id must fit in 64 bits"),
        };
    }
    if text.is_empty() {
        return bad("the tenant id is an empty string; pass the tenant's id (a non-empty string or an integer)");
    }
    if text.contains('\0') {
        return bad("the tenant id contains a NUL character");
    }
    Ok(TenantId::Text(text))
}

#[cfg(test)]
mod tests;
