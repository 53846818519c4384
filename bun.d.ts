/**
 * Typings of `hardened-sqlite/bun` (bun.js): bun:sqlite's API on the hardened
 * connection. They follow `bun:sqlite`'s own, so that code typed against it
 * compiles after its import line changes (docs/bun.md).
 */
import type {
  HardenedDbOptions,
  HealthReport,
  CheckpointResult,
  BackupOptions,
  BackupResult,
  MigrationSource,
  MigrationStatus,
  MigrationReport,
  TransactionOptions,
} from "./index.js";
export { HardenedDbError } from "./index.js";

/** A value the face binds: numbers (INTEGER when whole and safe, else REAL), bigints, strings, booleans, `null`, and any TypedArray, DataView or ArrayBuffer as a BLOB. */
export type SQLQueryBindings =
  | string
  | bigint
  | NodeJS.TypedArray
  | DataView
  | ArrayBuffer
  | number
  | boolean
  | null
  | undefined
  | Record<string, string | bigint | NodeJS.TypedArray | DataView | ArrayBuffer | number | boolean | null | undefined>;

/** Options of `new Database(path, options)`: bun:sqlite's and every hardened one (docs/options.md). Unknown keys throw `HARDENED_INVALID_OPTION`. */
export interface DatabaseOptions extends HardenedDbOptions {
  /** Open read-only (the file must exist). */
  readonly?: boolean;
  /** Create the file if missing (the default, unless `readwrite: true` alone is given). */
  create?: boolean;
  /** `false` opens read-only; `true` without `create: true` requires the file to exist. */
  readwrite?: boolean;
  /** Named keys without their `$`/`:`/`@` prefix; a missing parameter throws `HARDENED_MISSING_PARAMETER`. */
  strict?: boolean;
  /** INTEGER columns and `lastInsertRowid` as `bigint`. */
  safeIntegers?: boolean;
}

/** `{ changes, lastInsertRowid }` of a write. */
export interface Changes {
  /** Rows changed. */
  changes: number;
  /** The last inserted rowid (a bigint under `safeIntegers`). */
  lastInsertRowid: number | bigint;
}

/** What `stmt.native` gives: the statement's metadata under bun:sqlite's native names. */
export interface NativeStatementView {
  /** The result column names. */
  readonly columns: string[];
  /** How many result columns. */
  readonly columnsCount: number;
  /** How many parameters the statement takes. */
  readonly paramsCount: number;
  /** The storage class of each column in the first row. */
  readonly columnTypes: Array<"INTEGER" | "FLOAT" | "TEXT" | "BLOB" | "NULL">;
  /** Each column's declared type, `null` for an expression. */
  readonly declaredTypes: Array<string | null>;
  /** Whether INTEGER columns come back as bigint. */
  readonly safeIntegers: boolean;
  /** Whether the statement was finalized. */
  readonly isFinalized: boolean;
  /** Whether the statement never writes. */
  readonly readonly: boolean;
  /** Finalizes the statement. */
  finalize(): void;
  /** The SQL with its bound values. */
  toString(): string;
}

