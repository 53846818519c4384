// bun:sqlite conformance, the smaller members Bun apps and tools touch:
// isFinalized, toJSON()/JSON.stringify, reader/readonly, `using` on a statement,
// close(true), fileControl, column names that look like object internals.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, expect, it } from "bun:test";
import { both, failure, ourFace, same, type Face } from "./faces";

function fixture(face: Face) {
  const db = new face.Database();
  db.run("CREATE TABLE s(x, y)");
  db.run("INSERT INTO s VALUES (1, 'a'), (2, 'b')");
  return db;
}

describe("statement members", () => {
  it("should give isFinalized, and toJSON() as JSON.stringify uses it, with the last bound values", () => {
    same((face) => {
      const stmt = fixture(face).query("SELECT x, y FROM s WHERE x > ?");
      const before = [stmt.isFinalized, JSON.stringify(stmt)];
      stmt.get(1);
      const after = stmt.toJSON();
      stmt.finalize();
      return [...before, after, stmt.isFinalized];
    }, {
      value: [
        false,
        '{"sql":"SELECT x, y FROM s WHERE x > NULL","isFinalized":false,"paramsCount":1,"columnNames":["x","y"]}',
        { sql: "SELECT x, y FROM s WHERE x > 1", isFinalized: false, paramsCount: 1, columnNames: ["x", "y"] },
        true,
      ],
    });
  });

  it("should tell readers (statements that return rows and do not write) by reader and readonly", () => {
    same((face) => {
      const db = fixture(face);
      const select = db.query("SELECT x FROM s");
      const insert = db.query("INSERT INTO s VALUES (3, 'c')");
      return [select.reader, select.readonly, insert.reader, insert.readonly];
    }, { value: [true, true, false, false] });
  });

  it("should finalize a statement at the end of a `using` block", () => {
    same((face) => {
      const db = fixture(face);
      let kept: any;
      {
        using stmt = db.prepare("SELECT 1 AS a");
        kept = stmt;
        stmt.get();
      }
      try {
        kept.get();
        return "still usable";
      } catch (error) {
        return [error instanceof Error, kept.isFinalized];
      }
    }, { value: [true, true] });
  });
});

describe("database members", () => {
  it("should close with close(true) after statements ran", () => {
    same((face) => {
      const db = fixture(face);
      db.query("SELECT x FROM s").get();
      db.close(true);
      return "closed";
    }, { value: "closed" });
  });

  it("should pass fileControl to SQLite and return its result code", () => {
    same((face) => fixture(face).fileControl(face.constants.SQLITE_FCNTL_PERSIST_WAL, 0), { value: 12 });
  });

  it("should read and write a TypedArray of 8 bytes or more in place, and refuse a shorter one", () => {
    same((face) => {
      const db = new face.Database(face.path("fcntl.db"));
      db.run("CREATE TABLE t(a)");
      const { SQLITE_FCNTL_PERSIST_WAL: PERSIST_WAL } = face.constants;
      const flag = new Int32Array(2);
      flag[0] = -1; // -1 asks for the current value
      const read = [db.fileControl(PERSIST_WAL, flag), flag[0]];
      flag[0] = 1;
      const set = db.fileControl(PERSIST_WAL, flag);
      flag[0] = -1;
      const reread = [db.fileControl("main", PERSIST_WAL, flag), flag[0]];
      const short = [1, 7].map((length) => {
        try {
          db.fileControl(PERSIST_WAL, new Uint8Array(length));
          return "accepted";
        } catch (error: any) {
          return error.message.startsWith("TypedArray must be at least 8 bytes");
        }
      });
      return [read, set, reread, db.fileControl(PERSIST_WAL, null), short];
    }, { value: [[0, 0], 0, [0, 1], 0, [true, true]] });
  });

  it("should keep column names such as __proto__ and constructor as plain data", () => {
    same((face) => {
      const row = fixture(face).query('SELECT 1 AS "__proto__", 2 AS "constructor", 3 AS "1"').get();
      return [Object.getPrototypeOf(row) === Object.prototype || Object.getPrototypeOf(row) === null, row.constructor, row["1"]];
    }, { value: [true, 2, 3] });
  });
});

