// The alias app of scripts/install-test.sh: a project whose package.json has
//   "better-sqlite3": <the hardened-sqlite tarball>   (published form: "npm:hardened-sqlite@^0.1.0")
//   "overrides": { "better-sqlite3": "$better-sqlite3" }
// runs knex, TypeORM and Drizzle through their better-sqlite3 drivers: create a table, insert,
// select, a transaction. Prints "alias <name> ok" per library, or "alias <name> FAILED" with the error.
"use strict";
require("reflect-metadata");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const results = [];
async function step(name, fn) {
  try {
    const detail = await fn();
    results.push(true);
    console.log(`alias ${name} ok${detail ? ` (${detail})` : ""}`);
  } catch (e) {
    results.push(false);
    console.log(`alias ${name} FAILED`);
    console.log(String((e && e.stack) || e).replace(/^/gm, "    "));
  }
}

const dbFile = (name) => path.join(__dirname, `${name}.db`);
const version = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;

(async () => {
  await step("identity", () => {
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
    return `better-sqlite3 is ${pkg.name}@${pkg.version}`;
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

  process.exitCode = results.every(Boolean) ? 0 : 1;
})();
