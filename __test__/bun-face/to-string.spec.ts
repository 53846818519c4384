// bun:sqlite conformance: stmt.toString() writes the values bound last into
// the SQL as sqlite3_expanded_sql does (quotes doubled, NULL, reals with ".0"
// or an exponent, integers, booleans, BLOBs as x'..'), and the one difference
// on purpose: a bound string or BLOB longer than 32 bytes is cut
// (SQLITE_TRACE_SIZE_LIMIT=32, docs/bun.md). See faces.ts.
import { describe, expect, it } from "bun:test";
import { same, both } from "./faces";

describe("stmt.toString()", () => {
  it("should write each kind of value bound last as bun:sqlite does", () => {
    same((face) => {
      const db = new face.Database();
      const select = db.prepare("SELECT ?1 AS a, ?2 AS b, ?3 AS c, ?4 AS d, ?5 AS e, ?6 AS f, ?7 AS g, ?8 AS h, ?9 AS i, ?10 AS j");
      const unbound = select.toString();
      select.all(`it's "q"`, null, 1.5, 42, new Uint8Array([0, 255, 16]), true, 2n ** 40n, -0, 1e20, 0.1);
      const named = db.prepare("SELECT $a AS a, :b AS b, @c AS c");
      named.all({ $a: -7, ":b": "two", "@c": undefined });
      return [unbound, select.toString(), named.toString(), String(named), JSON.stringify(named)];
    }, {
      value: [
        "SELECT NULL AS a, NULL AS b, NULL AS c, NULL AS d, NULL AS e, NULL AS f, NULL AS g, NULL AS h, NULL AS i, NULL AS j",
        `SELECT 'it''s "q"' AS a, NULL AS b, 1.5 AS c, 42 AS d, x'00ff10' AS e, 1 AS f, 1099511627776 AS g, 0.0 AS h, 1.0e+20 AS i, 0.1 AS j`,
        "SELECT -7 AS a, 'two' AS b, NULL AS c",
        "SELECT -7 AS a, 'two' AS b, NULL AS c",
        `{"sql":"SELECT -7 AS a, 'two' AS b, NULL AS c","isFinalized":false,"paramsCount":3,"columnNames":["a","b","c"]}`,
      ],
    });
  });

  it("should write strings and BLOBs of up to 32 bytes in full", () => {
    same((face) => {
      const select = new face.Database().prepare("SELECT ? AS a, ? AS b, ? AS c");
      select.all("x".repeat(32), new Uint8Array(32).fill(171), "é".repeat(16));
      return select.toString();
    }, { value: `SELECT '${"x".repeat(32)}' AS a, x'${"ab".repeat(32)}' AS b, '${"é".repeat(16)}' AS c` });
  });

  it("should cut longer ones after 32 bytes, where bun:sqlite writes them in full (on purpose, docs/bun.md)", () => {
    const { bun, hardened } = both((face) => {
      const select = new face.Database().prepare("SELECT ? AS a, ? AS b, ? AS c");
      select.all("x".repeat(40), new Uint8Array(40).fill(171), "é".repeat(20));
      return select.toString();
    });
    expect(bun).toEqual({ value: `SELECT '${"x".repeat(40)}' AS a, x'${"ab".repeat(40)}' AS b, '${"é".repeat(20)}' AS c` });
    expect(hardened).toEqual({
      value: `SELECT '${"x".repeat(32)}'/*+8 bytes*/ AS a, x'${"ab".repeat(32)}'/*+8 bytes*/ AS b, '${"é".repeat(16)}'/*+8 bytes*/ AS c`,
    });
  });
});
