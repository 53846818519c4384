//! The tenant layer's SQL: which `main` tables carry the tenant column, and
//! the temp view and INSTEAD OF triggers that stand in for each.

use rusqlite::Connection;

use super::rules::NOTE_FUNCTION;
use crate::errors::Result;

/// One column of a `main` table, as `PRAGMA table_xinfo` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name as declared.
    pub name: String,
    /// Its `DEFAULT` expression as written, if any.
    pub default: Option<String>,
    /// Generated or hidden: never written by an INSERT or UPDATE.
    pub computed: bool,
}

/// A `main` table having the tenant column.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantTable {
    /// Its name as declared.
    pub name: String,
    /// The tenant column's name as declared.
    pub column: String,
    /// Every column, in order.
    pub columns: Vec<Column>,
    /// The primary key columns in key order (empty: none declared).
    pub key: Vec<String>,
}

/// What the layer finds in `main`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Tables having the tenant column.
    pub tenant_tables: Vec<TenantTable>,
    /// Names of the triggers of `main`.
    pub main_triggers: Vec<String>,
    /// Names of every table of `main`.
    pub all_tables: Vec<String>,
}

/// `name` as a quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a SQL string literal (SQLite's only escape is a doubled quote).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Reads the ordinary tables of `main` having `column` (compared as SQLite does, ASCII case-insensitively).
pub fn find(conn: &Connection, column: &str) -> Result<Found> {
    let mut tables = conn.prepare(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let names = tables.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    let mut info = conn.prepare("SELECT name, dflt_value, pk, hidden FROM pragma_table_xinfo(?1, 'main')")?;
    let mut found = Found { all_tables: names.clone(), ..Found::default() };
    for name in names {
        let rows = info
            .query_map([&name], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(tenant) = rows.iter().find(|(c, ..)| c.eq_ignore_ascii_case(column)) else { continue };
        let mut key: Vec<(i64, String)> = rows.iter().filter(|r| r.2 > 0).map(|r| (r.2, r.0.clone())).collect();
        key.sort();
        found.tenant_tables.push(TenantTable {
            column: tenant.0.clone(),
            columns: rows
                .iter()
                .map(|(c, d, _, hidden)| Column { name: c.clone(), default: d.clone(), computed: *hidden != 0 })
                .collect(),
            key: key.into_iter().map(|(_, c)| c).collect(),
            name,
        });
    }
    let mut triggers = conn.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'trigger'")?;
    found.main_triggers = triggers.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(found)
}

/// Names of the layer's three triggers of `table`.
pub fn trigger_names(table: &str) -> [String; 3] {
    ["insert", "update", "delete"].map(|verb| format!("hardened_tenant_{verb}:{table}"))
}

/// The statements creating the view and triggers of `table` for the tenant whose id is the SQL literal `id`.
pub fn create(table: &TenantTable, id: &str) -> Vec<String> {
    let t = ident(&table.name);
    let tc = ident(&table.column);
    let [ins, upd, del] = trigger_names(&table.name).map(|n| ident(&n));
    let msg = |text: String| literal(&format!("{}{text}", super::VIOLATION_PREFIX));
    let writable: Vec<&Column> = table.columns.iter().filter(|c| !c.computed && c.name != table.column).collect();
    let mut names = vec![tc.clone()];
    let mut values = vec![id.to_string()];
    for c in &writable {
        names.push(ident(&c.name));
        values.push(match &c.default {
            Some(d) => format!("coalesce(NEW.{}, ({d}))", ident(&c.name)),
            None => format!("NEW.{}", ident(&c.name)),
        });
    }
    // A value given for the tenant column must be the tenant's id, as a number or as text.
    let differs = |a: &str, b: &str| format!("{a} IS NOT {b} AND CAST({a} AS TEXT) IS NOT CAST({b} AS TEXT)");
    let new_tc = format!("NEW.{tc}");
    let mut sql = vec![
        format!("CREATE TEMP VIEW {t} AS SELECT * FROM main.{t} WHERE {tc} = {id}"),
        format!(
            "CREATE TEMP TRIGGER {ins} INSTEAD OF INSERT ON temp.{t} BEGIN \
             SELECT RAISE(ABORT, {}) WHERE NEW.{tc} IS NOT NULL AND {}; \
             INSERT INTO main.{t}({}) VALUES ({}); \
             SELECT {NOTE_FUNCTION}(changes(), last_insert_rowid()); END",
            msg(format!("{} of a row inserted into {} must be this tenant's id {id} (or left out)", table.column, table.name)),
            differs(&new_tc, id),
            names.join(", "),
            values.join(", "),
        ),
    ];
    if table.key.is_empty() {
        let refuse = msg(format!("{} has no PRIMARY KEY to identify this tenant's rows by; add one in a migration", table.name));
        for (name, verb) in [(upd, "UPDATE"), (del, "DELETE")] {
            sql.push(format!("CREATE TEMP TRIGGER {name} INSTEAD OF {verb} ON temp.{t} BEGIN SELECT RAISE(ABORT, {refuse}); END"));
        }
        return sql;
    }
    let matches_old: Vec<String> = table.key.iter().map(|k| format!("{0} IS OLD.{0}", ident(k))).collect();
    let row = format!("{} AND {tc} = {id}", matches_old.join(" AND "));
    let mut set: Vec<String> = writable.iter().map(|c| format!("{0} = NEW.{0}", ident(&c.name))).collect();
    if set.is_empty() {
        set.push(format!("{tc} = {tc}"));
    }
    sql.push(format!(
        "CREATE TEMP TRIGGER {upd} INSTEAD OF UPDATE ON temp.{t} BEGIN \
         SELECT RAISE(ABORT, {}) WHERE {}; \
         UPDATE main.{t} SET {} WHERE {row}; \
         SELECT {NOTE_FUNCTION}(changes(), NULL); END",
        msg(format!("{} of {} cannot change: a row stays with its tenant", table.column, table.name)),
        differs(&new_tc, &format!("OLD.{tc}")),
        set.join(", "),
    ));
    sql.push(format!(
        "CREATE TEMP TRIGGER {del} INSTEAD OF DELETE ON temp.{t} BEGIN \
         DELETE FROM main.{t} WHERE {row}; \
         SELECT {NOTE_FUNCTION}(changes(), NULL); END"
    ));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_the_quote_only() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("o'brien"), "'o''brien'");
        assert_eq!(literal("\\'"), "'\\'''");
    }

    #[test]
    fn finds_tenant_tables_with_keys_defaults_and_generated_columns() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE a(id INTEGER PRIMARY KEY, Tenant_Id TEXT, v DEFAULT 'x', g AS (v || 1));
             CREATE TABLE b(x, tenant_id); CREATE TABLE c(k TEXT, tenant_id, PRIMARY KEY (tenant_id, k)) WITHOUT ROWID;
             CREATE TABLE d(x); CREATE TRIGGER trg AFTER INSERT ON d BEGIN SELECT 1; END;",
        )
        .unwrap();
        let found = find(&conn, "tenant_id").unwrap();
        let names: Vec<&str> = found.tenant_tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let a = &found.tenant_tables[0];
        assert_eq!(a.column, "Tenant_Id");
        assert_eq!(a.key, ["id"]);
        assert_eq!(a.columns[2].default.as_deref(), Some("'x'"));
        assert!(a.columns[3].computed);
        assert!(found.tenant_tables[1].key.is_empty());
        assert_eq!(found.tenant_tables[2].key, ["tenant_id", "k"]);
        assert_eq!(found.main_triggers, ["trg"]);
        for table in &found.tenant_tables {
            conn.execute_batch(&create(table, "'x''y'").join(";\n")).unwrap();
        }
    }
}
