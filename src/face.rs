//! Which JS face a connection serves: how its statements bind parameters and
//! hand out BLOBs. Decided when the database opens, copied to each statement.

/// The API a connection's statements follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Face {
    /// better-sqlite3's rules (the main face): numbers bind as REAL, BLOBs are Buffers.
    #[default]
    BetterSqlite3,
    /// bun:sqlite's rules: named keys keep their prefix, a missing one binds NULL.
    Bun,
    /// bun:sqlite with `strict: true`: bare named keys, a missing one is an error.
    BunStrict,
}

impl Face {
    /// The face named `name` (`"better-sqlite3"`, `"bun"`, `"bun-strict"`).
    pub fn parse(name: &str) -> Option<Face> {
        match name {
            "better-sqlite3" => Some(Face::BetterSqlite3),
            "bun" => Some(Face::Bun),
            "bun-strict" => Some(Face::BunStrict),
            _ => None,
        }
    }

    /// Whether it follows bun:sqlite (BLOBs come out as `Uint8Array`).
    pub fn is_bun(self) -> bool {
        self != Face::BetterSqlite3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_faces_and_nothing_else() {
        assert_eq!(Face::parse("bun"), Some(Face::Bun));
        assert_eq!(Face::parse("bun-strict"), Some(Face::BunStrict));
        assert_eq!(Face::parse("better-sqlite3"), Some(Face::BetterSqlite3));
        assert_eq!(Face::parse("Bun"), None);
        assert!(Face::BunStrict.is_bun() && !Face::default().is_bun());
    }
}
