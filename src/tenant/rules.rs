//! What a tenant handle's authorizer allows: the tenant-policy half of
//! `src/authorizer.rs`, as data (the tables, views and triggers the tenant
//! layer knows) and one decision function.
//!
//! SQLite names, for every column read or row written while preparing, the
//! database and the innermost trigger or view responsible. The tenant handle
//! allows:
//! - reads and writes of its own temp views (the tenant tables' unqualified names);
//! - reads of a `main` tenant table from inside its view, from one of the tenant
//!   layer's triggers, or from a trigger of the `main` schema (the app's own);
//! - writes of `main` tables from inside a trigger (tenant SQL cannot create
//!   one, and a write is never inside a view or a CTE, so this cannot be faked);
//! - reads of the tables listed as `shared`;
//! - transactions, savepoints, functions (not `load_extension`, and not the
//!   layer's own bookkeeping function outside its triggers) and a few read-only pragmas.
//!
//! Everything else is refused: `main.t` from tenant SQL, `sqlite_schema` and
//! `sqlite_temp_schema`, other tables, `ATTACH`/`DETACH`, every schema change
//! (temp objects too), `PRAGMA` with a value, `VACUUM`-like operations.
//!
//! The view's name is also what a CTE of the same name would report, so a
//! tenant could pose as the view by writing `WITH t AS (SELECT * FROM main.t)`:
//! that is why the tenant handle also refuses, before SQLite sees it, any SQL
//! that names the `main` schema (see `super::lexer`). Without `main.` an
//! unqualified `t` always resolves to the temp view first.

use std::collections::HashSet;
use std::ffi::c_int;

use rusqlite::ffi;

use crate::errors::Error;

/// The SQL function the layer's triggers report each row written through.
pub const NOTE_FUNCTION: &str = "hardened_tenant_note";

/// Pragmas a tenant handle may read (never set): connection and file settings,
/// none that lists the schema or reads other rows.
const READABLE_PRAGMAS: [&str; 13] = [
    "application_id", "auto_vacuum", "busy_timeout", "cache_size", "data_version", "encoding",
    "foreign_keys", "journal_mode", "page_size", "query_only", "synchronous", "temp_store", "user_version",
];

/// Table-valued functions that read only their arguments, readable unless a table took the name.
pub const TABLE_FUNCTIONS: [&str; 2] = ["json_each", "json_tree"];

/// What a tenant handle may reach, rebuilt with the views.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// Lowercase names of the `main` tables having the tenant column; each has a temp view of the same name.
    pub tenant_tables: HashSet<String>,
    /// Lowercase names of tenant tables without a primary key (their views refuse UPDATE and DELETE).
    pub without_key: HashSet<String>,
    /// Lowercase names of the layer's own temp triggers.
    pub own_triggers: HashSet<String>,
    /// Lowercase names of the triggers of the `main` schema (the app's own, trusted).
    pub main_triggers: HashSet<String>,
    /// Lowercase names of the tables without the tenant column that tenants may read
    /// (and of the [`TABLE_FUNCTIONS`] no table of `main` shadows).
    pub shared: HashSet<String>,
    /// The tenant column, for messages.
    pub column: String,
}

/// The kind of thing a tenant handle refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DenialKind {
    /// A `main` tenant table read or written other than through its view.
    UnderlyingTable,
    /// A table that is neither a tenant table nor listed in `shared`.
    NotShared,
    /// A write to a `shared` table.
    SharedWrite,
    /// `sqlite_schema`, `sqlite_temp_schema` or another schema table.
    Schema,
    /// `ATTACH` or `DETACH`.
    Attach,
    /// `CREATE`, `DROP`, `ALTER`, `REINDEX`, `ANALYZE`, virtual tables.
    SchemaChange,
    /// A pragma that is set, or not in the readable list.
    Pragma,
    /// `load_extension` or the layer's own function.
    Function,
    /// UPDATE or DELETE of a tenant table without a primary key.
    NoPrimaryKey,
    /// SQL naming the `main` schema.
    MainSchema,
    /// `RETURNING` on a tenant table.
    Returning,
    /// The rules were being replaced (never expected).
    Busy,
}

