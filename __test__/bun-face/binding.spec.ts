// bun:sqlite conformance, binding: `?`, `?NNN`, `$a`/`:a`/`@a` with prefixed keys
// by default and bare keys under strict, missing and extra parameters, how
// numbers, booleans, bigints, blobs and unbindable values are bound.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it, expect } from "bun:test";
import { same, both, type Face } from "./faces";

const plain = (face: Face) => new face.Database();
const strict = (face: Face) => new face.Database(":memory:", { strict: true });

describe("positional parameters", () => {
  it("should bind ? in order, from arguments or one array, and ?NNN by number", () => {
    same((face) => {
      const db = plain(face);
      return [
        db.query("SELECT ? AS a, ? AS b").get(1, "x"),
        db.query("SELECT ? AS a, ? AS b").get([2, "y"]),
        db.query("SELECT ?2 AS a, ?1 AS b").get("first", "second"),
      ];
    }, { value: [{ a: 1, b: "x" }, { a: 2, b: "y" }, { a: "second", b: "first" }] });
  });

  it("should throw a plain Error (not a SQLiteError, TypeError or RangeError) for more or fewer values than parameters", () => {
    for (const values of [[1, 2], [1]]) {
      const { bun, hardened } = both((face) => {
        try {
          plain(face).query(values.length === 2 ? "SELECT ? AS a" : "SELECT ? AS a, ? AS b").get(...values);
          return "no error";
        } catch (error: any) {
          const kinds = [face.SQLiteError, TypeError, RangeError].map((kind) => error instanceof kind);
          return { isError: error instanceof Error, kinds, message: error.message };
        }
      });
      const message = `SQLite query expected ${values.length === 2 ? 1 : 2} values, received ${values.length}`;
      expect(bun.value).toEqual({ isError: true, kinds: [false, false, false], message });
      // Ours is a HardenedDbError (code HARDENED_PARAMETER_COUNT), a subclass of Error: code catching it behaves the same.
      expect(hardened.value).toEqual(bun.value);
    }
  });
});

describe("named parameters", () => {
  it("should take prefixed keys for $a, :a and @a by default, and positions too", () => {
    same((face) => {
      const db = plain(face);
      return [
        db.query("SELECT $a AS a, :b AS b, @c AS c").get({ $a: 1, ":b": 2, "@c": 3 }),
        db.query("SELECT $a AS a, :b AS b, @c AS c").get(4, 5, 6),
      ];
    }, { value: [{ a: 1, b: 2, c: 3 }, { a: 4, b: 5, c: 6 }] });
  });

  it("should bind NULL for a missing key without strict, and ignore extra keys", () => {
    same((face) => {
      const db = plain(face);
      return [db.query("SELECT $a AS a, $b AS b").get({ $a: 1 }), db.query("SELECT $a AS a").get({ $a: 1, $z: 2 })];
    }, { value: [{ a: 1, b: null }, { a: 1 }] });
  });

  it("should also take bare keys without strict (Bun 1.4), the prefixed key winning when both are given", () => {
    same((face) => {
      const db = plain(face);
      return [db.query("SELECT $a AS a, :b AS b, @c AS c").get({ a: 1, b: 2, c: 3 }),
        db.query("SELECT $a AS a").get({ a: 1, $a: 2 })];
    }, { value: [{ a: 1, b: 2, c: 3 }, { a: 2 }] });
  });

  it("should take bare keys under strict, and ignore extra keys", () => {
    same((face) => {
      const db = strict(face);
      return [db.query("SELECT $a AS a, :b AS b, @c AS c").get({ a: 1, b: 2, c: 3 }), db.query("SELECT $a AS a").get({ a: 1, z: 2 })];
    }, { value: [{ a: 1, b: 2, c: 3 }, { a: 1 }] });
  });

  it("should throw an error naming a missing parameter under strict", () => {
    const { bun, hardened } = both((face) => {
      try {
        strict(face).query("SELECT $a AS a, $b AS b").get({ a: 1 });
        return "no error";
      } catch (error: any) {
        return { isError: error instanceof Error, namesIt: /"b"/.test(error.message) };
      }
    });
    expect(bun.value).toEqual({ isError: true, namesIt: true });
    expect(hardened.value).toEqual(bun.value);
  });
});

