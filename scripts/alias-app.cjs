// The alias app of scripts/install-test.sh: a project whose package.json has
//   "better-sqlite3": <the hardened-sqlite tarball>   (published form: "npm:hardened-sqlite@^0.1.0")
//   "overrides": { "better-sqlite3": "$better-sqlite3" }
// runs knex, TypeORM, Drizzle and Prisma (@prisma/adapter-better-sqlite3) through their better-sqlite3
// drivers: create a table, insert, select, a transaction committed and one rolled back.
// Run as `<runtime> alias-app.cjs <bun|node|node22>` (each runtime uses its own database files);
// prints "alias <name> <runtime> ok" per library, or "alias <name> <runtime> FAILED" with the error.
// Prisma needs ./prisma-client.cjs: the client `prisma generate` writes for alias-app.prisma, bundled
// to CommonJS by install-test.sh.
"use strict";
require("reflect-metadata");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

/** The runtime this run is labelled with; checked against the one running it by the identity step. */
const runtime = process.argv[2];
if (!["bun", "node", "node22"].includes(runtime)) {
  console.error(`usage: <runtime> alias-app.cjs <bun|node|node22>, not ${JSON.stringify(runtime)}`);
  process.exit(2);
}

const results = [];
async function step(name, fn) {
  try {
    const detail = await fn();
    results.push(true);
    console.log(`alias ${name} ${runtime} ok${detail ? ` (${detail})` : ""}`);
  } catch (e) {
    results.push(false);
    console.log(`alias ${name} ${runtime} FAILED`);
    console.log(String((e && e.stack) || e).replace(/^/gm, "    "));
  }
}

/** A database file of its own per library and runtime, removed (with its sidecars) if a run left one. */
const dbFile = (name) => {
  const file = path.join(__dirname, `${name}-${runtime}.db`);
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
  return file;
};
const version = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;