/** A prepared statement (from `db.query()` or `db.prepare()`). */
export declare class Statement<ReturnType = unknown, ParamsType extends SQLQueryBindings[] = any[]> {
  private constructor();
  /** The first row, or `null`. */
  get(...params: ParamsType): ReturnType | null;
  /** Every row. */
  all(...params: ParamsType): ReturnType[];
  /** Every row as an array of its values. */
  values(...params: ParamsType): Array<Array<string | bigint | number | boolean | Uint8Array | null>>;
  /** Every row as each value's bytes: INTEGER/REAL as 8 little-endian bytes, TEXT as UTF-8, NULL as `null`. */
  raw(...params: ParamsType): Array<Array<Uint8Array | null>>;
  /** Runs it; `{ changes, lastInsertRowid }`. */
  run(...params: ParamsType): Changes;
  /** The rows one at a time. */
  iterate(...params: ParamsType): IterableIterator<ReturnType>;
  [Symbol.iterator](): IterableIterator<ReturnType>;
  /** Rows as instances of `Class` (its constructor is not called). */
  as<T = unknown>(Class: new (...args: any[]) => T): Statement<T, ParamsType>;
  /** Turns bigint INTEGERs on or off. */
  safeIntegers(toggle: boolean): this;
  /** Whether INTEGERs come back as bigint. */
  safeIntegers(): boolean;
  /** Frees the statement now. */
  finalize(): void;
  /** The SQL with the values bound last written in. */
  toString(): string;
  /** `[object "<expanded SQL>"]` for `Object.prototype.toString`. */
  readonly [Symbol.toStringTag]: string;
  /** What `JSON.stringify` shows. */
  toJSON(): { sql: string; isFinalized: boolean; paramsCount: number; columnNames: string[] };
  /** Whether `finalize()` was called. */
  readonly isFinalized: boolean;
  /** The result column names. */
  readonly columnNames: string[];
  /** Storage classes of the first row with the values bound last (read-only statements only). */
  readonly columnTypes: Array<"INTEGER" | "FLOAT" | "TEXT" | "BLOB" | "NULL">;
  /** Declared column types, `null` for expressions. */
  readonly declaredTypes: Array<string | null>;
  /** How many parameters it takes. */
  readonly paramsCount: number;
  /** The native statement's metadata, as bun:sqlite's `stmt.native` shows it. */
  readonly native: NativeStatementView;
  /** Whether it returns rows. */
  readonly reader: boolean;
  /** Whether it never writes. */
  readonly readonly: boolean;
  [Symbol.dispose](): void;
}

/** `db.onInsert`/`onUpdate`/`onDelete`: `this` is the database too; `rowid` is a bigint under `safeIntegers`. */
export type UpdateHook = (this: Database, database: Database, tableName: string, rowid: number | bigint, schemaName: string) => void;

/** A transaction function: IMMEDIATE by default, with each behaviour as a variant. */
export type Transaction<F extends (...args: any[]) => any> = F & {
  deferred: F;
  immediate: F;
  exclusive: F;
};

