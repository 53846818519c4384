// The statement API (better-sqlite3 compatible, plus values()): parameters,
// value conversion, row modes, iteration and misuse errors.
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb, SqliteError } from "../index.js";
import { thrown } from "./helpers";

let db: HardenedDb;
beforeEach(() => {
  db = new HardenedDb(":memory:");
  db.exec(`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER, score REAL, avatar BLOB);
           INSERT INTO people (name, age, score, avatar) VALUES ('ada', 36, 9.5, x'0102'), ('bob', 41, NULL, NULL), ('cy', 7, 1.25, x'');`);
});
afterEach(() => db.close());


describe("run()", () => {
  it("should return changes and lastInsertRowid", () => {
    const info = db.prepare("INSERT INTO people (name, age) VALUES (?, ?)").run("dee", 20);
    expect(info).toEqual({ changes: 1, lastInsertRowid: 4 });
    expect(db.prepare("UPDATE people SET age = age + 1").run().changes).toBe(4);
    expect(db.prepare("SELECT 1").run().changes).toBe(0);
  });

  it("should run INSERT ... RETURNING to completion", () => {
    const info = db.prepare("INSERT INTO people (name) VALUES ('x'), ('y') RETURNING id").run();
    expect(info.changes).toBe(2);
    expect(db.prepare("SELECT count(*) FROM people").pluck().get()).toBe(5);
  });

  it("should throw SqliteError with the extended code on a constraint", () => {
    const e = thrown(() => db.prepare("INSERT INTO people (name) VALUES ('ada')").run());
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    expect(e.message).toContain("UNIQUE constraint failed: people.name");
    expect(thrown(() => db.prepare("INSERT INTO people (name) VALUES (NULL)").run()).code).toBe("SQLITE_CONSTRAINT_NOTNULL");
  });
});

describe("get(), all(), iterate(), values()", () => {
  it("should return rows as objects and undefined when none", () => {
    expect(db.prepare("SELECT id, name, age, score FROM people WHERE id = ?").get(1)).toEqual({ id: 1, name: "ada", age: 36, score: 9.5 });
    expect(db.prepare("SELECT * FROM people WHERE id = ?").get(99)).toBeUndefined();
    expect(db.prepare("SELECT name FROM people ORDER BY id").all()).toEqual([{ name: "ada" }, { name: "bob" }, { name: "cy" }]);
    expect(db.prepare("SELECT name FROM people WHERE id > 10").all()).toEqual([]);
  });

  it("should return rows as arrays from values()", () => {
    expect(db.prepare("SELECT id, name FROM people ORDER BY id").values()).toEqual([[1, "ada"], [2, "bob"], [3, "cy"]]);
  });

  it("should iterate lazily and reset the statement on return()", () => {
    const stmt = db.prepare("SELECT name FROM people ORDER BY id");
    const seen: string[] = [];
    for (const row of stmt.iterate() as Iterable<{ name: string }>) {
      seen.push(row.name);
      expect(stmt.busy).toBe(true);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(["ada", "bob"]);
    expect(stmt.busy).toBe(false);
    expect(stmt.all().length).toBe(3);
  });

  it("should refuse a second execution while an iterator is open", () => {
    const stmt = db.prepare("SELECT name FROM people");
    const it = stmt.iterate();
    it.next();
    const e = thrown(() => stmt.all());
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe("HARDENED_STATEMENT_BUSY");
    it.return!(undefined);
    expect(stmt.all().length).toBe(3);
  });

  it("should let other statements read during an iteration, and refuse writes until it ends, as better-sqlite3 does", () => {
    const count = db.prepare("SELECT count(*) FROM people").pluck();
    const update = db.prepare("UPDATE people SET age = ? WHERE id = ?");
    const ids: number[] = [];
    for (const row of db.prepare("SELECT id FROM people").iterate() as Iterable<{ id: number }>) {
      expect(count.get()).toBe(3);
      expect(thrown(() => update.run(row.id * 100, row.id)).code).toBe("HARDENED_DATABASE_BUSY");
      ids.push(row.id);
    }
    // The usual way: read the rows first (all()), then write.
    for (const id of ids) update.run(id * 100, id);
    expect(db.prepare("SELECT age FROM people ORDER BY id").pluck().all()).toEqual([100, 200, 300]);
  });

  it("should refuse get/all/iterate on a statement that returns no data", () => {
    const stmt = db.prepare("DELETE FROM people");
    for (const call of [() => stmt.get(), () => stmt.all(), () => stmt.iterate().next()]) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_NOT_A_READER");
    }
    expect(db.prepare("SELECT count(*) FROM people").pluck().get()).toBe(3);
  });

  it("should follow a column list changed by ALTER TABLE", () => {
    const stmt = db.prepare("SELECT * FROM people WHERE id = 1");
    expect(Object.keys(stmt.get() as object)).toEqual(["id", "name", "age", "score", "avatar"]);
    db.exec("ALTER TABLE people ADD COLUMN email TEXT DEFAULT 'a@b'");
    expect((stmt.get() as any).email).toBe("a@b");
  });
});