/// One refusal of a tenant handle: what, and the name it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Denial {
    /// What was refused.
    pub kind: DenialKind,
    /// The table, pragma, function or SQL fragment concerned.
    pub subject: String,
}

impl Denial {
    /// A refusal of `kind` about `subject`.
    pub fn new(kind: DenialKind, subject: impl Into<String>) -> Denial {
        Denial { kind, subject: subject.into() }
    }

    /// The refusal used when the rules could not be read.
    pub fn busy() -> Denial {
        Denial::new(DenialKind::Busy, "")
    }

    /// The `HARDENED_TENANT_DENIED` error, naming the thing and the way to do it on a tenant handle.
    pub fn error(self) -> Error {
        let s = &self.subject;
        let message = match self.kind {
            DenialKind::UnderlyingTable => format!(
                "this tenant handle cannot reach main.\"{s}\" directly: query and write \"{s}\" by its unqualified name, which shows only this tenant's rows"
            ),
            DenialKind::NotShared => format!(
                "this tenant handle cannot read table \"{s}\": it has no tenant column; list it in forTenant(id, {{ shared: [\"{s}\"] }}) to let every tenant read it"
            ),
            DenialKind::SharedWrite => format!(
                "this tenant handle can only read the shared table \"{s}\": write it through the parent HardenedDb"
            ),
            DenialKind::Schema => format!(
                "this tenant handle cannot read the schema table \"{s}\": it would list every table; inspect the schema on the parent HardenedDb"
            ),
            DenialKind::Attach => "this tenant handle cannot ATTACH or DETACH databases: use the parent HardenedDb".to_string(),
            DenialKind::SchemaChange => format!(
                "this tenant handle cannot change the schema ({s}): run migrations on the parent HardenedDb; tenant handles pick the change up at their next prepare"
            ),
            DenialKind::Pragma => format!(
                "this tenant handle cannot run PRAGMA {s}: it only reads {}; set pragmas on the parent HardenedDb",
                READABLE_PRAGMAS.join(", ")
            ),
            DenialKind::Function => format!("this tenant handle cannot call {s}()"),
            DenialKind::NoPrimaryKey => format!(
                "this tenant handle cannot UPDATE or DELETE rows of \"{s}\": the table has no PRIMARY KEY to identify this tenant's rows by; add one in a migration"
            ),
            DenialKind::MainSchema => format!(
                "this tenant handle refuses SQL naming the main schema ({s}): write table names unqualified (\"t\", not main.t); they show only this tenant's rows"
            ),
            DenialKind::Returning => format!(
                "this tenant handle cannot run {s} ... RETURNING: SQLite returns the values given to the tenant view, not the row stored; read the row back with a SELECT (lastInsertRowid identifies an inserted row)"
            ),
            DenialKind::Busy => "this tenant handle's rules were being replaced; prepare the statement again".to_string(),
        };
        Error::hardened("HARDENED_TENANT_DENIED", message)
    }
}

fn deny(kind: DenialKind, subject: &str) -> Option<Denial> {
    Some(Denial::new(kind, subject))
}

impl Rules {
    /// Whether `accessor` (the innermost trigger or view) is a trigger of the layer or of `main`.
    fn in_trigger(&self, accessor: Option<&str>) -> bool {
        accessor.is_some_and(|name| self.own_triggers.contains(name) || self.main_triggers.contains(name))
    }