/** A hardened SQLite connection with bun:sqlite's API. */
export declare class Database {
  /** Opens `path` (`":memory:"` by default) with options or `SQLITE_OPEN_*` flags. */
  constructor(path?: string | NodeJS.TypedArray | DataView, options?: DatabaseOptions | number);
  /** `new Database(path, flags)`. */
  static open(path: string, flags?: number | DatabaseOptions): Database;
  /** An in-memory copy of `serialize()`'s bytes; `true` (or `{ readonly: true }`) opens it read-only. */
  static deserialize(bytes: NodeJS.TypedArray | DataView | ArrayBufferLike, options?: boolean | DatabaseOptions): Database;
  /** Not supported: throws `HARDENED_UNSUPPORTED`. */
  static setCustomSQLite(path: string): never;
  /** Most statements `query()` keeps. */
  static readonly MAX_QUERY_CACHE_SIZE: number;
  /** The path given (`":memory:"` for in-memory). */
  readonly filename: string;
  /** A number that identifies this database in the process; it stays after `close()`. */
  readonly handle: number;
  /** Called for each row a statement of this connection inserts, while it runs; `null` when not set. */
  onInsert: UpdateHook | null;
  /** Called for each row updated (`rowid`: after the update); `null` when not set. */
  onUpdate: UpdateHook | null;
  /** Called for each row deleted; `null` when not set. */
  onDelete: UpdateHook | null;
  /** Whether it is open (hardened-sqlite's addition). */
  readonly open: boolean;
  /** Whether a transaction is active. */
  readonly inTransaction: boolean;
  /** A statement cached per SQL text. */
  query<ReturnType = Record<string, unknown>, ParamsType extends SQLQueryBindings | SQLQueryBindings[] = any[]>(
    sql: string,
  ): Statement<ReturnType, ParamsType extends any[] ? ParamsType : [ParamsType]>;
  /** A new statement; `params` are bound now. */
  prepare<ReturnType = Record<string, unknown>, ParamsType extends SQLQueryBindings | SQLQueryBindings[] = any[]>(
    sql: string,
    params?: ParamsType,
  ): Statement<ReturnType, ParamsType extends any[] ? ParamsType : [ParamsType]>;
  /** Runs SQL (several statements when no parameters are given). */
  run(sql: string, ...params: SQLQueryBindings[]): Changes;
  /** Alias of `run`. */
  exec(sql: string, ...params: SQLQueryBindings[]): Changes;
  /** A transaction function (IMMEDIATE by default). */
  transaction<F extends (...args: any[]) => any>(fn: F, options?: TransactionOptions): Transaction<F>;
  /** The database (or attached `name`) as bytes. */
  serialize(name?: string): Buffer;
  /** `sqlite3_file_control` with an integer value; SQLite's result code. */
  fileControl(op: number, value?: number): number;
  fileControl(schema: string, op: number, value?: number): number;
  /** Loads a native extension (C API only). */
  loadExtension(path: string, entryPoint?: string): void;
  /** Finalizes the cached statements. */
  clearQueryCache(): void;
  /** Registers a SQL function. */
  function(name: string, fn: (...args: any[]) => unknown): this;
  function(name: string, options: { varargs?: boolean; deterministic?: boolean; directOnly?: boolean; safeIntegers?: boolean }, fn: (...args: any[]) => unknown): this;
  /** Registers a SQL aggregate (a window function with `inverse`). */
  aggregate<T = unknown>(name: string, options: { start?: T | (() => T); step: (total: T, ...args: any[]) => T | void; inverse?: (total: T, ...args: any[]) => T | void; result?: (total: T) => unknown; varargs?: boolean; deterministic?: boolean; directOnly?: boolean; safeIntegers?: boolean }): this;
  /** Turns defensive mode and the refusal of weakening pragmas off (`true`) or on (`false`): for repair tools. */
  unsafeMode(unsafe?: boolean): this;
  /** Closes; `close(true)` refuses while an iteration is open. */
  close(throwOnError?: boolean): void;
  [Symbol.dispose](): void;
  /** See docs/health.md. */
  health(options?: { integrity?: "quick" | "full" }): HealthReport;
  /** `PRAGMA wal_checkpoint(mode)`. */
  checkpoint(mode?: "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE"): CheckpointResult;
  /** An online, verified copy. */
  backup(destination: string, options?: BackupOptions): Promise<BackupResult>;
  /** Applies pending migrations. */
  migrate(source?: MigrationSource): MigrationReport;
  /** Where the schema stands. */
  migrationStatus(source?: MigrationSource): MigrationStatus;
  /** Integrity problems, empty when sound. */
  integrityCheck(options?: { quick?: boolean }): string[];
  /** Frees pages; returns how many. */
  incrementalVacuum(pages?: number): number;
  /** `PRAGMA optimize`. */
  optimize(): this;
  /** The `-wal` file's size in bytes. */
  walSize(): number;
}

/** `Database` under the main face's name. */
export { Database as HardenedDb };

/** An error SQLite reported. */
export declare class SQLiteError extends Error {
  /** The extended result code name, such as `"SQLITE_CONSTRAINT_UNIQUE"`. */
  code: string;
  /** Its number, such as 2067. */
  errno: number;
  /** Byte offset in the SQL of the token in error, or -1. */
  byteOffset: number;
}

/** bun:sqlite's `constants` (SQLITE_OPEN_*, SQLITE_PREPARE_*, SQLITE_FCNTL_*, ...). */
export declare const constants: { readonly [name: string]: number };

/** The SQLite version linked in. */
export declare function sqliteVersion(): string;

export default Database;