describe("row modes", () => {
  it("should pluck, raw and expand, and toggle back to objects", () => {
    const stmt = db.prepare("SELECT p.id, p.name, 1 + 1 AS two FROM people p WHERE p.id = 1");
    expect(stmt.pluck().get()).toBe(1);
    expect(stmt.raw().get()).toEqual([1, "ada", 2]);
    expect(stmt.expand().get()).toEqual({ people: { id: 1, name: "ada" }, $: { two: 2 } });
    expect(stmt.expand(false).get()).toEqual({ id: 1, name: "ada", two: 2 });
  });

  it("should refuse row modes on a statement that returns no data", () => {
    const e = thrown(() => db.prepare("DELETE FROM people").pluck());
    expect(e).toBeInstanceOf(TypeError);
  });

  it("should describe columns", () => {
    expect(db.prepare("SELECT name, age * 2 AS double FROM people").columns()).toEqual([
      { name: "name", column: "name", table: "people", database: "main", type: "TEXT" },
      { name: "double", column: null, table: null, database: null, type: null },
    ]);
  });

  it("should keep a column named __proto__ as a plain property", () => {
    const row = db.prepare("SELECT 1 AS __proto__, 2 AS b").get() as any;
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(["__proto__", "b"]);
  });
});

describe("parameters", () => {
  it("should bind positional, numbered, named and array parameters", () => {
    expect(db.prepare("SELECT ? + ?").pluck().get(1, 2)).toBe(3);
    expect(db.prepare("SELECT ?1 || ?2").pluck().get("a", "b")).toBe("ab");
    expect(db.prepare("SELECT ? + ?").pluck().get([3, 4])).toBe(7);
    expect(db.prepare("SELECT :a || @b || $c").pluck().get({ a: "x", b: "y", c: "z" })).toBe("xyz");
    expect(db.prepare("SELECT $a").pluck().get({ $a: "prefixed" })).toBe("prefixed");
    expect(db.prepare("SELECT ? || :name || ?").pluck().get("<", { name: "mid" }, ">")).toBe("<mid>");
  });

  it("should refuse too many, too few and missing named parameters", () => {
    const many = thrown(() => db.prepare("SELECT ?").get(1, 2));
    expect([many.constructor, many.code]).toEqual([RangeError, "HARDENED_PARAMETER_COUNT"]);
    expect(thrown(() => db.prepare("SELECT ?, ?").get(1)).message).toContain("Too few");
    const missing = thrown(() => db.prepare("SELECT :a, :b").get({ a: 1 }));
    expect(missing.code).toBe("HARDENED_MISSING_PARAMETER");
    expect(missing.message).toContain(":b");
    // No object at all: a TypeError, as in better-sqlite3.
    const none = thrown(() => db.prepare("SELECT :a").get());
    expect([none.constructor, none.code]).toEqual([TypeError, "HARDENED_MISSING_PARAMETER"]);
    expect(none.message).toContain(":a");
    expect(thrown(() => db.prepare("SELECT ?").get({ a: 1 })).code).toBe("HARDENED_PARAMETER_COUNT");
  });

  it("should bind for good with bind() and then refuse arguments", () => {
    const stmt = db.prepare("SELECT name FROM people WHERE id = ?").pluck().bind(2);
    expect(stmt.get()).toBe("bob");
    expect(thrown(() => stmt.get(1)).code).toBe("HARDENED_ALREADY_BOUND");
  });

  it("should refuse values SQLite cannot store", () => {
    for (const value of [new Date(), { a: 1 }.constructor, Symbol("s"), new Map()]) {
      const e = thrown(() => db.prepare("SELECT ?").get(value));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.code).toBe("HARDENED_INVALID_ARGUMENT");
    }
  });
});

