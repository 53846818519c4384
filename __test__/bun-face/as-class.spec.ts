// bun:sqlite conformance: what stmt.as(Class) accepts and refuses (every kind
// of function, bound functions, prototypes that are not objects), and that
// the prototype is read when as() is called. Every scenario runs on
// bun:sqlite (asserting the expected value) and on hardened-sqlite/bun
// (asserting the same outcome); see faces.ts.
import { describe, it } from "bun:test";
import { failure, same } from "./faces";

describe("stmt.as(Class)", () => {
  it("should refuse every function that is not a constructor, and objects", () => {
    same((face) => {
      const select = new face.Database().query("SELECT 1 AS a");
      const notConstructors = [() => {}, async function () {}, function* () {}, { m() {} }.m, {}, Math.max];
      return notConstructors.map((value) => failure(() => select.as(value as any)));
    }, { value: Array(6).fill(["TypeError", "Expected a constructor"]) });
  });

  it("should refuse a bound function (no prototype) and a prototype that is null, and take any object prototype", () => {
    same((face) => {
      const select = new face.Database().query("SELECT 1 AS a");
      class Row {}
      function NullPrototype() {}
      NullPrototype.prototype = null as any;
      function FunctionPrototype() {}
      FunctionPrototype.prototype = function () {} as any;
      return [
        failure(() => select.as(Row.bind(null))),
        failure(() => select.as(NullPrototype as any)),
        failure(() => select.as(FunctionPrototype as any)),
        failure(() => select.as(new Proxy(Row, {}))),
        failure(() => select.as(5 as any)),
      ];
    }, {
      value: [
        ["TypeError", "Expected constructor to have a prototype"],
        ["TypeError", "Expected a constructor prototype to be an object"],
        "ok",
        "ok",
        ["TypeError", "Expected class to be a constructor or undefined"],
      ],
    });
  });

  it("should give rows the prototype the class had when as() was called", () => {
    same((face) => {
      const select = new face.Database().query("SELECT 1 AS a");
      function Row() {}
      Object.defineProperty(Row.prototype, "double", { get() { return this.a * 2; } });
      const original = Row.prototype;
      select.as(Row as any);
      Row.prototype = {};
      const row = select.get();
      const rows = select.all();
      const iterated = [...select.iterate()];
      return [Object.getPrototypeOf(row) === original, row.double, Object.getPrototypeOf(rows[0]) === original,
        Object.getPrototypeOf(iterated[0]) === original];
    }, { value: [true, 2, true, true] });
  });
});
