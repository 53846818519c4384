// bun:sqlite conformance, the behaviours Bun's own bun:sqlite tests pin down
// (test/js/bun/sqlite/sqlite.test.js in oven-sh/bun, read as a checklist):
// the strict/default binding matrix, RETURNING with a missing parameter,
// as() argument checks, safeIntegers toggled per statement, databases built
// from bytes, clearQueryCache(), and the flags of Database.open on a missing file.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it } from "bun:test";
import { same, type Face } from "./faces";

const CATS = "CREATE TABLE cats (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, age INTEGER)";

/**
 * What `fn` throws, as its class name and message; "no error" otherwise. The message is
 * cut at its first ": " — bun:sqlite's text, which a face may follow with how to fix it
 * (Bun's own tests match these messages as substrings, too).
 */
function failure(fn: () => unknown) {
  try {
    fn();
    return "no error";
  } catch (error: any) {
    const kind = error instanceof TypeError ? "TypeError" : error instanceof RangeError ? "RangeError" : "Error";
    return [kind, String(error.message).split(": ")[0]];
  }
}

describe("the binding matrix", () => {
  const cases: Array<[strict: boolean, placeholders: string, input: unknown]> = [
    [true, "$name, $age", { name: "myname", age: 42 }],
    [true, "$name, $age", { age: 42, name: "myname" }],
    [true, "?, ?", ["myname", 42]],
    [true, "?1, ?2", { 0: "myname", 1: 42 }],
    [true, "?2, ?1", { 1: "myname", 0: 42 }],
    [false, "$name, $age", { $name: "myname", $age: 42 }],
    [false, "?, ?", ["myname", 42]],
    [false, "?1, ?2", { "?1": "myname", "?2": 42 }],
    [false, "?2, ?1", { "?2": "myname", "?1": 42 }],
  ];
  for (const [strict, placeholders, input] of cases) {
    it(`should bind ${JSON.stringify(input)} to ${placeholders} (strict: ${strict}) in run, all, get and values`, () => {
      same((face) => {
        const db = new face.Database(":memory:", { strict });
        db.run(CATS);
        const run = db.run(`INSERT INTO cats (name, age) VALUES (${placeholders})`, input);
        const where = db.query(`SELECT * FROM cats WHERE (name, age) = (${placeholders})`);
        return [run, where.all(input), where.get(input), where.values(input)];
      }, {
        value: [{ changes: 1, lastInsertRowid: 1 }, [{ id: 1, name: "myname", age: 42 }], { id: 1, name: "myname", age: 42 }, [[1, "myname", 42]]],
      });
    });
  }

  it("should name the missing parameter under strict in all, get, values and run", () => {
    same((face) => {
      const db = new face.Database(":memory:", { strict: true });
      db.run(CATS);
      const insert = db.query("INSERT INTO cats (name, age) VALUES (@name, @age)");
      return ["all", "get", "values", "run"].map((method) => failure(() => insert[method]({ name: "Joey" })));
    }, { value: Array(4).fill(["Error", 'Missing parameter "age"']) });
  });

  it("should bind NULL for the missing one without strict, RETURNING rows from every method", () => {
    same((face) => {
      const db = new face.Database();
      db.run(CATS);
      const insert = db.query("INSERT INTO cats (name, age) VALUES (@name, @age) RETURNING name, age");
      return [insert.all({ "@name": "a" }), insert.get({ "@name": "b" }), insert.values({ "@name": "c" }), insert.run({ "@name": "d" })];
    }, { value: [[{ name: "a", age: null }], { name: "b", age: null }, [["c", null]], { changes: 1, lastInsertRowid: 4 }] });
  });

  it("should refuse classes, functions, errors, maps and sets as values with a TypeError in run, all and get", () => {
    same((face) => {
      const db = new face.Database();
      db.run(CATS);
      const select = db.prepare("SELECT * FROM cats WHERE name = ?");
      const values = [class Foo {}, () => 1, new RangeError("what"), new Map([["a", 1]]), new Set([1])];
      return values.flatMap((value) => ["run", "all", "get"].map((method) => failure(() => select[method]([value]))[0]));
    }, { value: Array(15).fill("TypeError") });
  });
});

