// bun:sqlite conformance, the smaller members of Bun's documented API:
// stmt.raw() (each value's bytes), db.handle, and the statement's
// Symbol.toStringTag. Every scenario runs on bun:sqlite (asserting the
// expected value) and on hardened-sqlite/bun (asserting the same); see faces.ts.
import { describe, it } from "bun:test";
import { same } from "./faces";

/** 8 little-endian bytes of an int64 or a float64. */
function le(kind: "int" | "float", value: number | bigint) {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  if (kind === "int") view.setBigInt64(0, BigInt(value), true);
  else view.setFloat64(0, Number(value), true);
  return { Uint8Array: Array.from(bytes) };
}

describe("stmt.raw()", () => {
  it("should give each value's bytes: INTEGER and REAL as 8 little-endian bytes, TEXT as UTF-8, BLOB as is, NULL as null", () => {
    same((face) => {
      const db = new face.Database();
      return db.query("SELECT 42 AS i, 9007199254740993 AS big, -1 AS neg, 1.5 AS r, -0.0 AS z, 'héllo' AS t, x'00ff' AS b, NULL AS n, '' AS e").raw();
    }, {
      value: [[le("int", 42), le("int", 9007199254740993n), le("int", -1), le("float", 1.5), le("float", -0), { Uint8Array: Array.from(Buffer.from("héllo")) },
        { Uint8Array: [0, 255] }, null, { Uint8Array: [] }]],
    });
  });

  it("should bind its arguments, run again with the values bound last, and leave safeIntegers as it was", () => {
    same((face) => {
      const db = new face.Database();
      db.run("CREATE TABLE t (x)");
      const select = db.prepare("SELECT ? AS a, 7 AS b");
      const first = select.raw("x");
      const again = select.raw();
      const insert = db.prepare("INSERT INTO t VALUES (1)").raw();
      return [first, again, insert, select.safeIntegers(), select.get(2), db.query("SELECT count(*) AS n FROM t").get()];
    }, {
      value: [[[{ Uint8Array: [120] }, le("int", 7)]], [[{ Uint8Array: [120] }, le("int", 7)]], [], false, { a: 2, b: 7 }, { n: 1 }],
    });
  });
});

describe("db.handle", () => {
  it("should be a number of its own per database, kept after close()", () => {
    same((face) => {
      const a = new face.Database();
      const b = face.Database.deserialize(a.serialize());
      const before = a.handle;
      a.close();
      return [typeof before, Number.isInteger(before) && before >= 0, a.handle === before, b.handle > before];
    }, { value: ["number", true, true, true] });
  });
});

describe("a statement's Symbol.toStringTag", () => {
  it("should be its expanded SQL in double quotes, and empty quotes once finalized", () => {
    same((face) => {
      const select = new face.Database().prepare(`SELECT 'a"b' AS x, ? AS y`);
      const unbound = Object.prototype.toString.call(select);
      select.all(5);
      const bound = Object.prototype.toString.call(select);
      select.finalize();
      return [unbound, bound, Object.prototype.toString.call(select)];
    }, { value: [`[object "SELECT 'a"b' AS x, NULL AS y"]`, `[object "SELECT 'a"b' AS x, 5 AS y"]`, `[object ""]`] });
  });
});
