/**
 * hardened-sqlite: a SQLite connection for Node and Bun that is safe by
 * construction, with better-sqlite3's synchronous API.
 */

/** A value SQLite can bind: `null`/`undefined` → NULL, booleans → 0/1, `Buffer`/`Uint8Array` → BLOB. */
export type BindValue = number | bigint | string | boolean | null | undefined | Uint8Array;

/** Parameters of a call: values, arrays of values, or one object of named values. */
export type BindParameters = BindValue | readonly BindValue[] | Record<string, BindValue>;

/** Options of `new HardenedDb(path, options)`. Every one is optional. */
export interface HardenedDbOptions {
  /**
   * Reject every write with `SQLITE_READONLY` (`PRAGMA query_only`), while the
   * connection still keeps the WAL index `-shm` up to date. Never creates the file. Default `false`.
   */
  readonly?: boolean;
  /** Refuse to create a missing database file or directory. Default `false`. */
  fileMustExist?: boolean;
  /** `create: false` is the same as `fileMustExist: true`. Default `true`. */
  create?: boolean;
  /** Milliseconds a statement waits for another connection's lock before `SQLITE_BUSY`. Default `5000`. */
  busyTimeout?: number;
  /** better-sqlite3's name for `busyTimeout` (milliseconds). */
  timeout?: number;
  /** Permission bits of a new database file; SQLite gives `-wal` and `-shm` the same. Default `0o600`. */
  fileMode?: number;
  /** `PRAGMA synchronous` (case-insensitive). Default `"NORMAL"`. */
  synchronous?: "OFF" | "NORMAL" | "FULL" | "EXTRA" | "off" | "normal" | "full" | "extra";
  /** `PRAGMA mmap_size` in bytes. Default `0` (memory-mapped I/O off). */
  mmapSize?: number;
  /** `PRAGMA foreign_keys`. Default `true`. */
  foreignKeys?: boolean;
  /** `PRAGMA temp_store` (case-insensitive). Default `"MEMORY"`. */
  tempStore?: "DEFAULT" | "FILE" | "MEMORY" | "default" | "file" | "memory";
  /** `PRAGMA cache_size`: negative is KiB, positive is pages. Default `-20000` (about 20 MB). */
  cacheSize?: number;
  /** `PRAGMA journal_size_limit` in bytes. Default `67108864` (64 MiB). */
  journalSizeLimit?: number;
  /** `PRAGMA wal_autocheckpoint` in pages. Default `1000`. */
  walAutocheckpoint?: number;
  /** `PRAGMA auto_vacuum` of a brand-new database (case-insensitive). Default `"INCREMENTAL"`. */
  autoVacuum?: "NONE" | "FULL" | "INCREMENTAL" | "none" | "full" | "incremental";
  /** Read INTEGER columns as `bigint` in every statement. Default `false`. */
  safeIntegers?: boolean;
  /** Behaviour of `db.transaction(fn)` when called plainly. Default `"immediate"`. */
  defaultTransaction?: "deferred" | "immediate" | "exclusive";
  /**
   * A database, `-wal` or `-shm` whose mode is wider than `fileMode`: `"warn"` emits a
   * `process.emitWarning` (code `HARDENED_FILE_MODE`), `"fix"` chmods it, `"throw"` refuses
   * to open (`HARDENED_FILE_MODE`). Default `"warn"`.
   */
  permissions?: "warn" | "fix" | "throw";
  /**
   * Run `db.health()` at open: an unhealthy database throws `HARDENED_UNHEALTHY` (with
   * `.checks` and `.report`), a degraded one emits a `HARDENED_DEGRADED` warning. Default `false`.
   */
  healthCheck?: boolean;
  /** Close this connection on SIGINT/SIGTERM, then let the process end as it would have. Default `false`. */
  closeOnSignal?: boolean;
}

/** What `run()` reports. */
export interface RunResult {
  /** Rows inserted, updated or deleted (0 for statements that only read). */
  changes: number;
  /** Rowid of the last inserted row (`bigint` under `safeIntegers`). */
  lastInsertRowid: number | bigint;
}

/** Metadata of one result column. */
export interface ColumnDefinition {
  name: string;
  column: string | null;
  table: string | null;
  database: string | null;
  type: string | null;
}

