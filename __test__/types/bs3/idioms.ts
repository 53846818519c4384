// Common @types/better-sqlite3 idioms: they must compile unchanged with "better-sqlite3" aliased to hardened-sqlite.
import Database from "better-sqlite3";
// Named type imports, as @prisma/adapter-better-sqlite3's typings write them.
import type { Options } from "better-sqlite3";

interface User { id: number; email: string }
const options: Database.Options = { readonly: false, fileMustExist: false, timeout: 5000, verbose: console.log };
const byName: Options = options;
const db: Database.Database = new Database("app.db", options);
db.pragma("journal_mode = WAL");
const byId: Database.Statement<[number], User> = db.prepare<[number], User>("SELECT * FROM users WHERE id = ?");
const user: User | undefined = byId.get(1);
const named = db.prepare<{ email: string }, User>("SELECT * FROM users WHERE email = @email");
const all: User[] = named.all({ email: "ada@example.com" });
const result: Database.RunResult = db.prepare("INSERT INTO users (email) VALUES (?)").run("ada@example.com");
const id: number | bigint = result.lastInsertRowid;
const insertMany: Database.Transaction<(emails: string[]) => void> = db.transaction((emails: string[]) => {
  for (const email of emails) db.prepare("INSERT INTO users (email) VALUES (?)").run(email);
});
insertMany.immediate(["bob@example.com"]);
const cols: Database.ColumnDefinition[] = byId.columns();
const simple = db.pragma("user_version", { simple: true as boolean });
const owner: Database.Database = byId.database;
try { db.exec("nonsense"); } catch (e) { if (e instanceof Database.SqliteError) console.log(e.code); }
void db.backup("backup.db").then((meta: Database.BackupMetadata) => meta.totalPages - meta.remainingPages);
console.log(byName, user, all, id, cols, simple, owner, db.name, db.memory, db.readonly, db.open, db.inTransaction);
db.close();
const vtab: Database.VirtualTableOptions = { columns: ["n"], *rows(limit: number) { for (let n = 0; n < limit; n++) yield [n]; } };
db.table("numbers", vtab).table("words", (sep: string) => ({ columns: ["w"], parameters: ["text"], *rows(text: string) { yield* text.split(sep).map((w) => ({ w })); } }));