    /// The decision for one authorizer call; arguments are lowercase.
    pub fn decide(
        &self,
        action: c_int,
        first: Option<&str>,
        second: Option<&str>,
        database: Option<&str>,
        accessor: Option<&str>,
    ) -> Option<Denial> {
        let table = first.unwrap_or("");
        match action {
            ffi::SQLITE_SELECT | ffi::SQLITE_TRANSACTION | ffi::SQLITE_SAVEPOINT | ffi::SQLITE_RECURSIVE => None,
            // A table scanned for no column (`SELECT 1 FROM c`) comes without its database: the table's own rules apply.
            ffi::SQLITE_READ if second == Some("") && database.is_none() => self.read(table, Some("main"), accessor),
            ffi::SQLITE_READ => self.read(table, database, accessor),
            ffi::SQLITE_INSERT => self.write(table, database, accessor, false),
            ffi::SQLITE_UPDATE | ffi::SQLITE_DELETE => self.write(table, database, accessor, true),
            ffi::SQLITE_FUNCTION => self.function(second.unwrap_or(""), accessor),
            ffi::SQLITE_PRAGMA => match second {
                None if READABLE_PRAGMAS.contains(&table) => None,
                None => deny(DenialKind::Pragma, table),
                Some(value) => deny(DenialKind::Pragma, &format!("{table} = {value}")),
            },
            ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH => deny(DenialKind::Attach, ""),
            _ => deny(DenialKind::SchemaChange, &schema_change(action, table)),
        }
    }

    fn read(&self, table: &str, database: Option<&str>, accessor: Option<&str>) -> Option<Denial> {
        match database {
            Some("temp") if self.tenant_tables.contains(table) => None,
            Some("main") if self.tenant_tables.contains(table) => {
                let via_view = accessor == Some(table);
                if via_view || self.in_trigger(accessor) { None } else { deny(DenialKind::UnderlyingTable, table) }
            }
            Some("main") if self.shared.contains(table) => None,
            // SQLite names the schema of the first table in the FROM clause for a table function.
            _ if TABLE_FUNCTIONS.contains(&table) && self.shared.contains(table) => None,
            _ if is_schema_table(table) => deny(DenialKind::Schema, table),
            _ => deny(DenialKind::NotShared, table),
        }
    }

    fn write(&self, table: &str, database: Option<&str>, accessor: Option<&str>, by_key: bool) -> Option<Denial> {
        match database {
            Some("temp") if self.tenant_tables.contains(table) => {
                if by_key && self.without_key.contains(table) { deny(DenialKind::NoPrimaryKey, table) } else { None }
            }
            Some("main") if self.in_trigger(accessor) => None,
            Some("main") if self.tenant_tables.contains(table) => deny(DenialKind::UnderlyingTable, table),
            Some("main") if self.shared.contains(table) => deny(DenialKind::SharedWrite, table),
            // CREATE, DROP and ALTER write the schema table before their own action is authorized.
            _ if is_schema_table(table) => deny(DenialKind::SchemaChange, table),
            _ => deny(DenialKind::NotShared, table),
        }
    }

    fn function(&self, name: &str, accessor: Option<&str>) -> Option<Denial> {
        let own = name == NOTE_FUNCTION && accessor.is_some_and(|a| self.own_triggers.contains(a));
        match name {
            NOTE_FUNCTION if !own => deny(DenialKind::Function, name),
            "load_extension" => deny(DenialKind::Function, name),
            _ => None,
        }
    }
}

fn is_schema_table(table: &str) -> bool {
    table.starts_with("sqlite_")
}