describe("values", () => {
  it("should store integers, reals and booleans as SQLite does in bun:sqlite", () => {
    same((face) => plain(face).query(
      "SELECT typeof(?1) AS five, typeof(?2) AS big, typeof(?3) AS half, typeof(?4) AS yes, ?4 AS one, ?5 AS zero, typeof(?6) AS text, typeof(?7) AS nan, ?7 AS nanValue, ?8 AS nul",
    ).get(5, 2 ** 40, 2.5, true, false, "5", NaN, null), {
      value: { five: "integer", big: "integer", half: "real", yes: "integer", one: 1, zero: 0, text: "text", nan: "null", nanValue: null, nul: null },
    });
  });

  it("should bind bigints within 64 bits as integers", () => {
    same((face) => plain(face).query("SELECT typeof(?1) AS type, ?1 AS value, ?2 AS min").get(5n, -(2n ** 53n) + 1n), {
      value: { type: "integer", value: 5, min: -9007199254740991 },
    });
  });

  it("should throw a TypeError for Date, Map, Set, symbols and functions", () => {
    for (const value of [new Date(0), new Map(), new Set(), Symbol("s"), () => 1]) {
      same((face) => plain(face).query("SELECT ? AS a").get(value), { error: { class: "TypeError" } });
    }
  });

  it("should take Buffer, Uint8Array and ArrayBuffer as blobs, and give back Uint8Array", () => {
    same((face) => plain(face).query("SELECT ? AS a, ? AS b, ? AS c, typeof(?3) AS type").get(
      Buffer.from([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5]).buffer,
    ), { value: { a: { Uint8Array: [1, 2] }, b: { Uint8Array: [3] }, c: { Uint8Array: [4, 5] }, type: "blob" } });
  });

  it("should read bigints under safeIntegers, per database and per statement", () => {
    same((face) => {
      const db = new face.Database(":memory:", { safeIntegers: true });
      const other = plain(face);
      return [
        db.query("SELECT ? AS a, 9223372036854775807 AS max").get(2n ** 62n),
        other.prepare("SELECT 5 AS a").safeIntegers(true).get(),
        other.prepare("SELECT 5 AS a").get(),
      ];
    }, { value: [{ a: { bigint: "4611686018427387904" }, max: { bigint: "9223372036854775807" } }, { a: { bigint: "5" } }, { a: 5 }] });
  });

  it("should refuse bigints outside 64 bits with a RangeError under safeIntegers", () => {
    same((face) => new face.Database(":memory:", { safeIntegers: true }).query("SELECT ? AS a").get(2n ** 64n), {
      error: { class: "RangeError" },
    });
  });
});

describe("integers beyond ±2^53 without safeIntegers: on purpose different", () => {
  // bun:sqlite rounds such integers to the nearest double when reading, and
  // wraps a bigint beyond 64 bits when binding: both change a value silently.
  // hardened-sqlite/bun throws instead (HARDENED_INTEGER_OVERFLOW on read; a
  // RangeError on bind), as the main face does; docs/bun.md lists it.
  it("should throw on reading where bun:sqlite rounds", () => {
    const { bun, hardened } = both((face) => plain(face).query("SELECT 9007199254740993 AS a").get());
    expect(bun.value).toEqual({ a: 9007199254740992 });
    expect(hardened.error).toMatchObject({ class: "RangeError" });
    const code = both((face) => {
      try {
        plain(face).query("SELECT 9007199254740993 AS a").get();
      } catch (error: any) {
        return error.code;
      }
    }).hardened.value;
    expect(code).toBe("HARDENED_INTEGER_OVERFLOW");
  });

  it("should throw on binding a bigint beyond 64 bits where bun:sqlite wraps it", () => {
    const { bun, hardened } = both((face) => plain(face).query("SELECT ? AS a").get(2n ** 64n));
    expect(bun.value).toEqual({ a: 0 });
    expect(hardened.error).toEqual({ class: "RangeError" });
  });
});
