// The type test: the examples of README.md and docs/ and the whole public API, as an ESM app
// would write them. Compiled (never run) by `tsc --noEmit --strict -p __test__/types`.
import HardenedDbDefault, {
  HardenedDb,
  SqliteError,
  HardenedDbError,
  Statement,
  sqliteVersion,
  type HardenedDbOptions,
  type HardenedErrorCode,
  type HealthReport,
  type MigrationInput,
  type RunResult,
  type Transaction,
} from "hardened-sqlite";
import { drizzle as drizzleBun } from "drizzle-orm/bun-sqlite";
import { migrate as migrateBun } from "drizzle-orm/bun-sqlite/migrator";
import { drizzle as drizzleNode } from "drizzle-orm/better-sqlite3";
import { migrate as migrateNode } from "drizzle-orm/better-sqlite3/migrator";
import { eq } from "drizzle-orm";
import { sqliteTable, integer, text } from "drizzle-orm/sqlite-core";
import { Kysely, SqliteDialect, type Generated } from "kysely";
import type { Database } from "bun:sqlite";

/** Fails to compile unless `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(): T | void {}

// --- Quick start ------------------------------------------------------------
{
  const db = new HardenedDb("data/app.db");
  db.exec("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL)");
  const insert = db.prepare("INSERT INTO users (email) VALUES (?)");
  const addAll = db.transaction((emails: string[]) => { for (const e of emails) insert.run(e); });
  addAll(["ada@example.com", "bob@example.com"]);
  const user = db.prepare("SELECT * FROM users WHERE email = :email").get({ email: "ada@example.com" });
  expectType<Equal<typeof user, Record<string, unknown> | undefined>>();
  db.close();
  expectType<Equal<typeof HardenedDbDefault, typeof HardenedDb>>();
}

// --- TypeScript -------------------------------------------------------------
{
  interface User { id: number; email: string }
  const options: HardenedDbOptions = { busyTimeout: 10_000, synchronous: "FULL", upgradeDeferredBegin: true };
  const db = new HardenedDb("data/app.db", options);
  const byEmail = db.prepare<[email: string], User>("SELECT id, email FROM users WHERE email = ?");
  const user = byEmail.get("ada@example.com");
  expectType<Equal<typeof user, User | undefined>>();
  const everyone = byEmail.all("ada@example.com");
  expectType<Equal<typeof everyone, User[]>>();
  for (const u of byEmail.iterate("ada@example.com")) expectType<Equal<typeof u, User>>();
  const n = db.prepare("SELECT count(*) AS n FROM users").get<{ n: number }>();
  expectType<Equal<typeof n, { n: number } | undefined>>();
  const emails = db.prepare("SELECT email FROM users").pluck().all();
  expectType<Equal<typeof emails, unknown[]>>();
  const rows = db.prepare("SELECT id, email FROM users").raw().all();
  expectType<Equal<typeof rows, unknown[][]>>();
  const result: RunResult = db.prepare("DELETE FROM users WHERE id = ?").run(1);
  expectType<Equal<typeof result.lastInsertRowid, number | bigint>>();
  const bound = db.prepare<[id: number], User>("SELECT * FROM users WHERE id = ?").bind(1);
  bound.get();
  const transfer: Transaction<(from: number, to: number) => number> = db.transaction((from: number, to: number) => from + to, { retries: 3 });
  transfer.deferred(1, 2);
  try {
    db.prepare("INSERT INTO users (email) VALUES (?)").run("ada@example.com");
  } catch (e) {
    if (e instanceof SqliteError && e.code === "SQLITE_CONSTRAINT_UNIQUE") console.log("taken");
    else if (e instanceof HardenedDbError) {
      const code: HardenedErrorCode = e.code;
      console.log(code);
    } else throw e;
  }
  using scoped = new HardenedDb(":memory:");
  scoped.pragma("journal_mode", { simple: true });
  const pragmaRows = scoped.pragma("table_info(users)");
  expectType<Equal<typeof pragmaRows, Record<string, unknown>[]>>();
  const version: string = sqliteVersion();
  const stmt: Statement = db.prepare("SELECT 1");
  console.log(version, stmt.source, stmt.reader, stmt.columns()[0].name);
}

// --- Migrations, health and maintenance ------------------------------------
{
  const migrations: MigrationInput[] = [{ version: 1, name: "init", sql: "CREATE TABLE t (x)" }];
  const db = new HardenedDb("data/app.db", { migrations: "migrations", permissions: "fix", healthCheck: true, closeOnSignal: true, checkpointInterval: 60_000, limits: { length: 1_000_000, attached: 0 }, statementTimeout: 5_000 });
  const report = db.migrate(migrations);
  const applied: number[] = report.applied.map((m) => m.version);
  const status = db.migrationStatus();
  const pending: string[] = status.pending.map((m) => m.name);
  const health: HealthReport = db.health({ integrity: "quick" });
  if (health.status !== "healthy") console.log(health.checks.filter((c) => !c.ok).map((c) => c.fix));
  const { busy } = db.checkpoint("TRUNCATE");
  const problems: string[] = db.integrityCheck({ quick: true });
  const freed: number = db.incrementalVacuum();
  const walBytes: number = db.optimize().walSize();
  void db.backup("backups/app.db", { overwrite: true }).then((b) => b.bytes);
  void db.backup("backups/app.db", { attached: "main", progress: ({ totalPages, remainingPages }) => (remainingPages < totalPages ? 200 : undefined) });
  const image: Buffer = db.serialize({ attached: "main" });
  const copy = new HardenedDb(image, { readonly: true });
  copy.loadExtension("/opt/ext/vector.so", "sqlite3_vector_init").close();
  console.log(applied, pending, busy, problems, freed, walBytes);
}

// --- Drizzle (Bun) ----------------------------------------------------------
{
  const users = sqliteTable("users", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email").notNull().unique(),
  });
  const client = new HardenedDb("data/app.db");
  const db = drizzleBun(client as unknown as Database);
  migrateBun(db, { migrationsFolder: "drizzle" });
  db.insert(users).values({ email: "ada@example.com" }).run();
  const ada = db.select().from(users).where(eq(users.email, "ada@example.com")).get();
  expectType<Equal<typeof ada, { id: number; email: string } | undefined>>();
  db.transaction((tx) => {
    const row = tx.select().from(users).where(eq(users.id, 1)).get();
    if (row) tx.update(users).set({ email: "ada@example.org" }).where(eq(users.id, row.id)).run();
  }, { behavior: "immediate" });
}

// --- Drizzle (Node) ---------------------------------------------------------
{
  const db = drizzleNode(new HardenedDb("data/app.db"));
  migrateNode(db, { migrationsFolder: "drizzle" });
}

// --- Kysely -----------------------------------------------------------------
{
  interface DB { users: { id: Generated<number>; email: string } }
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new HardenedDb("data/app.db") }) });
  await db.transaction().execute(async (trx) => {
    const count = await trx.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    await trx.insertInto("users").values({ email: `user${count.n}@example.com` }).execute();
  });
  for await (const user of db.selectFrom("users").selectAll().stream()) console.log(user.email);
  await db.destroy();
}