/** A prepared statement. `Row` is the shape of one result row. */
export declare class Statement<Params extends BindParameters[] = BindParameters[], Row = unknown> {
  private constructor();
  /** The SQL text. */
  readonly source: string;
  /** Whether the statement returns data. */
  readonly reader: boolean;
  /** Whether the statement never writes. */
  readonly readonly: boolean;
  /** Whether an iterator is open on it. */
  readonly busy: boolean;
  /** Executes it to completion. */
  run(...params: Params): RunResult;
  /** The first row, or `undefined`. */
  get(...params: Params): Row | undefined;
  /** Every row. */
  all(...params: Params): Row[];
  /** Every row as an array of values. */
  values(...params: Params): unknown[][];
  /** The rows one by one; `return()` (or `break`) resets the statement. */
  iterate(...params: Params): IterableIterator<Row>;
  /** Rows as arrays of values. */
  raw(toggle?: boolean): Statement<Params, unknown[]>;
  /** Rows as their first column's value. */
  pluck(toggle?: boolean): Statement<Params, unknown>;
  /** Rows as `{ table: { column: value } }` (`$` for expressions). */
  expand(toggle?: boolean): Statement<Params, Record<string, Record<string, unknown>>>;
  /** INTEGER columns and `lastInsertRowid` as `bigint`. */
  safeIntegers(toggle?: boolean): this;
  /** Binds parameters for good. */
  bind(...params: Params): this;
  /** Metadata of the result columns. */
  columns(): ColumnDefinition[];
  [Symbol.dispose](): void;
}

/** A transaction function and its variants. */
export type Transaction<F extends (...args: any[]) => any> = F & {
  deferred: F;
  immediate: F;
  exclusive: F;
  default: F;
};

/** One check of a health report. */
export interface HealthCheck {
  /** What was checked: `sqlite_version`, `pragma.<name>`, `migrations`, `write_probe` (`read_probe` when readonly),
   * `file_mode.db|wal|shm`, `directory`, `file_system`, `wal_size`, `integrity.quick_check|integrity_check`. */
  name: string;
  ok: boolean;
  /** A failed `"error"` check makes the report unhealthy, a failed `"warning"` degraded. */
  severity: "error" | "warning";
  expected: string;
  actual: string;
  /** What to do about a failed check; `null` when it passed. */
  fix: string | null;
}

/** Mode and size of one file of the database. */
export interface HealthFile {
  path: string;
  exists: boolean;
  /** Permission bits (`0o600` is 384); `null` when missing. */
  mode: number | null;
  /** Bytes; `null` when missing. */
  size: number | null;
}

/** What `db.health()` returns. */
export interface HealthReport {
  status: "healthy" | "degraded" | "unhealthy";
  checks: HealthCheck[];
  sqliteVersion: string;
  journalMode: string;
  walBytes: number;
  userVersion: number;
  /** `null` when the database was opened without `migrations`. */
  pendingMigrations: number | null;
  /** `null` for an in-memory database. */
  files: { db: HealthFile; wal: HealthFile; shm: HealthFile } | null;
}

/** What `db.checkpoint()` returns. */
export interface CheckpointResult {
  /** Another connection kept it from finishing. */
  busy: boolean;
  /** Frames in the `-wal` (-1 when not in WAL mode). */
  walFrames: number;
  /** Frames copied into the database (-1 when not in WAL mode). */
  checkpointedFrames: number;
}

/** What `db.backup()` resolves to. */
export interface BackupResult {
  totalPages: number;
  /** Always 0: the snapshot is taken in one step. */
  remainingPages: number;
  /** The destination as given. */
  path: string;
  bytes: number;
}

