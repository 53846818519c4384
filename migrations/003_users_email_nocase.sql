-- hardened: foreign_keys=off
-- Table rebuild: make users.email case-insensitive and require an "@" in it.
-- SQLite cannot add a constraint or change a collation with ALTER TABLE, so the
-- table is rebuilt (https://sqlite.org/lang_altertable.html#otheralter).
-- The first line runs this migration with foreign keys off, outside its
-- transaction: with them on, DROP TABLE users would delete every note through
-- ON DELETE CASCADE. The runner checks PRAGMA foreign_key_check before COMMIT.
CREATE TABLE users_new (
  id         INTEGER PRIMARY KEY,
  email      TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (email LIKE '%_@_%'),
  name       TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO users_new (id, email, name, created_at)
  SELECT id, email, name, created_at FROM users;

DROP TABLE users;

ALTER TABLE users_new RENAME TO users;
