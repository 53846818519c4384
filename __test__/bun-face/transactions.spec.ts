// bun:sqlite conformance, transactions: db.transaction(fn) commits or rolls back,
// nests as savepoints, has .deferred/.immediate/.exclusive, passes arguments and
// `this`, and db.inTransaction tracks it. Where hardened-sqlite/bun differs on
// purpose (IMMEDIATE by default), the test asserts our documented behaviour.
import { describe, it, expect } from "bun:test";
import { same, both, type Face } from "./faces";

/** A database with t(a UNIQUE) and its insert statement. */
function fixture(face: Face, path = ":memory:") {
  const db = new face.Database(path);
  db.run("CREATE TABLE IF NOT EXISTS t(a UNIQUE)");
  return { db, insert: db.query("INSERT INTO t VALUES (?)"), rows: () => db.query("SELECT a FROM t ORDER BY a").values() };
}

describe("db.transaction(fn)", () => {
  it("should commit and return fn's value, with inTransaction true inside only", () => {
    same((face) => {
      const { db, insert, rows } = fixture(face);
      const inside: boolean[] = [];
      const many = db.transaction((values: number[]) => {
        inside.push(db.inTransaction);
        for (const value of values) insert.run(value);
        return values.length;
      });
      return { returned: many([1, 2]), inside, after: db.inTransaction, rows: rows() };
    }, { value: { returned: 2, inside: [true], after: false, rows: [[1], [2]] } });
  });

  it("should roll back everything when fn throws, and rethrow the error", () => {
    same((face) => {
      const { db, insert, rows } = fixture(face);
      const many = db.transaction((values: number[]) => values.forEach((value) => insert.run(value)));
      many([1]);
      try {
        many([2, 1]);
      } catch (error: any) {
        return { code: error.code, rows: rows(), inTransaction: db.inTransaction };
      }
      return "no error";
    }, { value: { code: "SQLITE_CONSTRAINT_UNIQUE", rows: [[1]], inTransaction: false } });
  });

  it("should nest as a savepoint: a failing inner call rolls back only its own writes", () => {
    same((face) => {
      const { db, insert, rows } = fixture(face);
      const inner = db.transaction(() => {
        insert.run(20);
        throw new Error("inner fails");
      });
      const outer = db.transaction(() => {
        insert.run(10);
        try {
          inner();
        } catch {}
        insert.run(11);
      });
      outer();
      return rows();
    }, { value: [[10], [11]] });
  });

  it("should give .deferred, .immediate and .exclusive variants that commit the same way, and pass `this`", () => {
    same((face) => {
      const { db, insert, rows } = fixture(face);
      const add = db.transaction(function (this: unknown, value: number) {
        insert.run(value);
        return typeof this;
      });
      return [add.deferred(1), add.immediate(2), add.exclusive(3), add.call({}, 4), rows()];
    }, { value: ["function", "function", "function", "object", [[1], [2], [3], [4]]] });
  });

  it("should throw a SQLiteError when fn ends the transaction itself", () => {
    same((face) => {
      const { db } = fixture(face);
      db.transaction(() => db.run("ROLLBACK"))();
    }, { error: { class: "SQLiteError", code: "SQLITE_ERROR", errno: 1 } });
  });
});

describe("the default transaction: on purpose different", () => {
  // bun:sqlite begins a plain (DEFERRED) transaction, so a read-then-write
  // function can fail with SQLITE_BUSY midway, after its reads; ours begins
  // IMMEDIATE (as the main face does, docs/bun.md), taking the write lock first;
  // `.deferred` too, since upgradeDeferredBegin defaults to true (docs/api.md).
  // The probe is a second connection of the same face with no busy timeout (two
  // SQLite libraries in one process do not see each other's locks).
  it("should hold the write lock from the start of fn, where bun:sqlite's DEFERRED does not", () => {
    const { bun, hardened } = both((face) => {
      const path = face.path("lock.db");
      const { db } = fixture(face, path);
      const probe = face.ours ? new face.Database(path, { busyTimeout: 0 }) : new face.Database(path);
      const seen: string[] = [];
      for (const variant of ["default", "immediate", "deferred"]) {
        const fn = db.transaction(() => {
          try {
            probe.run("BEGIN IMMEDIATE");
            probe.run("ROLLBACK");
            seen.push(`${variant}: probe wrote`);
          } catch (error: any) {
            seen.push(`${variant}: ${error.code}`);
          }
        });
        (variant === "default" ? fn : fn[variant])();
      }
      probe.close();
      db.close();
      return seen;
    });
    expect(bun.value).toEqual(["default: probe wrote", "immediate: SQLITE_BUSY", "deferred: probe wrote"]);
    expect(hardened.value).toEqual(["default: SQLITE_BUSY", "immediate: SQLITE_BUSY", "deferred: SQLITE_BUSY"]);
  });
});