describe("values", () => {
  it("should round-trip every JS type", () => {
    const stmt = db.prepare("SELECT ? AS v, typeof(?) AS t");
    const cases: [unknown, unknown, string][] = [
      [null, null, "null"],
      [undefined, null, "null"],
      // Every number binds as REAL, as in better-sqlite3; a bigint as INTEGER.
      [42, 42, "real"],
      [-0, -0, "real"],
      [1.5, 1.5, "real"],
      [2 ** 53 - 1, 2 ** 53 - 1, "real"],
      [1e300, 1e300, "real"],
      [123n, 123, "integer"],
      ["héllo ✓", "héllo ✓", "text"],
      ["", "", "text"],
      [true, 1, "integer"],
      [false, 0, "integer"],
      [Buffer.from([0, 1, 255]), Buffer.from([0, 1, 255]), "blob"],
      [new Uint8Array([7, 8]), Buffer.from([7, 8]), "blob"],
      [Buffer.alloc(0), Buffer.alloc(0), "blob"],
    ];
    for (const [input, output, type] of cases) {
      expect(stmt.get(input, input)).toEqual({ v: output, t: type });
    }
    const blob = (db.prepare("SELECT avatar FROM people WHERE id = 1").pluck().get()) as Buffer;
    expect(Buffer.isBuffer(blob)).toBe(true);
  });

  it("should never round an integer beyond 2^53: RangeError by default, bigint with safeIntegers", () => {
    db.exec("CREATE TABLE big (v INTEGER); INSERT INTO big VALUES (9007199254740993)");
    const stmt = db.prepare("SELECT v FROM big");
    const e = thrown(() => stmt.get());
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe("HARDENED_INTEGER_OVERFLOW");
    expect(e.message).toContain('"v"');
    expect(e.message).toContain("safeIntegers");
    expect(stmt.safeIntegers().get()).toEqual({ v: 9007199254740993n });
    expect(stmt.safeIntegers(false).pluck().get.bind(stmt)).toThrow(RangeError);
    expect(db.prepare("SELECT 2").safeIntegers().pluck().get()).toBe(2n);
    expect(db.prepare("INSERT INTO big VALUES (?)").safeIntegers().run(2n ** 62n).lastInsertRowid).toBe(2n);
    expect(() => db.prepare("SELECT ?").get(2n ** 64n)).toThrow(RangeError);
  });

  it("should apply defaultSafeIntegers() to statements prepared afterwards", () => {
    db.defaultSafeIntegers();
    expect(db.prepare("SELECT 5").pluck().get()).toBe(5n);
    db.defaultSafeIntegers(false);
    expect(db.prepare("SELECT 5").pluck().get()).toBe(5);
    const viaOption = new HardenedDb(":memory:", { safeIntegers: true });
    expect(viaOption.prepare("SELECT 5").pluck().get()).toBe(5n);
    viaOption.close();
  });
});

describe("statement properties and misuse", () => {
  it("should expose source, reader and readonly", () => {
    const select = db.prepare("SELECT 1");
    const insert = db.prepare("INSERT INTO people (name) VALUES ('q') RETURNING id");
    expect([select.source, select.reader, select.readonly]).toEqual(["SELECT 1", true, true]);
    expect([insert.reader, insert.readonly]).toEqual([true, false]);
    expect(db.prepare("DELETE FROM people").reader).toBe(false);
  });

  it("should refuse zero or several statements in prepare()", () => {
    expect(thrown(() => db.prepare("SELECT 1; SELECT 2")).code).toBe("HARDENED_MULTIPLE_STATEMENTS");
    expect(thrown(() => db.prepare("   ")).code).toBe("HARDENED_NO_STATEMENT");
    const syntax = thrown(() => db.prepare("SELEC 1"));
    expect(syntax).toBeInstanceOf(SqliteError);
    expect(syntax.code).toBe("SQLITE_ERROR");
  });

  it("should throw a TypeError for statements of a closed database", () => {
    const stmt = db.prepare("SELECT 1");
    db.close();
    const e = thrown(() => stmt.get());
    expect(e).toBeInstanceOf(TypeError);
    expect([e.code, e.message]).toEqual(["HARDENED_NOT_OPEN", "The database connection is not open"]);
    expect(thrown(() => db.prepare("SELECT 1")).code).toBe("HARDENED_NOT_OPEN");
    expect(thrown(() => db.exec("SELECT 1")).code).toBe("HARDENED_NOT_OPEN");
    db = new HardenedDb(":memory:");
  });

  it("should run several statements with exec() and pragmas with pragma()", () => {
    db.exec("CREATE TABLE a(x); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2); SELECT * FROM a;");
    expect(db.prepare("SELECT count(*) FROM a").pluck().get()).toBe(2);
    expect(db.pragma("table_info(a)")).toEqual([{ cid: 0, name: "x", type: "", notnull: 0, dflt_value: null, pk: 0 }]);
    expect(db.pragma("user_version = 7")).toEqual([]);
    expect(db.pragma("user_version", { simple: true })).toBe(7);
    const e = thrown(() => db.exec("INSERT INTO a VALUES (3); INSERT INTO nope VALUES (1)"));
    expect(e).toBeInstanceOf(SqliteError);
    expect(e.message).toContain("no such table: nope");
  });

  it("should close with Symbol.dispose", () => {
    const other = new HardenedDb(":memory:");
    other[Symbol.dispose]();
    expect(other.open).toBe(false);
    other.close();
  });
});
