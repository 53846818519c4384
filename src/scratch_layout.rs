//! The layout of the scratch buffer that native code and JS share (byte
//! offsets of its fields and the tags of its cells; see `values::layout`), and
//! the buffer itself, as `NativeStatement.scratch()` and `scratchLayout()` give
//! them to lib/scratch.js.

use napi::Env;
use napi_derive::napi;

use crate::errors::to_js;
use crate::js::{Js, JsAny};
use crate::statement_class::NativeStatement;
use crate::values::{self, layout};

/// Byte offsets and cell tags of the scratch buffer (see `NativeStatement.scratch()`
/// and `values::layout`).
#[napi(object)]
pub struct ScratchLayout {
    /// f64 `changes` of the last `run()`.
    pub changes: u32,
    /// f64 `lastInsertRowid` of the last `run()`.
    pub rowid_number: u32,
    /// i64 `lastInsertRowid` of the last `run()`.
    pub rowid_bigint: u32,
    /// i32: 1 when `lastInsertRowid` is a bigint.
    pub rowid_is_bigint: u32,
    /// i32 count of cells waiting for `collect`.
    pub cells: u32,
    /// i32: 1 when an iteration's batch holds its last rows.
    pub last: u32,
    /// i32: user-defined functions running JS on this thread.
    pub callback_depth: u32,
    /// u8 tag per cell.
    pub tags: u32,
    /// 8-byte slot per cell.
    pub slots: u32,
    /// Tag of `null`.
    pub tag_null: u32,
    /// Tag of a number in the slot.
    pub tag_number: u32,
    /// Tag of a bigint in the slot.
    pub tag_bigint: u32,
    /// Tag of a BLOB (i32 byte offset and length in the slot).
    pub tag_blob: u32,
    /// Tag of the next argument of `collect`.
    pub tag_argument: u32,
    /// Tag of an ASCII string (i32 byte offset and length in the slot).
    pub tag_ascii: u32,
    /// Tag of a UTF-8 string (i32 byte offset and length in the slot).
    pub tag_utf8: u32,
    /// Tag of a BLOB that becomes a `Uint8Array` (i32 byte offset and length in the slot).
    pub tag_bytes: u32,
    /// i32: parameters JS encoded for the next hot call, plus one (0: none).
    pub encoded: u32,
    /// i32: 1 when the statement `prepare` just returned gives rows.
    pub prepared_reader: u32,
    /// u8 tag per encoded parameter.
    pub param_tags: u32,
    /// 8-byte slot per encoded parameter.
    pub param_slots: u32,
    /// Where encoded TEXT and BLOB bytes start (they run to the end of the buffer).
    pub param_data: u32,
    /// Most parameters JS encodes.
    pub max_params: u32,
    /// Tag of an encoded parameter that binds as INTEGER (a safe integer in an f64 slot).
    pub tag_integer: u32,
}

#[napi]
impl NativeStatement {
    /// The scratch `ArrayBuffer` shared with JS (one per environment).
    #[napi(ts_return_type = "ArrayBuffer")]
    pub fn scratch(env: Env) -> napi::Result<JsAny> {
        to_js(&env, values::scratch_buffer(Js::new(&env)).map(JsAny))
    }

    /// Byte offsets of the fields in the scratch buffer, and the cell tags.
    #[napi]
    pub fn scratch_layout() -> ScratchLayout {
        ScratchLayout {
            changes: layout::CHANGES as u32,
            rowid_number: layout::ROWID_NUMBER as u32,
            rowid_bigint: layout::ROWID_BIGINT as u32,
            rowid_is_bigint: layout::ROWID_IS_BIGINT as u32,
            cells: layout::CELLS as u32,
            last: layout::LAST as u32,
            callback_depth: layout::CALLBACK_DEPTH as u32,
            tags: layout::TAGS as u32,
            slots: layout::SLOTS as u32,
            tag_null: layout::TAG_NULL.into(),
            tag_number: layout::TAG_NUMBER.into(),
            tag_bigint: layout::TAG_BIGINT.into(),
            tag_blob: layout::TAG_BLOB.into(),
            tag_argument: layout::TAG_ARGUMENT.into(),
            tag_ascii: layout::TAG_ASCII.into(),
            tag_utf8: layout::TAG_UTF8.into(),
            tag_bytes: layout::TAG_BYTES.into(),
            encoded: layout::ENCODED as u32,
            prepared_reader: layout::PREPARED_READER as u32,
            param_tags: layout::PARAM_TAGS as u32,
            param_slots: layout::PARAM_SLOTS as u32,
            param_data: layout::PARAM_DATA as u32,
            max_params: layout::MAX_PARAMS as u32,
            tag_integer: layout::TAG_INTEGER.into(),
        }
    }
}
