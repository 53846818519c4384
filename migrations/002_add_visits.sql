-- One row per visit, written by the demo (examples/demo.js).
-- IF NOT EXISTS adopts the table that demo databases created before migrations existed.
CREATE TABLE IF NOT EXISTS visits (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS visits_by_time ON visits (at);
