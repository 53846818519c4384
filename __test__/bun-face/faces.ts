// The two faces the conformance suite compares: bun:sqlite itself (the peer,
// Bun's docs and Bun 1.4's behaviour are the spec) and hardened-sqlite/bun.
// A scenario runs once per face in its own temp dir; its outcome is described
// as plain data (types made explicit) so the two can be compared with toEqual.
import { expect, afterEach } from "bun:test";
import * as peer from "bun:sqlite";
import { tempDir } from "../helpers";

/** What a scenario gets: one face's classes and a fresh directory. */
export interface Face {
  /** "bun:sqlite" or "hardened-sqlite/bun". */
  name: string;
  /** True for our face. */
  ours: boolean;
  Database: any;
  Statement: any;
  SQLiteError: any;
  /** Our face's error class for the hardened checks (undefined on bun:sqlite). */
  HardenedDbError: any;
  constants: any;
  /** A path in this scenario's own temp dir. */
  path: (name: string) => string;
}

/** Our face, as `import ... from "hardened-sqlite/bun"` gives it (the repo's bun.js), loaded on first use. */
export function ours(): any {
  return require("../../bun.js");
}

const dirs: Array<{ cleanup: () => void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function make(name: string, api: any, isOurs: boolean): Face {
  const dir = tempDir(isOurs ? "bunface-ours" : "bunface-peer");
  dirs.push(dir);
  const { Database, Statement, SQLiteError, HardenedDbError, constants } = api;
  return { name, ours: isOurs, Database, Statement, SQLiteError, HardenedDbError, constants, path: dir.path };
}

/** bun:sqlite, with a fresh temp dir. */
export const peerFace = (): Face => make("bun:sqlite", peer, false);

/** hardened-sqlite/bun, with a fresh temp dir. */
export const ourFace = (): Face => make("hardened-sqlite/bun", ours(), true);

/** A thrown error as data: its class, codes, and whether it is the face's SQLiteError. */
export function describeError(error: any, face: Face) {
  if (!(error instanceof Error)) return { thrownNonError: String(error) };
  const described: Record<string, unknown> = {
    class: error instanceof face.SQLiteError ? "SQLiteError" : error.constructor.name,
  };
  if (error instanceof face.SQLiteError) {
    described.code = error.code;
    described.errno = error.errno;
  }
  return described;
}

/** A value as data that keeps its type: Uint8Array vs Buffer, bigint vs number, class instances. */
export function describeValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return { [value.constructor.name]: Array.from(value) };
  if (typeof value === "bigint") return { bigint: value.toString() };
  if (Array.isArray(value)) return value.map(describeValue);
  if (value && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    const entries = Object.entries(value).map(([key, v]) => [key, describeValue(v)]);
    const plain = proto === Object.prototype || proto === null;
    return plain ? Object.fromEntries(entries) : { class: value.constructor?.name, ...Object.fromEntries(entries) };
  }
  return value;
}

/** Runs `scenario` and returns its value or its error, described. */
export function outcome(face: Face, scenario: (face: Face) => unknown) {
  try {
    return { value: describeValue(scenario(face)) };
  } catch (error) {
    return { error: describeError(error, face) };
  }
}

/**
 * Runs `scenario` on both faces; asserts bun:sqlite gives `expected` (so the
 * test proves itself on the peer) and that our face gives the same.
 */
export function same(scenario: (face: Face) => unknown, expected: { value?: unknown; error?: unknown }) {
  const bun = outcome(peerFace(), scenario);
  expect(bun).toEqual(expected);
  expect(outcome(ourFace(), scenario)).toEqual(bun);
}

/** Runs `scenario` on both faces and returns both outcomes, for when the faces differ on purpose. */
export function both(scenario: (face: Face) => unknown) {
  return { bun: outcome(peerFace(), scenario), hardened: outcome(ourFace(), scenario) };
}

/** What `fn` throws: its class and bun's text (the message up to its first ": "), or "ok". */
export function failure(fn: () => unknown) {
  try {
    fn();
    return "ok";
  } catch (error: any) {
    return [error instanceof TypeError ? "TypeError" : "Error", String(error.message).split(": ")[0]];
  }
}
