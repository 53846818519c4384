// Argument validation of every HardenedDb method: wrong types and out-of-range
// values throw a TypeError or RangeError with a code and a message naming the
// argument, and describing the value never throws (Symbols, hostile objects).
import { describe, it, expect, beforeEach, afterEach } from "bun:test";
import { HardenedDb } from "../index.js";
import { tempDir, exists, runScript, thrown } from "./helpers";

let tmp: ReturnType<typeof tempDir>;
let db: HardenedDb;
beforeEach(() => {
  tmp = tempDir("hs-args");
  db = new HardenedDb(tmp.path("app.db"));
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

/** Values whose description in a message must not throw. */
const revoked = Proxy.revocable({}, {});
revoked.revoke();
const HOSTILE: [string, unknown][] = [
  ["a symbol", Symbol("s")],
  ["an object with a throwing toString", { toString: () => { throw new Error("no"); } }],
  ["a revoked proxy", revoked.proxy],
  ["an object without a prototype", Object.assign(Object.create(null), { x: 1 })],
];

function expectCoded(error: any, type: typeof TypeError | typeof RangeError, code: string, mentions: string) {
  expect(error).toBeInstanceOf(type);
  expect(error.code).toBe(code);
  expect(error.message).toContain(mentions);
}

describe('db.pragma("busy_timeout = N")', () => {
  it("should refuse values outside 0 to 2147483647, in every form, and keep the timeout", () => {
    const forms = (v: string) => [`busy_timeout = ${v}`, `busy_timeout(${v})`, `main.busy_timeout = ${v};`, `BUSY_TIMEOUT=${v}`];
    for (const value of ["4294967296", "99999999999", "2147483648", "-1", "1.5", "abc", "'5000000000'", ""]) {
      for (const source of forms(value)) {
        const error = thrown(() => db.pragma(source));
        expectCoded(error, RangeError, "HARDENED_INVALID_ARGUMENT", "PRAGMA busy_timeout takes a whole number of milliseconds from 0 to 2147483647");
      }
    }
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
  });

  it("should set values in range, quoted or in the function form", () => {
    db.pragma("busy_timeout = 2147483647");
    expect(db.pragma("busy_timeout", { simple: true })).toBe(2147483647);
    db.pragma("busy_timeout(250)");
    expect(db.pragma("busy_timeout", { simple: true })).toBe(250);
    expect(db.pragma("main.busy_timeout = '300'")).toEqual([{ timeout: 300 }]);
    db.pragma("busy_timeout = 0");
    expect(db.pragma("busy_timeout", { simple: true })).toBe(0);
  });
});

describe("db.pragma(source, options)", () => {
  it("should refuse options that are not { simple: boolean }", () => {
    expectCoded(thrown(() => db.pragma("user_version", 5 as any)), TypeError, "HARDENED_INVALID_ARGUMENT", "pragma options to be an object");
    expectCoded(thrown(() => db.pragma("user_version", { simple: "yes" } as any)), TypeError, "HARDENED_INVALID_ARGUMENT", 'Option "simple" of pragma must be a boolean, got "yes"');
    expectCoded(thrown(() => db.pragma("user_version", { simpel: true } as any)), TypeError, "HARDENED_INVALID_ARGUMENT", 'Unknown pragma option "simpel"');
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    expect(db.pragma("user_version", {})).toEqual([{ user_version: 0 }]);
  });
});

describe("new HardenedDb(path, { fileMode })", () => {
  it("should refuse a mode without the owner's read and write bits", () => {
    for (const fileMode of [1, 0o400, 0o200, 0o044, 0o070]) {
      const error = thrown(() => new HardenedDb(tmp.path("x.db"), { fileMode }));
      expectCoded(error, RangeError, "HARDENED_INVALID_OPTION", '"fileMode" must give the owner read and write access');
    }
    expect(exists(tmp.path("x.db"))).toBe(false);
    new HardenedDb(tmp.path("x.db"), { fileMode: 0o640 }).close();
  });
});

describe("every method with a value it cannot take", () => {
  const calls: [string, (value: any) => unknown, typeof TypeError | typeof RangeError, string, string][] = [
    ["incrementalVacuum", (v) => db.incrementalVacuum(v), TypeError, "HARDENED_INVALID_ARGUMENT", "incrementalVacuum(pages)"],
    ["checkpoint", (v) => db.checkpoint(v), TypeError, "HARDENED_INVALID_ARGUMENT", "checkpoint mode"],
    ["prepare", (v) => db.prepare(v), TypeError, "HARDENED_INVALID_ARGUMENT", "SQL"],
    ["exec", (v) => db.exec(v), TypeError, "HARDENED_INVALID_ARGUMENT", "SQL"],
    ["pragma", (v) => db.pragma(v), TypeError, "HARDENED_INVALID_ARGUMENT", "pragma"],
    ["pragma options", (v) => db.pragma("user_version", v), TypeError, "HARDENED_INVALID_ARGUMENT", "pragma option"],
    ["defaultSafeIntegers", (v) => db.defaultSafeIntegers(v), TypeError, "HARDENED_INVALID_ARGUMENT", "defaultSafeIntegers(toggle)"],
    ["transaction", (v) => db.transaction(v), TypeError, "HARDENED_INVALID_ARGUMENT", "transaction()"],
    ["transaction retries", (v) => db.transaction(() => {}, { retries: v }), TypeError, "HARDENED_INVALID_OPTION", '"retries"'],
    ["integrityCheck", (v) => db.integrityCheck({ quick: v }), TypeError, "HARDENED_INVALID_ARGUMENT", '"quick"'],
    ["health", (v) => db.health({ integrity: v }), TypeError, "HARDENED_INVALID_ARGUMENT", '"integrity"'],
    ["migrate", (v) => db.migrate(v), TypeError, "HARDENED_INVALID_ARGUMENT", "migrations argument"],
    ["constructor", (v) => new HardenedDb(v), TypeError, "HARDENED_INVALID_PATH", "database path"],
  ];
  for (const [name, call, type, code, mentions] of calls) {
    it(`should throw a coded error from ${name}() for a symbol, a hostile object or a revoked proxy`, () => {
      for (const [, value] of HOSTILE) expectCoded(thrown(() => call(value)), type, code, mentions);
    });
  }

  it("should reject from backup() with a coded error, and refuse a NUL in the path", async () => {
    for (const [, value] of HOSTILE) {
      expectCoded(await db.backup(value as any).catch((e) => e), TypeError, "HARDENED_INVALID_ARGUMENT", "backup destination");
      expectCoded(await db.backup(tmp.path("b.db"), { overwrite: value } as any).catch((e) => e), TypeError, "HARDENED_INVALID_ARGUMENT", '"overwrite"');
    }
    expectCoded(await db.backup(tmp.path("a\0b.db")).catch((e) => e), TypeError, "HARDENED_INVALID_ARGUMENT", "NUL character");
  });

  it("should name the value it got: a symbol, a number out of range, a string", () => {
    expect(thrown(() => db.incrementalVacuum(Symbol() as any)).message).toContain("got a symbol");
    expectCoded(thrown(() => db.incrementalVacuum(1.5)), RangeError, "HARDENED_INVALID_ARGUMENT", "got 1.5");
    expectCoded(thrown(() => db.incrementalVacuum(0)), RangeError, "HARDENED_INVALID_ARGUMENT", "from 1 to 4294967295");
    expect(thrown(() => db.incrementalVacuum("3" as any)).message).toContain('got "3"');
    expect(thrown(() => db.transaction(() => {}, { retries: -1 })).message).toContain("got -1");
  });
});

describe("argument validation under Node", () => {
  it("should throw the same coded errors", () => {
    const { status, stdout, stderr } = runScript(
      `const { HardenedDb } = require('./index.js');
      const db = new HardenedDb(${JSON.stringify(tmp.path("node.db"))});
      const codes = [];
      const attempt = (fn) => { try { fn(); codes.push('none'); } catch (e) { codes.push(e.constructor.name + ' ' + e.code); } };
      attempt(() => db.incrementalVacuum(Symbol()));
      attempt(() => db.pragma('busy_timeout = 4294967296'));
      attempt(() => db.pragma('user_version', 5));
      attempt(() => db.pragma('user_version', { simple: 'yes' }));
      attempt(() => new HardenedDb(${JSON.stringify(tmp.path("other.db"))}, { fileMode: 1 }));
      attempt(() => db.transaction(() => {}, { retries: Symbol() }));
      codes.push(db.pragma('busy_timeout', { simple: true }));
      db.close();
      console.log(JSON.stringify(codes));`,
      "node",
    );
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      "TypeError HARDENED_INVALID_ARGUMENT",
      "RangeError HARDENED_INVALID_ARGUMENT",
      "TypeError HARDENED_INVALID_ARGUMENT",
      "TypeError HARDENED_INVALID_ARGUMENT",
      "RangeError HARDENED_INVALID_OPTION",
      "TypeError HARDENED_INVALID_OPTION",
      5000,
    ]);
  });
});