describe("fileControl: on purpose different", () => {
  it("should refuse opcodes that read a pointer or drive SQLite's internals, and mmap, where bun:sqlite passes them on", () => {
    const { bun, hardened } = both((face) => {
      const db = new face.Database(face.path("fcntl.db"));
      db.run("CREATE TABLE t(a)");
      const { SQLITE_FCNTL_PRAGMA, SQLITE_FCNTL_MMAP_SIZE, SQLITE_FCNTL_BEGIN_ATOMIC_WRITE } = face.constants;
      const outcomes = [SQLITE_FCNTL_PRAGMA, SQLITE_FCNTL_MMAP_SIZE, SQLITE_FCNTL_BEGIN_ATOMIC_WRITE, 43 /* NULL_IO */].map((op) => {
        try {
          return db.fileControl(op, 0);
        } catch (error: any) {
          return error.code;
        }
      });
      // The connection still works: SQLITE_FCNTL_NULL_IO would have cut it off its file.
      db.run("INSERT INTO t VALUES (1)");
      return [outcomes, db.query("SELECT count(*) AS n FROM t").get(), db.query("PRAGMA mmap_size").get()];
    });
    expect(hardened.value).toEqual([
      ["HARDENED_UNSUPPORTED", "HARDENED_UNSUPPORTED", "HARDENED_UNSUPPORTED", "HARDENED_UNSUPPORTED"],
      { n: 1 },
      { mmap_size: 0 },
    ]);
    // bun:sqlite passes each on: SQLITE_FCNTL_NULL_IO leaves its connection with I/O errors.
    expect(bun.error).toMatchObject({ class: "SQLiteError", code: "SQLITE_IOERR_LOCK" });
  });

  it("should give an opcode that writes a pointer or a string an 8-byte slot, as bun:sqlite does, and free the string", () => {
    same((face) => {
      const db = new face.Database(face.path("fcntl.db"));
      db.run("CREATE TABLE t(a)");
      const { SQLITE_FCNTL_VFSNAME, SQLITE_FCNTL_FILE_POINTER, SQLITE_FCNTL_TEMPFILENAME } = face.constants;
      const slot = new BigInt64Array(1);
      const codes = [
        db.fileControl(SQLITE_FCNTL_VFSNAME, 0),
        db.fileControl(SQLITE_FCNTL_TEMPFILENAME, 0),
        db.fileControl(SQLITE_FCNTL_FILE_POINTER, slot),
      ];
      db.run("INSERT INTO t VALUES (1)");
      return [codes, slot[0] !== 0n, db.query("SELECT count(*) AS n FROM t").get()];
    }, { value: [[0, 0, 0], true, { n: 1 }] });
  });

  it("should leave the connection working whatever opcode and value it is given", () => {
    const face = ourFace();
    const db = new face.Database(face.path("sweep.db"));
    db.run("CREATE TABLE t(a)");
    const outcomes = new Set<string>();
    for (let op = -2; op <= 64; op++) {
      for (const value of [0, -1, 1, 1 << 20, new BigInt64Array(1), new Uint8Array(64)]) {
        try {
          outcomes.add(typeof db.fileControl(op, value));
        } catch (error: any) {
          outcomes.add(error.code);
        }
      }
      db.run("INSERT INTO t VALUES (?)", op);
    }
    expect([...outcomes].sort()).toEqual(["HARDENED_UNSUPPORTED", "number"]);
    expect(db.query("SELECT count(*) AS n, sum(a) AS s FROM t").get()).toEqual({ n: 67, s: 2077 });
    expect(db.query("PRAGMA mmap_size").get()).toEqual({ mmap_size: 0 });
    db.close();
  });

  it("should refuse a value that is neither an integer nor a TypedArray", () => {
    const { bun, hardened } = both((face) => {
      try {
        return fixture(face).fileControl(face.constants.SQLITE_FCNTL_PERSIST_WAL, "1");
      } catch (error: any) {
        return [error.name, error.code];
      }
    });
    expect(bun.value).toEqual(["Error", undefined]);
    expect(hardened.value).toEqual(["TypeError", "HARDENED_INVALID_ARGUMENT"]);
  });

});

