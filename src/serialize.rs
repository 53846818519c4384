//! `db.serialize()` and `new HardenedDb(buffer)`: a schema's pages as bytes
//! (`sqlite3_serialize`) and an in-memory database made from them (`sqlite3_deserialize`).

use std::ffi::CString;
use std::ptr;

use rusqlite::{Connection, ffi};

use crate::errors::{Error, Result};

/// Offsets of the header's write and read format versions: `2` means WAL.
const FORMAT_VERSIONS: [usize; 2] = [18, 19];

/// The pages of schema `attached` (`"main"`, `"temp"` or an attached name) as
/// one database image. A WAL database's image says "rollback journal" in its
/// header (bytes 18 and 19 are `1`), as the image has no `-wal` and an
/// in-memory database cannot use one; every page is otherwise as stored.
pub fn serialize(conn: &Connection, attached: &str) -> Result<Vec<u8>> {
    let schema = CString::new(attached)
        .map_err(|_| Error::type_error("HARDENED_INVALID_ARGUMENT", "The \"attached\" option contains a NUL character"))?;
    // SAFETY: the connection is open; a null name pointer is never passed.
    let db = unsafe { conn.handle() };
    // SAFETY: `db` is open and `schema` is NUL-terminated.
    if unsafe { ffi::sqlite3_db_filename(db, schema.as_ptr()) }.is_null() {
        return Err(Error::Sqlite {
            code: ffi::SQLITE_ERROR,
            message: format!("unknown database {attached}: pass \"main\", \"temp\" or a name given to ATTACH"),
        });
    }
    let mut size: ffi::sqlite3_int64 = -1;
    // SAFETY: `db` is open, `schema` NUL-terminated, `size` a valid out pointer;
    // with flags 0 SQLite returns a copy allocated with sqlite3_malloc64.
    let data = unsafe { ffi::sqlite3_serialize(db, schema.as_ptr(), &mut size, 0) };
    if data.is_null() {
        if size <= 0 {
            return Ok(Vec::new());
        }
        return Err(Error::Sqlite { code: ffi::SQLITE_NOMEM, message: format!("out of memory serializing {attached}") });
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: `data` points to `size` bytes owned by us; they are copied, then
    // freed exactly once with the allocator SQLite used.
    let mut image = unsafe {
        let copy = std::slice::from_raw_parts(data, len).to_vec();
        ffi::sqlite3_free(data.cast());
        copy
    };
    without_wal(&mut image);
    Ok(image)
}

/// Marks a WAL database image as a rollback-journal one (bytes 18 and 19 from `2` to `1`).
fn without_wal(image: &mut [u8]) {
    if image.len() > FORMAT_VERSIONS[1] && FORMAT_VERSIONS.iter().all(|&i| image[i] == 2) {
        for i in FORMAT_VERSIONS {
            image[i] = 1;
        }
    }
}

/// Replaces the (empty, in-memory) main schema of `conn` with a copy of `image`
/// (a WAL image is marked rollback-journal, as in `serialize`); `readonly`
/// forbids writes to it. The caller validates the header afterwards.
pub fn deserialize(conn: &Connection, image: &[u8], readonly: bool) -> Result<()> {
    let size = ffi::sqlite3_int64::try_from(image.len())
        .map_err(|_| Error::range("HARDENED_INVALID_ARGUMENT", "The database image is too large"))?;
    let mut data: *mut u8 = ptr::null_mut();
    if !image.is_empty() {
        // SAFETY: a plain allocation; checked for null below.
        data = unsafe { ffi::sqlite3_malloc64(image.len() as u64) }.cast();
        if data.is_null() {
            return Err(Error::Sqlite { code: ffi::SQLITE_NOMEM, message: "out of memory copying the database image".into() });
        }
        // SAFETY: `data` has room for `image.len()` bytes and does not overlap `image`;
        // once filled, it is ours alone until handed to SQLite below.
        let copy = unsafe {
            ptr::copy_nonoverlapping(image.as_ptr(), data, image.len());
            std::slice::from_raw_parts_mut(data, image.len())
        };
        without_wal(copy);
    }
    let mut flags = ffi::SQLITE_DESERIALIZE_FREEONCLOSE | ffi::SQLITE_DESERIALIZE_RESIZEABLE;
    if readonly {
        flags |= ffi::SQLITE_DESERIALIZE_READONLY;
    }
    // SAFETY: the connection is open; `data` (possibly null when empty) came from
    // sqlite3_malloc64 and SQLite takes ownership of it (FREEONCLOSE), also on failure.
    let rc = unsafe { ffi::sqlite3_deserialize(conn.handle(), c"main".as_ptr(), data, size, size, flags) };
    if rc != ffi::SQLITE_OK {
        return Err(Error::Sqlite { code: rc, message: "unable to deserialize database".into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_round_trips_and_an_unknown_schema_is_an_error() {
        let conn = Connection::open_in_memory().unwrap();
        assert!(serialize(&conn, "main").unwrap().len() <= 4096);
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42)").unwrap();
        let image = serialize(&conn, "main").unwrap();
        assert_eq!(&image[..16], b"SQLite format 3\0");
        let err = serialize(&conn, "nowhere").unwrap_err();
        assert_eq!(err.code(), "SQLITE_ERROR");
        assert!(err.message().contains("unknown database nowhere"), "{}", err.message());
        let copy = Connection::open_in_memory().unwrap();
        deserialize(&copy, &image, true).unwrap();
        assert_eq!(copy.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
        let err = crate::errors::Error::from(copy.execute("INSERT INTO t VALUES (1)", []).unwrap_err());
        assert_eq!(err.code(), "SQLITE_READONLY");
        assert_eq!(serialize(&copy, "main").unwrap(), image);
    }

    #[test]
    fn a_wal_image_reads_as_a_rollback_journal_one() {
        let mut image = vec![0u8; 100];
        image[18] = 2;
        image[19] = 2;
        without_wal(&mut image);
        assert_eq!((image[18], image[19]), (1, 1));
        image[18] = 2;
        without_wal(&mut image);
        assert_eq!((image[18], image[19]), (2, 1));
    }
}
