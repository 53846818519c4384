// bun:sqlite conformance: `new Database(bytes)` for every kind of byte view,
// and the message of SQLITE_CANTOPEN when a missing file may not be created
// (bun:sqlite's text, then ours naming what the caller passed). Scenarios run
// on bun:sqlite and on hardened-sqlite/bun; see faces.ts.
import { describe, expect, it } from "bun:test";
import { same, ourFace } from "./faces";

/** The bytes of a database with t(x) holding 1. */
function image(face: any): Uint8Array {
  const db = new face.Database();
  db.run("CREATE TABLE t (x)");
  db.run("INSERT INTO t VALUES (1)");
  return db.serialize();
}

describe("new Database(bytes)", () => {
  it("should open a Buffer, Uint8Array, DataView or other TypedArray over the bytes, with options or flags", () => {
    same((face) => {
      const bytes = image(face);
      const views = [bytes, new Uint8Array(bytes), new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2)];
      const opened = views.map((view) => {
        const db = new face.Database(view);
        db.run("INSERT INTO t VALUES (2)");
        return [db.filename, db.query("SELECT x FROM t").values()];
      });
      const strict = new face.Database(bytes, { strict: true });
      strict.run("INSERT INTO t VALUES ($x)", { x: 3 });
      const flags = new face.Database(bytes, face.constants.SQLITE_OPEN_READWRITE);
      flags.run("INSERT INTO t VALUES (4)");
      return [opened, strict.query("SELECT x FROM t").values(), flags.query("SELECT count(*) AS n FROM t").get()];
    }, {
      value: [Array(4).fill([":memory:", [[1], [2]]]), [[1], [3]], { n: 2 }],
    });
  });

  it("should leave the bytes given untouched", () => {
    same((face) => {
      const bytes = image(face);
      const copy = Uint8Array.from(bytes);
      new face.Database(bytes).run("INSERT INTO t VALUES (2)");
      return Buffer.compare(bytes, copy);
    }, { value: 0 });
  });

  it("should take an ArrayBuffer or SharedArrayBuffer in Database.deserialize (not in the constructor)", () => {
    same((face) => {
      const bytes = image(face);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const shared = new SharedArrayBuffer(bytes.byteLength);
      new Uint8Array(shared).set(bytes);
      return [face.Database.deserialize(buffer).query("SELECT x FROM t").values(), face.Database.deserialize(shared, true).query("SELECT x FROM t").values()];
    }, { value: [[[1]], [[1]]] });
  });

  it("should refuse an empty view and a bare ArrayBuffer", () => {
    same((face) => {
      const tries = [() => new face.Database(new Uint8Array(0)), () => new face.Database(new ArrayBuffer(8))];
      return tries.map((fn) => {
        try {
          fn();
          return "opened";
        } catch (error: any) {
          return String(error.message).split(": ")[0].replace(/, got .*/, "");
        }
      });
    }, { value: ["ArrayBuffer must not be empty", "Expected 'filename' to be a string"] });
  });
});

describe("SQLITE_CANTOPEN on a missing file", () => {
  it("should start with bun:sqlite's message and name what the caller passed, never fileMustExist", () => {
    const face = ourFace();
    const cases: Array<[unknown, RegExp]> = [
      [face.constants.SQLITE_OPEN_READWRITE, /the flags lack SQLITE_OPEN_CREATE/],
      [face.constants.SQLITE_OPEN_READONLY, /SQLITE_OPEN_READONLY/],
      [{ create: false }, /"create: false"/],
      [{ readwrite: true }, /"readwrite: true" without "create: true"/],
      [{ readonly: true }, /"readonly: true"/],
      [{ readwrite: false }, /"readwrite: false"/],
    ];
    for (const [options, named] of cases) {
      const path = face.path(`missing-${Math.random()}.db`);
      let error: any;
      try {
        face.Database.open(path, options);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(face.SQLiteError);
      expect(error.code).toBe("SQLITE_CANTOPEN");
      expect(error.message.startsWith(`unable to open database file: ${path} does not exist and `)).toBe(true);
      expect(error.message).toMatch(named);
      expect(error.message).not.toContain("fileMustExist");
    }
  });
});