describe("getters that run JS in the middle of binding", () => {
  it("should store a blob as it was when bound, even if a later getter changes and detaches its buffer", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE t (a BLOB, b INT)");
      const buffer = new ArrayBuffer(256);
      const bytes = new Uint8Array(buffer).fill(0xab);
      db.run("INSERT INTO t VALUES ($a, $b)", {
        get $a() {
          return bytes;
        },
        get $b() {
          bytes.fill(0xee);
          buffer.transfer();
          return 1;
        },
      });
      const row = db.query("SELECT a, b FROM t").get();
      return [row.a.length, row.a.every((byte: number) => byte === 0xab), row.b];
    }, { value: [256, true, 1] });
  });

  it("should free a statement that a getter finalizes while it binds, and fail that call before it runs, as bun:sqlite does", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE t(x)");
      const insert = db.prepare("INSERT INTO t VALUES ($x)");
      const finalizing = {
        get $x() {
          insert.finalize();
          return 1;
        },
      };
      const outcomes: unknown[] = [failure(() => insert.run(finalizing)), insert.isFinalized];
      // Nothing was stepped, and the statement stays finalized.
      outcomes.push(db.query("SELECT count(*) AS n FROM t").get(), failure(() => insert.run({ $x: 2 })));
      // The same for a reading call, and for iterate(), whose loop never starts.
      const select = db.prepare("SELECT $x AS x");
      outcomes.push(failure(() => select.get({ get $x() { select.finalize(); return 1; } })), select.isFinalized);
      const looped = db.prepare("SELECT $x AS x");
      outcomes.push(failure(() => [...looped.iterate({ get $x() { looped.finalize(); return 1; } })]));
      // A getter that throws after finalizing: its own error comes out, and the statement is freed.
      const thrower = db.prepare("SELECT $x AS x");
      outcomes.push(failure(() => thrower.get({ get $x() { thrower.finalize(); throw new Error("from the getter"); } })));
      outcomes.push(thrower.isFinalized, db.query("SELECT 123 AS y").get());
      return outcomes;
    }, {
      value: [
        ["Error", "Statement has finalized"], true, { n: 0 }, ["Error", "Statement has finalized"],
        ["Error", "Statement has finalized"], true,
        ["Error", "Statement has finalized"],
        ["Error", "from the getter"], true, { y: 123 },
      ],
    });
  });

  it("should refuse finalize() from a user-defined function while the statement runs, and keep it usable", () => {
    same((face) => {
      const db = new face.Database();
      let statement: any;
      db.function("fin", () => {
        try {
          statement.finalize();
          return "finalized";
        } catch {
          return "refused";
        }
      });
      statement = db.query("SELECT fin() AS v");
      return [statement.get(), statement.isFinalized, db.query("SELECT 1 AS one").get()];
    }, { value: [{ v: "refused" }, false, { one: 1 }] });
  });

  it("should end a loop whose statement is finalized in its body with the finalized error, as bun:sqlite does", () => {
    same((face) => {
      const db = fixture(face);
      const select = db.query("SELECT x FROM s ORDER BY x");
      const seen: number[] = [];
      const thrown = failure(() => {
        for (const row of select.iterate()) {
          seen.push(row.x);
          select.finalize();
        }
      });
      return [seen, thrown, select.isFinalized, db.query("SELECT count(*) AS n FROM s").get()];
    }, { value: [[1], ["Error", "Statement has finalized"], true, { n: 2 }] });
    const db = fixture(ourFace());
    const select = db.query("SELECT x FROM s");
    const iterator = select.iterate();
    iterator.next();
    select.finalize();
    let fromLoop: any;
    try {
      iterator.next();
    } catch (error) {
      fromLoop = error;
    }
    let fromCall: any;
    try {
      select.get();
    } catch (error) {
      fromCall = error;
    }
    // The loop's error is the one any call of the finalized statement throws.
    expect([fromLoop.code, fromLoop.message]).toEqual([fromCall.code, fromCall.message]);
    expect(fromLoop.code).toBe("HARDENED_STATEMENT_FINALIZED");
  });

  it("should throw, not crash, when a getter closes the database while its statement binds, and keep the rest working", () => {
    same((face) => {
      const db = new face.Database();
      const query = db.query("SELECT $x AS x");
      let outcome: unknown;
      try {
        query.get({
          get $x() {
            db.close();
            return 1;
          },
        });
        outcome = "no error";
      } catch (error) {
        outcome = error instanceof Error;
      }
      const other = new face.Database();
      return [outcome, other.query("SELECT 123 AS y").get()];
    }, { value: [true, { y: 123 }] });
  });
});

describe("changes of a multi-row insert", () => {
  it("should be counted the same by db.run, prepare().run() and query().run()", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE cats (id INTEGER PRIMARY KEY, name TEXT)");
      const sql = "INSERT INTO cats (name) VALUES ('Fluffy'), ('Furry')";
      return [db.run(sql).changes, db.prepare(sql).run().changes, db.query(sql).run().changes];
    }, { value: [2, 2, 2] });
  });
});
