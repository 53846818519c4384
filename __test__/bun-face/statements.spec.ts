// bun:sqlite conformance, statements: db.query() caching, db.prepare(sql, params),
// db.run()/db.exec() with several statements, get/all/values/run/iterate/for...of,
// as(Class), finalize(), toString(), and the metadata getters.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it } from "bun:test";
import { same, type Face } from "./faces";

/** An in-memory database with t(id, name, score, data): (1,'a',1.5,x'01') and (2,'b',NULL,NULL). */
function fixture(face: Face) {
  const db = new face.Database();
  db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, data BLOB)");
  db.run("INSERT INTO t(name, score, data) VALUES ('a', 1.5, x'01'), ('b', NULL, NULL)");
  return db;
}

const A = { id: 1, name: "a", score: 1.5, data: { Uint8Array: [1] } };
const B = { id: 2, name: "b", score: null, data: null };

describe("db.query(sql)", () => {
  it("should return the same cached statement for the same SQL, and prepare() a new one", () => {
    same((face) => {
      const db = fixture(face);
      const first = db.query("SELECT * FROM t");
      return [first === db.query("SELECT * FROM t"), first === db.prepare("SELECT * FROM t"), first instanceof face.Statement];
    }, { value: [true, false, true] });
  });

  it("should replace a finalized cached statement with a working one", () => {
    same((face) => {
      const db = fixture(face);
      const first = db.query("SELECT * FROM t");
      first.finalize();
      const second = db.query("SELECT * FROM t");
      return [second === first, second.all()];
    }, { value: [false, [A, B]] });
  });
});

describe("db.prepare(sql, params)", () => {
  it("should bind the given params by default, and let a call's own params replace them", () => {
    same((face) => {
      const stmt = fixture(face).prepare("SELECT * FROM t WHERE id = ?", [2]);
      return [stmt.get(), stmt.all(), stmt.get(1)];
    }, { value: [B, [B], A] });
  });
});

describe("db.run(sql, ...params) and db.exec", () => {
  it("should run several statements, binding params to the first, and report the last changes", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE t(a, b)");
      const several = db.run("INSERT INTO t VALUES (?, ?); INSERT INTO t VALUES (3, 4)", [5, 6]);
      const exec = db.exec("INSERT INTO t VALUES (7, 8); INSERT INTO t VALUES (9, 10)");
      const spread = db.run("INSERT INTO t VALUES (?, ?)", 11, 12);
      const named = db.exec("INSERT INTO t VALUES ($a, $b)", { $a: 13, $b: 14 });
      const update = db.run("UPDATE t SET b = b + 1");
      const select = db.run("SELECT * FROM t");
      return { several, exec, spread, named, update, select, rows: db.query("SELECT a, b FROM t").values() };
    }, {
      value: {
        several: { changes: 2, lastInsertRowid: 2 },
        exec: { changes: 2, lastInsertRowid: 4 },
        spread: { changes: 1, lastInsertRowid: 5 },
        named: { changes: 1, lastInsertRowid: 6 },
        update: { changes: 6, lastInsertRowid: 6 },
        select: { changes: 0, lastInsertRowid: 6 },
        rows: [[5, 7], [3, 5], [7, 9], [9, 11], [11, 13], [13, 15]],
      },
    });
  });

  it("should stop at the first failing statement with its SQLiteError, keeping what ran before", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE u(a UNIQUE)");
      try {
        db.run("INSERT INTO u VALUES (1); INSERT INTO u VALUES (1); INSERT INTO u VALUES (2)");
      } catch (error: any) {
        return { code: error.code, errno: error.errno, rows: db.query("SELECT a FROM u").values() };
      }
      return "no error";
    }, { value: { code: "SQLITE_CONSTRAINT_UNIQUE", errno: 2067, rows: [[1]] } });
  });
});

describe("SQL with no statement", () => {
  it("should throw for empty, blank and comment-only SQL in query, prepare and run", () => {
    same((face) => {
      const db = new face.Database();
      const uses = [() => db.query(""), () => db.prepare("  "), () => db.run(""), () => db.run("-- nothing")];
      return uses.map((use) => {
        try {
          use();
          return "no error";
        } catch (error) {
          return error instanceof Error;
        }
      });
    }, { value: [true, true, true, true] });
  });
});

describe("transactions begun by SQL", () => {
  it("should show in db.inTransaction", () => {
    same((face) => {
      const db = new face.Database();
      db.run("BEGIN");
      const inside = db.inTransaction;
      db.run("COMMIT");
      return [inside, db.inTransaction];
    }, { value: [true, false] });
  });
});

describe("safeIntegers", () => {
  it("should give lastInsertRowid and values() as bigints too", () => {
    same((face) => {
      const db = new face.Database(":memory:", { safeIntegers: true });
      db.run("CREATE TABLE z(a)");
      return [db.run("INSERT INTO z VALUES (1)"), db.query("SELECT a, 'x' AS b FROM z").values()];
    }, { value: [{ changes: 1, lastInsertRowid: { bigint: "1" } }, [[{ bigint: "1" }, "x"]]] });
  });
});

