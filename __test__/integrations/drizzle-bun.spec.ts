// Drizzle ORM under Bun: `drizzle(new HardenedDb(path))` through the
// drizzle-orm/bun-sqlite driver and its migrator, on a fresh database per test.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { eq, sql, asc } from "drizzle-orm";
import { HardenedDb, SqliteError } from "../../index.js";
import { tempDir, thrown } from "../helpers";
import * as schema from "./fixtures/drizzle-schema.mjs";

const { users, posts } = schema;
const MIGRATIONS = join(import.meta.dir, "fixtures", "drizzle-migrations");

let tmp: ReturnType<typeof tempDir>;
let client: HardenedDb;
let db: ReturnType<typeof open>;

// bun:sqlite's Database type lists members Drizzle never calls; HardenedDb has the ones it does.
const open = (conn: HardenedDb) => drizzle(conn as any, { schema });

beforeEach(() => {
  tmp = tempDir("hs-drizzle-bun");
  client = new HardenedDb(tmp.path("app.db"));
  db = open(client);
  migrate(db, { migrationsFolder: MIGRATIONS });
});
afterEach(() => {
  client.close();
  tmp.cleanup();
});


describe("drizzle-orm/bun-sqlite migrator", () => {
  it("should apply a drizzle-kit migrations folder once, recording each migration", () => {
    const tables = client.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    expect(tables).toEqual(["__drizzle_migrations", "posts", "users"]);
    expect(client.prepare("SELECT name FROM pragma_table_info('users')").pluck().all()).toContain("created_at");
    const applied = client.prepare("SELECT created_at FROM __drizzle_migrations ORDER BY id").pluck().all();
    expect(applied).toEqual([1735689600000, 1735776000000]);
    migrate(db, { migrationsFolder: MIGRATIONS }); // already applied: nothing to do
    expect(client.prepare("SELECT count(*) FROM __drizzle_migrations").pluck().get()).toBe(2);
    expect(client.inTransaction).toBe(false);
  });

  it("should roll the whole batch back when a migration fails", () => {
    const fresh = new HardenedDb(tmp.path("broken.db"));
    const broken = join(tmp.dir, "broken");
    require("node:fs").cpSync(MIGRATIONS, broken, { recursive: true });
    require("node:fs").writeFileSync(join(broken, "0001_create_posts.sql"), "CREATE TABLE posts (id INTEGER);\n--> statement-breakpoint\nCREATE TABLE users (id INTEGER);");
    const e = thrown(() => migrate(open(fresh), { migrationsFolder: broken }));
    expect(String(e.cause?.message ?? e.message)).toContain("already exists");
    expect(fresh.inTransaction).toBe(false);
    expect(fresh.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('users', 'posts')").pluck().get()).toBe(0);
    fresh.close();
  });
});

describe("drizzle-orm/bun-sqlite queries", () => {
  it("should insert, select, update and delete", () => {
    const created = new Date("2025-01-02T03:04:05.000Z");
    const [ada] = db.insert(users).values({ email: "ada@example.com", name: "Ada", createdAt: created }).returning().all();
    expect(ada).toEqual({ id: 1, email: "ada@example.com", name: "Ada", createdAt: created });
    db.insert(users).values([{ email: "bob@example.com" }, { email: "cy@example.com", name: "Cy" }]).run();
    expect(db.select({ email: users.email }).from(users).orderBy(asc(users.id)).all()).toEqual([
      { email: "ada@example.com" }, { email: "bob@example.com" }, { email: "cy@example.com" },
    ]);
    const updated = db.update(users).set({ name: "Bob" }).where(eq(users.email, "bob@example.com")).run();
    expect(updated.changes).toBe(1);
    expect(db.select().from(users).where(eq(users.id, 2)).get()?.name).toBe("Bob");
    const removed = db.delete(users).where(eq(users.id, 3)).returning({ id: users.id }).all();
    expect(removed).toEqual([{ id: 3 }]);
    expect(db.select({ n: sql<number>`count(*)` }).from(users).get()).toEqual({ n: 2 });
  });

  it("should serve the .get(), .all() and .values() paths and raw sql helpers", () => {
    db.insert(users).values([{ email: "a@x" }, { email: "b@x" }]).run();
    expect(db.select({ id: users.id, email: users.email }).from(users).orderBy(users.id).values()).toEqual([[1, "a@x"], [2, "b@x"]]);
    expect(db.select().from(users).where(eq(users.email, "nobody")).get()).toBeUndefined();
    expect(db.get<{ n: number }>(sql`SELECT count(*) AS n FROM users`)).toEqual([2]);
    expect(db.all(sql`SELECT email FROM ${users} ORDER BY id`)).toEqual([{ email: "a@x" }, { email: "b@x" }]);
    expect(db.values(sql`SELECT id FROM ${users} ORDER BY id`)).toEqual([[1], [2]]);
    expect(db.run(sql`UPDATE ${users} SET name = 'n'`).changes).toBe(2);
  });

  it("should run prepared queries with placeholders", () => {
    db.insert(users).values([{ email: "a@x" }, { email: "b@x" }]).run();
    const byId = db.select().from(users).where(eq(users.id, sql.placeholder("id"))).prepare();
    expect(byId.get({ id: 2 })?.email).toBe("b@x");
    expect(byId.all({ id: 1 }).map((u) => u.email)).toEqual(["a@x"]);
    expect(byId.get({ id: 9 })).toBeUndefined();
  });

  it("should map booleans, foreign keys and relational queries", () => {
    const [u] = db.insert(users).values({ email: "a@x" }).returning({ id: users.id }).all();
    db.insert(posts).values([{ userId: u.id, title: "draft" }, { userId: u.id, title: "out", published: true }]).run();
    const found = db.query.users.findFirst({ with: { posts: { orderBy: [asc(posts.id)] } } }).sync();
    expect(found?.posts.map((p) => [p.title, p.published])).toEqual([["draft", false], ["out", true]]);
    // foreign_keys=ON is part of the hardened defaults: the cascade runs.
    db.delete(users).where(eq(users.id, u.id)).run();
    expect(db.select().from(posts).all()).toEqual([]);
  });

  it("should surface SQLite failures as SqliteError (the cause of Drizzle's error for db.run(sql))", () => {
    db.insert(users).values({ email: "a@x" }).run();
    const e = thrown(() => db.insert(users).values({ email: "a@x" }).run());
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    const raw = thrown(() => db.run(sql`INSERT INTO ${users} (email) VALUES ('a@x')`));
    expect(raw.constructor.name).toBe("DrizzleError");
    expect(raw.cause).toBeInstanceOf(SqliteError);
    expect(raw.cause.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
  });
});

describe("drizzle-orm/bun-sqlite transactions", () => {
  it("should commit, and roll back on throw and on tx.rollback()", () => {
    const id = db.transaction((tx) => {
      expect(client.inTransaction).toBe(true);
      return tx.insert(users).values({ email: "kept@x" }).returning({ id: users.id }).get()!.id;
    });
    expect(id).toBe(1);
    expect(thrown(() => db.transaction((tx) => { tx.insert(users).values({ email: "gone@x" }).run(); throw new Error("boom"); })).message).toBe("boom");
    expect(thrown(() => db.transaction((tx) => { tx.insert(users).values({ email: "gone2@x" }).run(); tx.rollback(); })).constructor.name).toBe("TransactionRollbackError");
    expect(db.select({ email: users.email }).from(users).all()).toEqual([{ email: "kept@x" }]);
    expect(client.inTransaction).toBe(false);
  });

  it("should nest transactions as savepoints", () => {
    db.transaction((tx) => {
      tx.insert(users).values({ email: "outer@x" }).run();
      expect(thrown(() => tx.transaction((inner) => {
        inner.insert(users).values({ email: "inner-rolled-back@x" }).run();
        throw new Error("inner failed");
      })).message).toBe("inner failed");
      tx.transaction((inner) => { inner.insert(users).values({ email: "inner@x" }).run(); });
    });
    expect(db.select({ email: users.email }).from(users).orderBy(users.id).values()).toEqual([["outer@x"], ["inner@x"]]);
  });

  it("should take the write lock at begin by default (Drizzle's .deferred is upgraded), and not with upgradeDeferredBegin: false", () => {
    const other = new HardenedDb(tmp.path("app.db"), { busyTimeout: 0 });
    const otherWrite = other.prepare("INSERT INTO users (email) VALUES (?)");
    db.transaction(() => {
      expect(thrown(() => otherWrite.run("while-default@x")).code).toBe("SQLITE_BUSY");
    });
    const lazyClient = new HardenedDb(tmp.path("app.db"), { upgradeDeferredBegin: false });
    drizzle(lazyClient).transaction(() => {
      expect(otherWrite.run("while-deferred@x").changes).toBe(1); // no lock taken yet
    });
    lazyClient.close();
    other.close();
  });
});
