//! What the bun:sqlite face (`hardened-sqlite/bun`) needs of a connection
//! beyond the main face: its binding rules, `db.run()` of a script with its
//! `{ changes, lastInsertRowid }`, and error offsets (`fileControl` is in
//! file_control.rs).

use napi::Env;
use napi_derive::napi;
use rusqlite::ffi;

use crate::database::{NativeDatabase, exec};
use crate::errors::{Error, Result, to_js};
use crate::face::Face;
use crate::js::Js;
use crate::values;

#[napi]
impl NativeDatabase {
    /// Makes statements prepared from now on follow `face`'s rules
    /// (`"better-sqlite3"`, `"bun"`, `"bun-strict"`).
    #[napi]
    pub fn set_face(&self, env: Env, face: String) -> napi::Result<()> {
        let parsed = Face::parse(&face).ok_or_else(|| {
            Error::type_error("HARDENED_INVALID_ARGUMENT", format!("Unknown face \"{face}\"; expected \"bun\" or \"bun-strict\""))
        });
        to_js(&env, parsed.map(|face| self.shared.face.set(face)))
    }

    /// Runs every statement of `sql` and leaves `{ changes, lastInsertRowid }`
    /// in the scratch buffer: the rows changed by the whole script, and the
    /// connection's last rowid (a bigint when `bigint_rowid`).
    #[napi]
    pub fn exec_counting(&self, env: Env, sql: String, bigint_rowid: bool) -> napi::Result<()> {
        let counted = (|| -> Result<()> {
            let db = self.shared.handle()?;
            if crate::statement::only_comments(&sql) {
                // As bun:sqlite: a script with nothing to run is a mistake, not a no-op;
                // "" is blank, while white space or comments alone are "no valid SQL".
                let message = if sql.is_empty() {
                    "SQL string mustn't be blank"
                } else {
                    "Query contained no valid SQL statement; likely empty query."
                };
                return Err(Error::range("HARDENED_NO_STATEMENT", message));
            }
            // SAFETY: `db` is open.
            let before = unsafe { ffi::sqlite3_total_changes64(db) };
            exec(&self.shared, &sql)?;
            let db = self.shared.handle()?;
            // SAFETY: `db` is still open (checked just above).
            let (after, rowid) = unsafe { (ffi::sqlite3_total_changes64(db), ffi::sqlite3_last_insert_rowid(db)) };
            values::write_run_result(Js::new(&env), after - before, rowid, bigint_rowid)
        })();
        to_js(&env, counted)
    }

    /// The length (in UTF-16 code units, as JS counts) of the first statement of
    /// `sql`, with what precedes it: `db.run(sql, ...params)` of bun:sqlite binds
    /// the parameters to the first statement of a script and runs the rest as is.
    #[napi]
    pub fn first_statement_length(&self, env: Env, sql: String) -> napi::Result<u32> {
        let length = self.shared.prepare_slot(&sql).map(|(_slot, consumed)| sql[..consumed].encode_utf16().count() as u32);
        to_js(&env, length)
    }

    /// `sqlite3_error_offset`: the byte offset in the SQL of the token the last
    /// error is about, or -1 (read at once after a failed prepare or step).
    #[napi]
    pub fn error_offset(&self) -> i32 {
        match self.shared.handle() {
            // SAFETY: `db` is open.
            Ok(db) => unsafe { ffi::sqlite3_error_offset(db) },
            Err(_) => -1,
        }
    }
}