describe("statement results", () => {
  it("should give rows as objects (get, all, iterate, for...of), arrays (values) and counts (run)", () => {
    same((face) => {
      const db = fixture(face);
      const select = db.query("SELECT * FROM t ORDER BY id");
      const looped = [];
      for (const row of db.query("SELECT id FROM t ORDER BY id")) looped.push(row);
      return {
        get: select.get(),
        all: select.all(),
        values: select.values(),
        iterate: [...select.iterate()],
        looped,
        run: db.query("INSERT INTO t(name) VALUES (?)").run("c"),
      };
    }, {
      value: {
        get: A,
        all: [A, B],
        values: [[1, "a", 1.5, { Uint8Array: [1] }], [2, "b", null, null]],
        iterate: [A, B],
        looped: [{ id: 1 }, { id: 2 }],
        run: { changes: 1, lastInsertRowid: 3 },
      },
    });
  });

  it("should give null from get() and empty arrays when there is no row", () => {
    same((face) => {
      const select = fixture(face).query("SELECT * FROM t WHERE 0");
      return [select.get(), select.all(), select.values(), [...select.iterate()]];
    }, { value: [null, [], [], []] });
  });

  it("should keep the columns' order in rows, and the last of duplicate names in objects", () => {
    same((face) => {
      const db = new face.Database();
      return [Object.keys(db.query("SELECT 2 AS b, 1 AS a").get()), db.query("SELECT 1 AS a, 2 AS a").get(),
        db.query("SELECT 1 AS a, 2 AS a").values()];
    }, { value: [["b", "a"], { a: 2 }, [[1, 2]]] });
  });
});

describe("iteration", () => {
  it("should let a statement run again after a for...of that broke early", () => {
    same((face) => {
      const select = fixture(face).query("SELECT id FROM t ORDER BY id");
      for (const _ of select.iterate()) break;
      return select.all();
    }, { value: [{ id: 1 }, { id: 2 }] });
  });

  it("should let other statements write while an iterator is open", () => {
    same((face) => {
      const db = fixture(face);
      const iterator = db.query("SELECT id FROM t ORDER BY id").iterate();
      const first = iterator.next().value;
      const written = db.run("INSERT INTO t(name) VALUES ('c')");
      iterator.return?.();
      return [first, written];
    }, { value: [{ id: 1 }, { changes: 1, lastInsertRowid: 3 }] });
  });

  it("should let the same statement run again while its iterator is open (the iterator is reset)", () => {
    same((face) => {
      const select = fixture(face).query("SELECT id FROM t ORDER BY id");
      const iterator = select.iterate();
      const first = iterator.next().value;
      return [first, select.values()];
    }, { value: [{ id: 1 }, [[1], [2]]] });
  });
});

describe("stmt.as(Class)", () => {
  class Row {
    id!: number;
    name!: string;
    get label() {
      return `${this.id}:${this.name}`;
    }
  }

  it("should give instances of the class, with the columns as own properties", () => {
    same((face) => {
      const db = fixture(face);
      const rows = db.query("SELECT id, name FROM t ORDER BY id").as(Row).all();
      const one = db.query("SELECT id, name FROM t WHERE id = 2").as(Row).get();
      return [rows.map((r: Row) => [r instanceof Row, r.label, Object.keys(r)]), one instanceof Row, one.label];
    }, { value: [[[true, "1:a", ["id", "name"]], [true, "2:b", ["id", "name"]]], true, "2:b"] });
  });
});

describe("stmt.finalize()", () => {
  it("should make get/all/values/run throw afterwards, and be callable twice", () => {
    same((face) => {
      const stmt = fixture(face).prepare("SELECT 1 AS a");
      stmt.finalize();
      const outcomes = [];
      for (const use of [() => stmt.get(), () => stmt.all(), () => stmt.values(), () => stmt.run(), () => stmt.finalize()]) {
        try {
          outcomes.push(use() === undefined ? "undefined" : "a value");
        } catch (error) {
          outcomes.push(error instanceof Error ? "Error" : "not an Error");
        }
      }
      return outcomes;
    }, { value: ["Error", "Error", "Error", "Error", "undefined"] });
  });
});

describe("stmt.toString()", () => {
  it("should give the SQL with the last bound values expanded (NULL before any)", () => {
    same((face) => {
      const db = fixture(face);
      const stmt = db.query("SELECT * FROM t WHERE id = ? AND name = ?");
      const before = stmt.toString();
      stmt.get(1, "it's");
      const named = db.query("SELECT $x AS x, 2.5 AS y");
      named.get({ $x: "q" });
      return [before, stmt.toString(), `${stmt}`, named.toString()];
    }, {
      value: [
        "SELECT * FROM t WHERE id = NULL AND name = NULL",
        "SELECT * FROM t WHERE id = 1 AND name = 'it''s'",
        "SELECT * FROM t WHERE id = 1 AND name = 'it''s'",
        "SELECT 'q' AS x, 2.5 AS y",
      ],
    });
  });
});

describe("statement metadata", () => {
  it("should give columnNames, paramsCount and declaredTypes before running", () => {
    same((face) => {
      const stmt = fixture(face).query("SELECT id, name, score, data, 1 + 1 AS expr FROM t WHERE id > ?1 OR id = $b");
      return { names: stmt.columnNames, params: stmt.paramsCount, declared: stmt.declaredTypes };
    }, {
      value: {
        names: ["id", "name", "score", "data", "expr"],
        params: 2,
        declared: ["INTEGER", "TEXT", "REAL", "BLOB", null],
      },
    });
  });

  it("should give columnTypes of the current row after get()", () => {
    same((face) => {
      const stmt = fixture(face).query("SELECT id, name, score, data, NULL AS nil FROM t WHERE id = 1");
      stmt.get();
      return stmt.columnTypes;
    }, { value: ["INTEGER", "TEXT", "FLOAT", "BLOB", "NULL"] });
  });
});