/// A readable name for a schema-changing authorizer action.
fn schema_change(action: c_int, name: &str) -> String {
    let verb = match action {
        ffi::SQLITE_ALTER_TABLE => "ALTER TABLE",
        ffi::SQLITE_REINDEX => "REINDEX",
        ffi::SQLITE_ANALYZE => "ANALYZE",
        ffi::SQLITE_CREATE_VTABLE | ffi::SQLITE_DROP_VTABLE => "a virtual table",
        a if (ffi::SQLITE_CREATE_INDEX..=ffi::SQLITE_CREATE_VIEW).contains(&a) => "CREATE",
        a if (ffi::SQLITE_DROP_INDEX..=ffi::SQLITE_DROP_VIEW).contains(&a) => "DROP",
        _ => "an operation outside the tenant rules",
    };
    if name.is_empty() { verb.to_string() } else { format!("{verb} {name}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            tenant_tables: ["t".to_string()].into(),
            own_triggers: ["hardened_tenant_insert:t".to_string()].into(),
            main_triggers: ["audit".to_string()].into(),
            shared: ["countries".to_string()].into(),
            column: "tenant_id".into(),
            ..Rules::default()
        }
    }

    #[test]
    fn underlying_tables_are_read_only_through_their_view_or_a_trigger() {
        let r = rules();
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("t"), Some("v"), Some("main"), Some("t")), None);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("t"), Some("v"), Some("main"), Some("audit")), None);
        let denied = r.decide(ffi::SQLITE_READ, Some("t"), Some("v"), Some("main"), None).unwrap();
        assert_eq!(denied.kind, DenialKind::UnderlyingTable);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("t"), Some("v"), Some("main"), Some("x")).unwrap().kind, DenialKind::UnderlyingTable);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("t"), Some("v"), Some("temp"), None), None);
    }

    #[test]
    fn writes_to_main_happen_only_inside_triggers() {
        let r = rules();
        assert_eq!(r.decide(ffi::SQLITE_INSERT, Some("t"), None, Some("main"), Some("hardened_tenant_insert:t")), None);
        assert_eq!(r.decide(ffi::SQLITE_INSERT, Some("t"), None, Some("main"), None).unwrap().kind, DenialKind::UnderlyingTable);
        assert_eq!(r.decide(ffi::SQLITE_DELETE, Some("countries"), None, Some("main"), None).unwrap().kind, DenialKind::SharedWrite);
        assert_eq!(r.decide(ffi::SQLITE_INSERT, Some("t"), None, Some("temp"), None), None);
    }

    #[test]
    fn schema_pragmas_attach_and_functions() {
        let r = rules();
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("sqlite_master"), Some("sql"), Some("main"), None).unwrap().kind, DenialKind::Schema);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("other"), Some("x"), Some("main"), None).unwrap().kind, DenialKind::NotShared);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("countries"), Some("x"), Some("main"), None), None);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("countries"), Some(""), None, None), None);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("other"), Some(""), None, None).unwrap().kind, DenialKind::NotShared);
        assert_eq!(r.decide(ffi::SQLITE_READ, Some("t"), Some(""), None, None).unwrap().kind, DenialKind::UnderlyingTable);
        assert_eq!(r.decide(ffi::SQLITE_PRAGMA, Some("user_version"), None, None, None), None);
        assert_eq!(r.decide(ffi::SQLITE_PRAGMA, Some("user_version"), Some("3"), None, None).unwrap().kind, DenialKind::Pragma);
        assert_eq!(r.decide(ffi::SQLITE_PRAGMA, Some("table_info"), Some("t"), None, None).unwrap().kind, DenialKind::Pragma);
        assert_eq!(r.decide(ffi::SQLITE_ATTACH, Some("x.db"), None, None, None).unwrap().kind, DenialKind::Attach);
        assert_eq!(r.decide(ffi::SQLITE_CREATE_TEMP_TRIGGER, Some("x"), Some("t"), Some("temp"), None).unwrap().kind, DenialKind::SchemaChange);
        assert_eq!(r.decide(ffi::SQLITE_FUNCTION, None, Some(NOTE_FUNCTION), None, None).unwrap().kind, DenialKind::Function);
        assert_eq!(r.decide(ffi::SQLITE_FUNCTION, None, Some(NOTE_FUNCTION), None, Some("hardened_tenant_insert:t")), None);
        assert_eq!(r.decide(ffi::SQLITE_FUNCTION, None, Some("upper"), None, None), None);
    }
}
