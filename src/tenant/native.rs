//! `NativeTenantDb`: the JS class behind `TenantDb` (`db.forTenant(id)`), a
//! connection of its own to the parent's file with the tenant layer installed.

use std::rc::Rc;

use napi::Env;
use napi_derive::napi;

use super::{Tenant, check_returning, check_sql, tenant_id};
use crate::connection::Shared;
use crate::database::exec;
use crate::database_upkeep::Upkeep;
use crate::errors::{Error, Result, to_js};
use crate::open;
use crate::statement::Statement;
use crate::js::{Js, JsAny};

/// A tenant handle (internal: use `db.forTenant(id)` from the package).
#[napi]
pub struct NativeTenantDb {
    shared: Rc<Shared>,
    tenant: Tenant,
    name: String,
}

/// Opens a tenant handle on the file `upkeep` describes (the parent's), with the parent's settings.
pub fn open_tenant(upkeep: &Upkeep, id: String, integer: bool, column: &str, shared: &[String]) -> Result<NativeTenantDb> {
    let id = tenant_id(id, integer)?;
    let unsupported = |why: &str| Err(Error::hardened("HARDENED_TENANT_UNSUPPORTED", why.to_string()));
    let Some(path) = &upkeep.path else {
        return unsupported(
            "forTenant() needs a database file: a tenant handle is a second connection to the same database, and \
             \":memory:\" cannot be shared between connections; open the HardenedDb on a file",
        );
    };
    if upkeep.settings.readonly {
        return unsupported(
            "forTenant() needs a HardenedDb opened without readonly: the tenant handle builds its temp views on a \
             connection that can write; open the parent without readonly",
        );
    }
    let name = path.display().to_string();
    let opened = open::open(&path.to_string_lossy(), &upkeep.settings)?;
    // Wrapped first, so a failed install closes the connection and forgets its handlers.
    let shared_conn = Shared::new(opened.conn, upkeep.settings.safe_integers, opened.statement_timeout);
    let tenant = shared_conn.with(|conn| Tenant::install(conn, &id, column, shared))?;
    let shared = shared_conn;
    let _ = shared.tenant_counts.set(std::sync::Arc::clone(&tenant.counts));
    Ok(NativeTenantDb { shared, tenant, name })
}

impl NativeTenantDb {
    fn refresh(&self) -> Result<()> {
        self.shared.with(|conn| self.tenant.refresh(conn))
    }
}

#[napi]
impl NativeTenantDb {
    /// Prepares one SQL statement under the tenant rules.
    /// Returns the statement's id; `handle` as `NativeDatabase.prepare`'s.
    #[napi(ts_args_type = "sql: string, handle: object")]
    pub fn prepare(&self, env: Env, sql: String, handle: JsAny) -> napi::Result<f64> {
        let prepared = check_sql(&sql).and_then(|()| self.refresh()).and_then(|()| {
            let statement = Statement::prepare(&self.shared, &sql)?;
            check_returning(statement.reader()?, statement.readonly()?)?;
            crate::collected_statements::register_followed(Js::new(&env), statement, handle.0)
        });
        to_js(&env, prepared)
    }

    /// Runs one or more SQL statements under the tenant rules.
    #[napi]
    pub fn exec(&self, env: Env, sql: String) -> napi::Result<()> {
        to_js(&env, check_sql(&sql).and_then(|()| self.refresh()).and_then(|()| exec(&self.shared, &sql)))
    }

    /// Finalizes every statement and closes the tenant's connection; refused
    /// while one of its iterators is open, like `HardenedDb#close()`.
    #[napi]
    pub fn close(&self, env: Env) -> napi::Result<()> {
        if self.shared.is_open() {
            to_js(&env, crate::idle::require_idle(&self.shared))?;
        }
        to_js(&env, self.shared.close())
    }

    /// New statements read integers as bigint when on.
    #[napi]
    pub fn set_default_safe_integers(&self, on: bool) {
        self.shared.default_safe_integers.set(on);
    }

    /// Whether the connection is open.
    #[napi(getter)]
    pub fn open(&self) -> bool {
        self.shared.is_open()
    }

    /// Whether a transaction is active.
    #[napi(getter)]
    pub fn in_transaction(&self) -> bool {
        self.shared.in_transaction()
    }

    /// The database file's path.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }
}
