// Kysely with `new SqliteDialect({ database: new HardenedDb(path) })`: CRUD,
// transactions, savepoints, stream() and the migrator, on a fresh database per test.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { Kysely, SqliteDialect, Migrator, sql, type Generated, type Migration } from "kysely";
import { HardenedDb, SqliteError } from "../../index.js";
import { tempDir } from "../helpers";

interface Database {
  users: { id: Generated<number>; email: string; name: string | null };
  posts: { id: Generated<number>; user_id: number; title: string };
}

const MIGRATIONS: Record<string, Migration> = {
  "2025_01_01_users": {
    async up(db) {
      await db.schema.createTable("users")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("name", "text")
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("users").execute();
    },
  },
  "2025_01_02_posts": {
    async up(db) {
      await db.schema.createTable("posts")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("title", "text", (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("posts").execute();
    },
  },
};

let tmp: ReturnType<typeof tempDir>;
let client: HardenedDb;
let db: Kysely<Database>;

function migrator(kysely: Kysely<any>, migrations = MIGRATIONS) {
  return new Migrator({ db: kysely, provider: { getMigrations: async () => migrations } });
}

beforeEach(async () => {
  tmp = tempDir("hs-kysely");
  client = new HardenedDb(tmp.path("app.db"));
  db = new Kysely<Database>({ dialect: new SqliteDialect({ database: client }) });
  const { error } = await migrator(db).migrateToLatest();
  if (error) throw error;
});
afterEach(async () => {
  await db.destroy(); // closes the HardenedDb
  tmp.cleanup();
});

describe("Kysely migrator", () => {
  it("should apply every migration once and migrate down", async () => {
    const tables = await db.introspection.getTables();
    expect(tables.map((t) => t.name).sort()).toEqual(["posts", "users"]);
    expect(client.prepare("SELECT name FROM kysely_migration ORDER BY name").pluck().all()).toEqual(Object.keys(MIGRATIONS));
    const again = await migrator(db).migrateToLatest();
    expect(again).toEqual({ error: undefined, results: [] });
    const down = await migrator(db).migrateDown();
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual([["2025_01_02_posts", "Down", "Success"]]);
    expect(client.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'posts'").pluck().get()).toBe(0);
    expect(client.inTransaction).toBe(false);
  });

  // Kysely's SQLite adapter runs migrations outside any transaction
  // (supportsTransactionalDdl is false): a failed one is reported and left
  // unrecorded, but what it did before failing stays.
  it("should report a failing migration with its SqliteError and leave it unrecorded", async () => {
    const broken = { ...MIGRATIONS, "2025_01_03_broken": { async up(k: Kysely<any>) {
      await k.schema.createTable("tags").addColumn("id", "integer").execute();
      await sql`INSERT INTO no_such_table VALUES (1)`.execute(k);
    } } };
    const { error, results } = await migrator(db, broken).migrateToLatest();
    expect(error).toBeInstanceOf(SqliteError);
    expect((error as SqliteError).code).toBe("SQLITE_ERROR");
    expect(results?.map((r) => r.status)).toEqual(["Error"]);
    expect(client.prepare("SELECT count(*) FROM kysely_migration WHERE name = '2025_01_03_broken'").pluck().get()).toBe(0);
    expect(client.inTransaction).toBe(false);
  });
});

describe("Kysely queries", () => {
  it("should insert, select, update and delete", async () => {
    const inserted = await db.insertInto("users").values({ email: "ada@x", name: "Ada" }).executeTakeFirstOrThrow();
    expect(inserted.insertId).toBe(1n);
    const ada = await db.insertInto("users").values({ email: "bob@x", name: null }).returningAll().executeTakeFirstOrThrow();
    expect(ada).toEqual({ id: 2, email: "bob@x", name: null });
    const updated = await db.updateTable("users").set({ name: "Bob" }).where("email", "=", "bob@x").executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(1n);
    await db.insertInto("posts").values({ user_id: 2, title: "hello" }).execute();
    const joined = await db.selectFrom("posts").innerJoin("users", "users.id", "posts.user_id").select(["users.name", "posts.title"]).execute();
    expect(joined).toEqual([{ name: "Bob", title: "hello" }]);
    const deleted = await db.deleteFrom("users").where("id", "=", 2).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
    expect(await db.selectFrom("posts").selectAll().execute()).toEqual([]); // ON DELETE CASCADE: foreign_keys is on
    const { n } = await db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(n).toBe(1);
  });

  it("should reject a constraint violation with SqliteError", async () => {
    await db.insertInto("users").values({ email: "a@x" }).execute();
    const e = await db.insertInto("users").values({ email: "a@x" }).execute().catch((error) => error);
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
  });

  it("should stream rows through iterate() and reset the statement when the consumer stops early", async () => {
    await db.insertInto("users").values(Array.from({ length: 50 }, (_, i) => ({ email: `u${i}@x` }))).execute();
    const all: string[] = [];
    for await (const row of db.selectFrom("users").select("email").orderBy("id").stream()) all.push(row.email);
    expect(all.length).toBe(50);
    const firstThree: number[] = [];
    for await (const row of db.selectFrom("users").select("id").orderBy("id").stream()) {
      firstThree.push(row.id);
      if (firstThree.length === 3) break; // return() on the iterator
    }
    expect(firstThree).toEqual([1, 2, 3]);
    expect(client.inTransaction).toBe(false);
    // The connection is free again: writes and reads go through.
    await db.deleteFrom("users").where("id", ">", 10).execute();
    expect((await db.selectFrom("users").select("id").execute()).length).toBe(10);
  });
});

describe("Kysely transactions", () => {
  it("should commit, and roll back on throw", async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values({ email: "kept@x" }).execute();
      expect(client.inTransaction).toBe(true);
    });
    const failed = await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values({ email: "gone@x" }).execute();
      throw new Error("boom");
    }).catch((error) => error);
    expect(failed.message).toBe("boom");
    expect(await db.selectFrom("users").select("email").execute()).toEqual([{ email: "kept@x" }]);
    expect(client.inTransaction).toBe(false);
  });

  it("should roll back to savepoints in a controlled transaction", async () => {
    const trx = await db.startTransaction().execute();
    await trx.insertInto("users").values({ email: "before@x" }).execute();
    const sp = await trx.savepoint("sp1").execute();
    await sp.insertInto("users").values({ email: "after@x" }).execute();
    await sp.rollbackToSavepoint("sp1").execute();
    await trx.commit().execute();
    expect(await db.selectFrom("users").select("email").execute()).toEqual([{ email: "before@x" }]);
  });

  it("should take the write lock at Kysely's bare `begin` (upgradeDeferredBegin, on by default)", async () => {
    const other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
    await db.transaction().execute(async () => {
      const e = (() => { try { other.prepare("INSERT INTO users (email) VALUES ('x')").run(); } catch (error) { return error as any; } })();
      expect(e?.code).toBe("SQLITE_BUSY");
    });
    other.close();
  });
});