(async () => {
  await step("identity", () => {
    // The label matches the runtime running this.
    assert.equal(runtime === "bun", typeof process.versions.bun === "string", `labelled ${runtime}, running ${process.versions.bun ? "bun" : "node"}`);
    if (runtime === "node22") assert.ok(Number(process.versions.node.split(".")[0]) >= 22, `node22 is Node ${process.versions.node}`);
    const Database = require("better-sqlite3");
    assert.equal(typeof Database, "function");
    // hardened-sqlite's module shape: the constructor, with HardenedDb (itself) and SqliteError on it.
    assert.equal(typeof Database.HardenedDb, "function");
    assert.ok(new Database(":memory:") instanceof Database.HardenedDb);
    assert.equal(typeof Database.SqliteError, "function");
    const pkg = require("better-sqlite3/package.json");
    assert.equal(pkg.name, "hardened-sqlite");
    // better-sqlite3's own package (and so its addon) is nowhere in the tree.
    const found = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
        else if (e.name === "better_sqlite3.node") found.push(p);
      }
    };
    walk(path.join(__dirname, "node_modules"));
    assert.deepEqual(found, []);
    // The addon loaded is hardened-sqlite's, from the platform package.
    const addons = Object.keys(require.cache).filter((f) => f.endsWith(".node"));
    assert.ok(addons.some((f) => f.endsWith("hardened-sqlite.linux-x64-gnu.node")), `addons loaded: ${addons}`);
    assert.ok(!addons.some((f) => f.includes("better_sqlite3")), `addons loaded: ${addons}`);
    const under = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`;
    return `better-sqlite3 is ${pkg.name}@${pkg.version}, under ${under}`;
  });

  await step("knex", async () => {
    const knex = require("knex")({ client: "better-sqlite3", connection: { filename: dbFile("knex") }, useNullAsDefault: true });
    try {
      await knex.schema.createTable("users", (t) => { t.increments("id"); t.string("email").notNullable().unique(); });
      await knex("users").insert({ email: "ada@example.com" });
      await knex.transaction(async (trx) => {
        await trx("users").insert({ email: "bob@example.com" });
        await trx("users").where({ email: "ada@example.com" }).update({ email: "ada@example.org" });
      });
      await assert.rejects(knex.transaction(async (trx) => {
        await trx("users").insert({ email: "eve@example.com" });
        throw new Error("roll back");
      }), /roll back/);
      const rows = await knex("users").select("id", "email").orderBy("id");
      assert.deepEqual(rows, [{ id: 1, email: "ada@example.org" }, { id: 2, email: "bob@example.com" }]);
      return `knex@${version("knex")}`;
    } finally {
      await knex.destroy();
    }
  });

  await step("typeorm", async () => {
    const { DataSource, EntitySchema } = require("typeorm");
    const User = new EntitySchema({
      name: "User",
      tableName: "users",
      columns: { id: { type: Number, primary: true, generated: true }, email: { type: String, unique: true } },
    });
    const ds = new DataSource({ type: "better-sqlite3", database: dbFile("typeorm"), entities: [User], synchronize: true });
    await ds.initialize();
    try {
      const repo = ds.getRepository(User);
      await repo.save({ email: "ada@example.com" });
      await ds.transaction(async (em) => {
        await em.getRepository(User).save({ email: "bob@example.com" });
        await em.getRepository(User).update({ email: "ada@example.com" }, { email: "ada@example.org" });
      });
      await assert.rejects(ds.transaction(async (em) => {
        await em.getRepository(User).save({ email: "eve@example.com" });
        throw new Error("roll back");
      }), /roll back/);
      const rows = await repo.find({ order: { id: "ASC" } });
      assert.deepEqual(rows.map((r) => ({ ...r })), [{ id: 1, email: "ada@example.org" }, { id: 2, email: "bob@example.com" }]);
      return `typeorm@${version("typeorm")}`;
    } finally {
      await ds.destroy();
    }
  });

  await step("drizzle", async () => {
    const { drizzle } = await import("drizzle-orm/better-sqlite3");
    const { sqliteTable, integer, text } = await import("drizzle-orm/sqlite-core");
    const { eq, sql } = await import("drizzle-orm");
    const users = sqliteTable("users", { id: integer("id").primaryKey({ autoIncrement: true }), email: text("email").notNull().unique() });
    const db = drizzle(dbFile("drizzle")); // drizzle constructs the connection: `new (require("better-sqlite3"))(file)`
    assert.ok(db.$client instanceof require("better-sqlite3").HardenedDb);
    db.run(sql`create table users (id integer primary key autoincrement, email text not null unique)`);
    db.insert(users).values({ email: "ada@example.com" }).run();
    db.transaction((tx) => {
      tx.insert(users).values({ email: "bob@example.com" }).run();
      tx.update(users).set({ email: "ada@example.org" }).where(eq(users.email, "ada@example.com")).run();
    });
    assert.throws(() => db.transaction((tx) => {
      tx.insert(users).values({ email: "eve@example.com" }).run();
      tx.rollback();
    }));
    const rows = db.select().from(users).orderBy(users.id).all();
    assert.deepEqual(rows, [{ id: 1, email: "ada@example.org" }, { id: 2, email: "bob@example.com" }]);
    db.$client.close();
    return `drizzle-orm@${version("drizzle-orm")}`;
  });

  await step("prisma", async () => {
    const { PrismaClient, Prisma } = require("./prisma-client.cjs");
    const { PrismaBetterSqlite3 } = require("@prisma/adapter-better-sqlite3");
    const Database = require("better-sqlite3");
    const file = dbFile("prisma");
    // The adapter opens `new (require("better-sqlite3"))(path, options)` with every key but `url`:
    // fileMode and migrations are hardened-sqlite's own options (better-sqlite3 has neither). No
    // `prisma migrate` (it runs Prisma's schema engine binary): the migration creates the table
    // alias-app.prisma maps, as docs/orms.md shows.
    const options = { fileMode: 0o640 };
    const migrations = [{ version: 1, name: "users", sql: "create table users (id integer primary key autoincrement, email text not null unique)" }];
    const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}`, ...options, migrations }) });
    try {
      // Prisma's connection is hardened-sqlite's: migrated, WAL (better-sqlite3 leaves "delete"), the file made with fileMode.
      assert.deepEqual(await prisma.$queryRawUnsafe("pragma user_version"), [{ user_version: 1n }]);
      assert.deepEqual(await prisma.$queryRawUnsafe("pragma journal_mode"), [{ journal_mode: "wal" }]);
      assert.equal(fs.statSync(file).mode & 0o777, 0o640);
      await prisma.user.create({ data: { email: "ada@example.com" } });
      await prisma.$transaction(async (tx) => {
        assert.equal(await tx.user.count(), 1);
        // The adapter's bare BEGIN ran as BEGIN IMMEDIATE (upgradeDeferredBegin): before this transaction
        // writes anything, another connection already cannot take the write lock.
        const other = new Database(file, { ...options, busyTimeout: 0 });
        try {
          assert.throws(() => other.exec("begin immediate"), { code: "SQLITE_BUSY" });
        } finally {
          other.close();
        }
        await tx.user.create({ data: { email: "bob@example.com" } });
        await tx.user.update({ where: { email: "ada@example.com" }, data: { email: "ada@example.org" } });
      });
      await assert.rejects(prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { email: "eve@example.com" } });
        throw new Error("roll back");
      }), /roll back/);
      // hardened-sqlite's SqliteError code (SQLITE_CONSTRAINT_UNIQUE) is what the adapter turns into P2002.
      await assert.rejects(prisma.user.create({ data: { email: "bob@example.com" } }), (e) => {
        assert.ok(e instanceof Prisma.PrismaClientKnownRequestError, String(e));
        assert.equal(e.code, "P2002");
        assert.equal(e.meta.driverAdapterError.cause.originalCode, "SQLITE_CONSTRAINT_UNIQUE");
        return true;
      });
      const rows = await prisma.user.findMany({ orderBy: { id: "asc" } });
      assert.deepEqual(rows, [{ id: 1, email: "ada@example.org" }, { id: 2, email: "bob@example.com" }]);
    } finally {
      await prisma.$disconnect();
    }
    // The rows are in the file, as hardened-sqlite's own API reads them.
    const db = new Database(file, { ...options, readonly: true });
    try {
      assert.deepEqual(db.prepare("select id, email from users order by id").all(), [{ id: 1, email: "ada@example.org" }, { id: 2, email: "bob@example.com" }]);
    } finally {
      db.close();
    }
    return `prisma@${version("prisma")}, @prisma/client@${version("@prisma/client")}, @prisma/adapter-better-sqlite3@${version("@prisma/adapter-better-sqlite3")}`;
  });

  process.exitCode = results.every(Boolean) ? 0 : 1;
})();
