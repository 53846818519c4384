// bun:sqlite conformance: how an object of bindings fills each kind of
// parameter (`?`, `?NNN`, `$name`/`:name`/`@name`), with and without
// `strict: true`: numeric keys fill parameters by position, which key wins when
// several fit, own properties only, and the name a missing one is reported by.
// Every scenario runs on bun:sqlite (asserting the expected value) and on
// hardened-sqlite/bun (asserting the same outcome); see faces.ts.
import { describe, it } from "bun:test";
import { same } from "./faces";

/** Runs `sql` on a fresh database with `input` as the bindings object: its rows, or the error's class and bun's text. */
function bindOutcome(face: any, strict: boolean, sql: string, input: unknown) {
  const db = new face.Database(":memory:", { strict });
  try {
    return db.query(sql).all(input);
  } catch (error: any) {
    return [error instanceof Error ? "Error" : "non-error", String(error.message).split(": ")[0]];
  }
}

/** [sql, input, rows or error without strict, with strict]. */
const CASES: Array<[string, unknown, unknown, unknown]> = [
  ["SELECT ?1 AS a, ?2 AS b", { 0: "x", 1: "y" }, [{ a: "x", b: "y" }], [{ a: "x", b: "y" }]],
  ["SELECT ?2 AS a, ?1 AS b", { 0: "x", 1: "y" }, [{ a: "y", b: "x" }], [{ a: "y", b: "x" }]],
  ["SELECT ? AS a, ? AS b", { 0: "x", 1: "y" }, [{ a: "x", b: "y" }], [{ a: "x", b: "y" }]],
  ["SELECT ?1 AS a, ?2 AS b", { 1: "x", 2: "y" }, [{ a: null, b: "x" }], ["Error", 'Missing parameter "?1"']],
  ["SELECT ?5 AS a", { 4: "x" }, [{ a: "x" }], ["Error", 'Missing parameter "?1"']],
  ["SELECT ?3 AS a, ?1 AS b", { 0: "x", 2: "z" }, [{ a: "z", b: "x" }], ["Error", 'Missing parameter "?2"']],
  ["SELECT ?1 AS a", { "?1": "name", 0: "index" }, [{ a: "name" }], [{ a: "index" }]],
  ["SELECT ?1 AS a", { 1: "one" }, [{ a: null }], ["Error", 'Missing parameter "?1"']],
  ["SELECT ? AS a", { "?1": "name" }, [{ a: null }], ["Error", 'Missing parameter "?1"']],
  ["SELECT ?1 AS a", { "00": "x" }, [{ a: null }], ["Error", 'Missing parameter "?1"']],
  ["SELECT $x AS a, ?2 AS b", { x: "x", 1: "y" }, [{ a: "x", b: "y" }], [{ a: "x", b: "y" }]],
  ["SELECT ? AS b, $x AS a", { $x: "x", 0: "y" }, [{ b: "y", a: "x" }], [{ b: "y", a: "x" }]],
  ["SELECT $x AS a", { x: "bare", $x: "full" }, [{ a: "full" }], [{ a: "bare" }]],
  ["SELECT $x AS a", { x: undefined, $x: "full" }, [{ a: "full" }], [{ a: null }]],
  ["SELECT $x AS a", { 0: "index" }, [{ a: null }], ["Error", 'Missing parameter "x"']],
  ["SELECT :1 AS a", { 1: "one" }, [{ a: "one" }], [{ a: "one" }]],
  ["SELECT :1 AS a", { 0: "index" }, [{ a: null }], ["Error", 'Missing parameter ":1"']],
  ["SELECT ?1 AS a, ?2 AS b", { 0: "x", 1: undefined }, [{ a: "x", b: null }], [{ a: "x", b: null }]],
  ["SELECT ?1 AS a, ?1 AS b", { 0: "x" }, [{ a: "x", b: "x" }], [{ a: "x", b: "x" }]],
  ["SELECT ?1 AS a", { get 0() { return "getter"; } }, [{ a: "getter" }], [{ a: "getter" }]],
  ["SELECT ?1 AS b, $toString AS a", Object.assign(Object.create(null), { 0: "x" }), [{ b: "x", a: null }], ["Error", 'Missing parameter "$toString"']],
  ["SELECT ? AS b, $x AS a", { 0: "y" }, [{ b: "y", a: null }], ["Error", 'Missing parameter "x"']],
];

describe("an object of bindings", () => {
  for (const [sql, input, loose, strict] of CASES) {
    it(`should fill ${sql} from ${JSON.stringify(input)} as bun:sqlite does, with and without strict`, () => {
      same((face) => [bindOutcome(face, false, sql, input), bindOutcome(face, true, sql, input)], { value: [loose, strict] });
    });
  }

  it("should read own properties only, not inherited ones such as Object.prototype's", () => {
    same((face) => {
      const db = new face.Database();
      return [db.query("SELECT $toString AS a, $constructor AS b").get({}), db.query("SELECT $x AS a").get({ y: 1 })];
    }, { value: [{ a: null, b: null }, { a: null }] });
  });
});
