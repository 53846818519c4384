//! `NativeDatabase`'s methods that move a whole database in or out, or load
//! code into it: `fromSerialized` (`new HardenedDb(buffer)`), `serialize` and
//! `loadExtension`. Backups are in `database_upkeep.rs`.

use napi::Env;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::database::NativeDatabase;
use crate::errors::to_js;
use crate::extension;
use crate::open;
use crate::options::{OpenOptions, Settings};
use crate::serialize;

#[napi]
impl NativeDatabase {
    /// Opens an in-memory database made from a copy of `image` (what `serialize()` returned).
    #[napi(factory)]
    pub fn from_serialized(env: Env, image: Buffer, options: Option<OpenOptions>) -> napi::Result<Self> {
        let opened = Settings::from_options(&options.unwrap_or_default())
            .and_then(|settings| Ok((open::open_image(&image, &settings)?, settings)));
        let (opened, settings) = to_js(&env, opened)?;
        Ok(NativeDatabase::from_opened(opened, settings))
    }

    /// The pages of schema `attached` as one database image.
    #[napi]
    pub fn serialize(&self, env: Env, attached: String) -> napi::Result<Buffer> {
        // bun:sqlite serializes beside an open iteration; better-sqlite3 refuses.
        let idle = if self.shared.face.get().is_bun() { Ok(()) } else { crate::idle::require_idle(&self.shared) };
        let image = idle.and_then(|()| self.shared.with(|conn| serialize::serialize(conn, &attached)));
        to_js(&env, image).map(Buffer::from)
    }

    /// Loads the native extension at `path` through the C API (see `extension.rs`).
    #[napi]
    pub fn load_extension(&self, env: Env, path: String, entry_point: Option<String>) -> napi::Result<()> {
        to_js(&env, extension::load(&self.shared, &path, entry_point.as_deref()))
    }
}