describe("stmt.as(Class) argument checks", () => {
  it("should refuse what is not a class, naming what was expected", () => {
    same((face) => {
      const select = new face.Database().query("SELECT 1 AS a");
      function BadClass() {}
      BadClass.prototype = 123 as any;
      return [failure(() => select.as(null)), failure(() => select.as(() => {})), failure(() => select.as(BadClass)),
        select.as(undefined) === select];
    }, {
      value: [
        ["TypeError", "Expected class to be a constructor or undefined"],
        ["TypeError", "Expected a constructor"],
        ["TypeError", "Expected a constructor prototype to be an object"],
        true,
      ],
    });
  });
});

describe("safeIntegers per statement", () => {
  it("should switch a statement to bigints and back", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE foo (id INTEGER PRIMARY KEY, age INTEGER)");
      db.run("INSERT INTO foo (age) VALUES (?)", 42n);
      const select = db.query("SELECT * FROM foo");
      const plain = select.all();
      const big = select.safeIntegers(true).all();
      const back = select.safeIntegers(false).all();
      return [plain, big, back];
    }, { value: [[{ id: 1, age: 42 }], [{ id: { bigint: "1" }, age: { bigint: "42" } }], [{ id: 1, age: 42 }]] });
  });
});

describe("databases built from bytes", () => {
  /** The bytes of a database with test(name) holding 'test1'. */
  const image = (face: Face) => {
    const db = new face.Database();
    db.run("CREATE TABLE test (name TEXT)");
    db.run("INSERT INTO test VALUES (:name)", { ":name": "test1" });
    return db.serialize();
  };

  it("should open from bytes given to the constructor, writable or readonly", () => {
    same((face) => {
      const bytes = image(face);
      const writable = new face.Database(bytes);
      writable.run("INSERT INTO test VALUES ('test2')");
      const readonly = new face.Database(bytes, { readonly: true });
      return [writable.query("SELECT name FROM test").values(), failure(() => readonly.run("INSERT INTO test VALUES ('x')"))];
    }, { value: [[["test1"], ["test2"]], ["Error", "attempt to write a readonly database"]] });
  });

  it("should take { strict: true } in Database.deserialize", () => {
    same((face) => {
      const db = face.Database.deserialize(image(face), { strict: true, readonly: false });
      db.run("INSERT INTO test VALUES ($name)", { name: "test2" });
      return db.query("SELECT name FROM test").values();
    }, { value: [["test1"], ["test2"]] });
  });
});

describe("db.clearQueryCache()", () => {
  it("should make db.query() prepare anew, leaving the old statements usable", () => {
    same((face) => {
      const db = new face.Database();
      const before = db.query("SELECT 1 AS a");
      db.clearQueryCache();
      const after = db.query("SELECT 1 AS a");
      return [before === after, after.get()];
    }, { value: [false, { a: 1 }] });
  });
});

describe("Database.open on a missing file", () => {
  it("should refuse SQLITE_OPEN_READWRITE without CREATE, { readwrite: true } and { readonly: true }, and create with { create: true }", () => {
    same((face) => {
      const missing = () => face.path(`missing-${Math.random()}.db`);
      const outcomes = [
        failure(() => face.Database.open(missing(), face.constants.SQLITE_OPEN_READWRITE)),
        failure(() => face.Database.open(missing(), { readwrite: true })),
        failure(() => face.Database.open(missing(), { readonly: true })),
        failure(() => face.Database.open(missing(), { create: true }).close()),
      ];
      return outcomes;
    }, {
      value: [
        ["Error", "unable to open database file"],
        ["Error", "unable to open database file"],
        ["Error", "unable to open database file"],
        "no error",
      ],
    });
  });
});