/** A SQLite connection opened through the hardened open sequence. */
export declare class HardenedDb {
  /**
   * Opens (creating when allowed) the database at `path`: a file path, a
   * `file:` URL, or `":memory:"` (the default).
   */
  constructor(path?: string, options?: HardenedDbOptions);
  /** The path as given. */
  readonly name: string;
  /** Whether the connection is open. */
  readonly open: boolean;
  /** Whether a transaction is active. */
  readonly inTransaction: boolean;
  /** Whether writes are rejected. */
  readonly readonly: boolean;
  /** Whether it is an in-memory database. */
  readonly memory: boolean;
  /** Prepares one SQL statement. */
  prepare<Row = Record<string, unknown>, Params extends BindParameters[] = BindParameters[]>(
    sql: string,
  ): Statement<Params, Row>;
  /** Runs one or more SQL statements. */
  exec(sql: string): this;
  /** Runs `PRAGMA source`: every row, or the first value with `{ simple: true }`. */
  pragma(source: string, options?: { simple?: false }): Record<string, unknown>[];
  pragma(source: string, options: { simple: true }): unknown;
  /** Wraps `fn` in a transaction (IMMEDIATE unless `defaultTransaction` says otherwise). */
  transaction<F extends (...args: any[]) => any>(fn: F): Transaction<F>;
  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle?: boolean): this;
  /** Checks every promise of the open sequence, the files and a real write; see `HealthReport`. */
  health(options?: { integrity?: "quick" | "full" }): HealthReport;
  /** `PRAGMA wal_checkpoint(mode)`. Default `"PASSIVE"`. */
  checkpoint(mode?: "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE" | "passive" | "full" | "restart" | "truncate"): CheckpointResult;
  /** A consistent, verified snapshot written with `fileMode` and renamed into place. */
  backup(destination: string, options?: { overwrite?: boolean }): Promise<BackupResult>;
  /** The problems `integrity_check` (or `quick_check` with `quick: true`) finds; empty when sound. */
  integrityCheck(options?: { quick?: boolean }): string[];
  /** Releases up to `pages` free pages (all by default); returns how many. */
  incrementalVacuum(pages?: number): number;
  /** `PRAGMA optimize`. */
  optimize(): this;
  /** Bytes in the `-wal` file (0 when there is none). */
  walSize(): number;
  /** Closes the connection; idempotent. */
  close(): this;
  [Symbol.dispose](): void;
}

/** Codes of `SqliteError`: SQLite's extended result code names. */
export type SqliteErrorCode = `SQLITE_${string}`;

/** Codes of `HardenedDbError` and of the `TypeError`/`RangeError`s the library throws. */
export type HardenedErrorCode =
  | "HARDENED_NOT_A_DATABASE"
  | "HARDENED_PRAGMA_MISMATCH"
  | "HARDENED_FILE_NOT_FOUND"
  | "HARDENED_PATH_IS_DIRECTORY"
  | "HARDENED_DIR_NOT_WRITABLE"
  | "HARDENED_SHM_NOT_WRITABLE"
  | "HARDENED_FILE_NOT_WRITABLE"
  | "HARDENED_FILE_NOT_READABLE"
  | "HARDENED_ORPHAN_WAL"
  | "HARDENED_FILE_MODE"
  | "HARDENED_UNHEALTHY"
  | "HARDENED_BACKUP_EXISTS"
  | "HARDENED_BACKUP_FAILED"
  | "HARDENED_IO"
  | "HARDENED_INVALID_OPTION"
  | "HARDENED_INVALID_PATH"
  | "HARDENED_INVALID_ARGUMENT"
  | "HARDENED_NOT_OPEN"
  | "HARDENED_STATEMENT_BUSY"
  | "HARDENED_NOT_A_READER"
  | "HARDENED_ALREADY_BOUND"
  | "HARDENED_PARAMETER_COUNT"
  | "HARDENED_MISSING_PARAMETER"
  | "HARDENED_INTEGER_OVERFLOW"
  | "HARDENED_NO_STATEMENT"
  | "HARDENED_MULTIPLE_STATEMENTS"
  | "HARDENED_ASYNC_TRANSACTION"
  | (string & {});

/** An error reported by SQLite. */
export declare class SqliteError extends Error {
  constructor(message: string, code: SqliteErrorCode);
  /** The extended result code name, e.g. `"SQLITE_CONSTRAINT_UNIQUE"`. */
  code: SqliteErrorCode;
}

/** An error raised by hardened-sqlite itself. */
export declare class HardenedDbError extends Error {
  constructor(message: string, code: HardenedErrorCode, options?: { cause?: unknown });
  /** A `HARDENED_*` code. */
  code: HardenedErrorCode;
}

/** The bundled SQLite version, e.g. `"3.54.1"`. */
export declare function sqliteVersion(): string;

export default HardenedDb;
