// The bun:sqlite face's typings as a Bun app would use them after changing its import line
// (compiled, never run, by __test__/types.spec.ts).
import DatabaseDefault, { Database, HardenedDb, Statement, SQLiteError, HardenedDbError, constants, type Changes } from "hardened-sqlite/bun";

const db: Database = new DatabaseDefault("app.db", { strict: true, safeIntegers: false, busyTimeout: 2000, migrations: "migrations" });
const same: HardenedDb = db;
const flagged = Database.open("app.db", constants.SQLITE_OPEN_READWRITE | constants.SQLITE_OPEN_CREATE);
db.run("PRAGMA foreign_keys = ON");
const changes: Changes = db.run("INSERT INTO users (name) VALUES (?)", "ann");
const id: number | bigint = changes.lastInsertRowid;
class User {
  id!: number;
  name!: string;
  get label(): string {
    return `${this.id}: ${this.name}`;
  }
}
const user: User | null = db.query("SELECT id, name FROM users WHERE id = $id").as(User).get({ id: 1 });
const names: string[] = db.query<{ name: string }, [string]>("SELECT name FROM users WHERE name = ?").all("ann").map((r) => r.name);
const stmt: Statement<{ n: number }> = db.prepare<{ n: number }>("SELECT ?1 AS n", [1]);
const text: string = stmt.toString();
const types: Array<"INTEGER" | "FLOAT" | "TEXT" | "BLOB" | "NULL"> = stmt.columnTypes;
const count: number = stmt.paramsCount;
for (const row of stmt.iterate()) row.n.toFixed();
const insert = db.transaction((name: string) => db.run("INSERT INTO users (name) VALUES (?)", name).changes);
const inserted: number = insert.deferred("bob");
const bytes = db.serialize();
const copy = Database.deserialize(bytes, true);
try {
  db.run("bad sql");
} catch (error) {
  if (error instanceof SQLiteError) console.log(error.code, error.errno, error.byteOffset);
  if (error instanceof HardenedDbError) console.log(error.code);
}
const report = db.health();
console.log(same, flagged, id, user?.label, names, text, types, count, inserted, copy.filename, report.status, db.walSize());
{
  using scoped = new Database(":memory:");
  scoped.query("SELECT 1").get();
}
db.close(true);
