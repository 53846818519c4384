/**
 * hardened-sqlite: a SQLite connection for Node and Bun that is safe by
 * construction, with better-sqlite3's synchronous API.
 *
 * These typings describe the hand-written facade (index.js and lib/); the
 * native loader's own (binding.d.ts) are internal.
 *
 * They also follow @types/better-sqlite3, so that code typed against it compiles
 * through the alias `"better-sqlite3": "npm:hardened-sqlite"`: the default export
 * is `HardenedDb` (better-sqlite3's `Database`), whose namespace holds
 * `Database.Database`, `Database.Statement<BindParameters, Result>`,
 * `Database.RunResult`, `Database.Options`, ... (see the end of this file).
 */

/** A value SQLite can bind: `null`/`undefined` → NULL, booleans → 0/1, `Buffer`/`Uint8Array` → BLOB. */
export type BindValue = number | bigint | string | boolean | null | undefined | Uint8Array;

/**
 * One argument of `run`/`get`/`all`/...: a value, an array of values, or one
 * object of named values (`{ id: 1 }` for `:id`, `@id` or `$id`). Anything
 * else throws `HARDENED_INVALID_ARGUMENT`.
 */
export type BindParameters = BindValue | readonly BindValue[] | { readonly [name: string]: BindValue };

/** `"deferred"`, `"immediate"` or `"exclusive"`: how a transaction begins. */
export type TransactionBehaviour = "deferred" | "immediate" | "exclusive";

/** A migration given as data (for bundled apps and tests) instead of an `NNN_name.sql` file. */
export interface MigrationInput {
  /** A whole number from 1 to 2147483647, unique; `PRAGMA user_version` holds the last one applied. */
  version: number;
  /** Its name, shown in reports and errors. */
  name: string;
  /** The SQL it runs: any number of statements, no `BEGIN`/`COMMIT`. */
  sql: string;
}

/** Where migrations come from: a directory of `NNN_name.sql` files (relative to the current directory), or a list. */
export type MigrationSource = string | readonly MigrationInput[];

/** Options of `new HardenedDb(path, options)`. Every one is optional; unknown keys throw `HARDENED_INVALID_OPTION`. */
export interface HardenedDbOptions {
  /**
   * Reject every write with `SQLITE_READONLY` (`PRAGMA query_only`), while the
   * connection still keeps the WAL index `-shm` up to date. Never creates the
   * file, never migrates. Default `false`.
   */
  readonly?: boolean;
  /**
   * Refuse to create a missing database file or directory: `SqliteError` `SQLITE_CANTOPEN`, as in
   * better-sqlite3, with `hardenedCode` `HARDENED_FILE_NOT_FOUND`. Default `false`.
   */
  fileMustExist?: boolean;
  /** `create: false` is the same as `fileMustExist: true`. Default `true`. */
  create?: boolean;
  /** Milliseconds a statement waits for another connection's lock before `SQLITE_BUSY`. Default `5000`. */
  busyTimeout?: number;
  /** better-sqlite3's name for `busyTimeout` (milliseconds): a whole number up to 2147483647. */
  timeout?: number;
  /**
   * Permission bits of every file created through the connection: the database (its `-wal`, `-shm` and
   * `-journal` get the same), new `ATTACH`ed databases and `VACUUM INTO` targets. Default `0o600`.
   * Must keep the owner's read and write bits (`0o600`) and stay within `0o777`.
   */
  fileMode?: number;
  /** `PRAGMA synchronous` (case-insensitive). Default `"NORMAL"`. */
  synchronous?: "OFF" | "NORMAL" | "FULL" | "EXTRA" | "off" | "normal" | "full" | "extra";
  /** `PRAGMA mmap_size` in bytes. Default `0` (memory-mapped I/O off: an I/O error would be a SIGBUS). */
  mmapSize?: number;
  /** `PRAGMA foreign_keys`. Default `true`. */
  foreignKeys?: boolean;
  /** `PRAGMA temp_store` (case-insensitive). Default `"MEMORY"`. */
  tempStore?: "DEFAULT" | "FILE" | "MEMORY" | "default" | "file" | "memory";
  /** `PRAGMA cache_size`: negative is KiB, positive is pages. Default `-16000` (about 16 MB, better-sqlite3's build default). */
  cacheSize?: number;
  /** `PRAGMA journal_size_limit` in bytes: `-wal` is truncated to this when it restarts. Default `67108864` (64 MiB). */
  journalSizeLimit?: number;
  /** `PRAGMA wal_autocheckpoint` in pages. Default `1000`. */
  walAutocheckpoint?: number;
  /**
   * Milliseconds between periodic PASSIVE checkpoints (followed by a TRUNCATE
   * when every frame was copied), on a timer that never keeps the process
   * alive. Default `0` (off).
   */
  checkpointInterval?: number;
  /** `PRAGMA auto_vacuum` of a brand-new database (case-insensitive). Default `"NONE"`, as in SQLite and better-sqlite3; `"INCREMENTAL"` lets `db.incrementalVacuum()` return free pages to the file system. */
  autoVacuum?: "NONE" | "FULL" | "INCREMENTAL" | "none" | "full" | "incremental";
  /** Read INTEGER columns as `bigint` in every statement. Default `false`. */
  safeIntegers?: boolean;
  /** How `db.transaction(fn)(...)` begins when called plainly. Default `"immediate"`. */
  defaultTransaction?: TransactionBehaviour;
  /**
   * Every deferred transaction begins IMMEDIATE, taking the write lock at once:
   * a bare or deferred `BEGIN` in SQL given to `prepare()` or `exec()` (what
   * Kysely and Drizzle's migrator send) and `db.transaction(fn).deferred` (what
   * Drizzle calls). Default `true`, and always off on a `readonly` connection
   * (passing `true` with `readonly` throws).
   */
  upgradeDeferredBegin?: boolean;
  /** Migrations the constructor applies before it returns (see `migrate()`). Default: none. */
  migrations?: MigrationSource;
  /** Accept an applied migration whose SQL changed or whose file is gone. Default `false`. */
  allowChangedMigrations?: boolean;
  /** Accept a database whose `user_version` is above the latest migration. Default `false`. */
  allowSchemaAhead?: boolean;
  /** With `readonly` only: open even though migrations are pending. Default `false`. */
  allowPendingMigrations?: boolean;
  /**
   * A database, `-wal` or `-shm` whose mode is wider than `fileMode`: `"warn"`
   * (`process.emitWarning`, code `HARDENED_FILE_MODE`), `"fix"` (chmod it) or
   * `"throw"` (refuse to open). Default `"warn"`.
   */
  permissions?: "warn" | "fix" | "throw";
  /** Run `db.health()` at open: unhealthy throws `HARDENED_UNHEALTHY`, degraded warns. Default `false`. */
  healthCheck?: boolean;
  /** Close the connection on SIGINT/SIGTERM, then let the process end as it would have. Default `false`. */
  closeOnSignal?: boolean;
  /**
   * SQLite's run-time limits to lower (`sqlite3_limit`), set at open and read
   * back: a value SQLite would clamp (above the build's maximum) throws
   * `HARDENED_INVALID_OPTION` naming the maximum. Default: SQLite's.
   */
  limits?: Limits;
  /**
   * Milliseconds one call (`run`, `get`, `all`, one batch of `iterate`, `exec`,
   * `pragma`) may run before SQLite interrupts it with `HARDENED_STATEMENT_TIMEOUT`.
   * A write interrupted inside a transaction rolls the transaction back.
   * Default `0` (no timeout).
   */
  statementTimeout?: number;
  /**
   * `"litestream"` when `litestream replicate` ships this database's WAL: then
   * `walAutocheckpoint` is 0, `journalSizeLimit` is -1, `checkpointInterval` is
   * refused, FULL/RESTART/TRUNCATE checkpoints report busy at once instead of
   * waiting, and `health()` checks the replicator. See docs/replication.md. Default `"none"`.
   */
  replication?: "none" | "litestream";
  /**
   * better-sqlite3's logger: called with the text of every statement run through
   * the connection, parameters expanded (`select 'ada'`), once the call that ran it
   * returns or throws. Default: none.
   */
  verbose?: ((message?: unknown, ...additionalArgs: unknown[]) => void) | null;
  /** Accepted for better-sqlite3 code and ignored: the native addon is loaded by the package itself. */
  nativeBinding?: string | object | null;
}

/** The `limits` option: `SQLITE_LIMIT_*` in camelCase, each a whole number from 0 to the build's maximum. */
export interface Limits {
  /** Largest string, BLOB or row in bytes (at least 30); beyond it `SQLITE_TOOBIG`. Default and maximum `1000000000`. */
  length?: number;
  /** Longest SQL text in bytes; beyond it `SQLITE_TOOBIG`. Default and maximum `1000000000`. */
  sqlLength?: number;
  /** Most columns in a table, index, result or `ORDER BY`. Default and maximum `2000`. */
  column?: number;
  /** Deepest expression tree. Default and maximum `1000`. */
  exprDepth?: number;
  /** Most terms of a compound `SELECT`. Default and maximum `500`. */
  compoundSelect?: number;
  /** Most virtual-machine instructions of one statement. Default and maximum `250000000`. */
  vdbeOp?: number;
  /** Most arguments of a function call. Default and maximum `1000`. */
  functionArg?: number;
  /** Most attached databases; `0` refuses `ATTACH`. Default and maximum `10`. */
  attached?: number;
  /** Longest `LIKE` or `GLOB` pattern in bytes. Default and maximum `50000`. */
  likePatternLength?: number;
  /** Highest parameter number (`?NNN`). Default and maximum `32766`. */
  variableNumber?: number;
  /** Deepest recursion of triggers. Default and maximum `1000`. */
  triggerDepth?: number;
  /** Most helper threads one statement may start. Default `0`, maximum `8`. */
  workerThreads?: number;
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
  /** The column's name in the result (its alias). */
  name: string;
  /** The table column it comes from; `null` for an expression. */
  column: string | null;
  /** The table it comes from; `null` for an expression. */
  table: string | null;
  /** The database it comes from (`"main"`); `null` for an expression. */
  database: string | null;
  /** The declared type (`"INTEGER"`); `null` for an expression. */
  type: string | null;
}

/**
 * A prepared statement. `Params` are the arguments its methods take, `Row`
 * the shape of one result row (`db.prepare<Params, Row>(sql)`, in
 * @types/better-sqlite3's order).
 */
export declare class Statement<Params extends unknown[] = BindParameters[], Row = Record<string, unknown>> {
  private constructor();
  /** The database that prepared it (for a tenant handle's statement, that `TenantDb`). */
  readonly database: HardenedDb;
  /** The SQL text (with a deferred `BEGIN` already made `BEGIN IMMEDIATE`, see `upgradeDeferredBegin`). */
  readonly source: string;
  /** Whether the statement returns data. */
  readonly reader: boolean;
  /** Whether the statement never writes. */
  readonly readonly: boolean;
  /** Whether an iterator is open on it. */
  readonly busy: boolean;
  /** Executes it to completion. */
  run(...params: Params): RunResult;
  /** The first row, or `undefined`. `get<R>()` names the row type for this call. */
  get(...params: Params): Row | undefined;
  get<R>(...params: Params): R | undefined;
  /** Every row. `all<R>()` names the row type for this call. */
  all(...params: Params): Row[];
  all<R>(...params: Params): R[];
  /** Every row as an array of values (bun:sqlite's `values()`), whatever the mode. */
  values(...params: Params): unknown[][];
  /**
   * The rows one by one, as better-sqlite3's iterator object (binds now; no `throw()`);
   * `return()` (or `break`) resets the statement. Until it ends, the connection refuses
   * writes, `exec()`, `pragma()`, `close()` and the like (`HARDENED_DATABASE_BUSY`).
   */
  iterate(...params: Params): IterableIterator<Row>;
  iterate<R>(...params: Params): IterableIterator<R>;
  /** Rows as arrays of values; `raw(false)` turns it off. */
  raw(toggle?: true): Statement<Params, unknown[]>;
  raw(toggle: boolean): Statement<Params, unknown>;
  /** Rows as their first column's value; `pluck(false)` turns it off. */
  pluck(toggle?: true): Statement<Params, unknown>;
  pluck(toggle: boolean): Statement<Params, unknown>;
  /** Rows as `{ table: { column: value } }` (`$` for expressions); `expand(false)` turns it off. */
  expand(toggle?: true): Statement<Params, Record<string, Record<string, unknown>>>;
  expand(toggle: boolean): Statement<Params, unknown>;
  /** INTEGER columns and `lastInsertRowid` as `bigint`. */
  safeIntegers(toggle?: boolean): this;
  /** Binds parameters for good; later calls must pass none (`HARDENED_ALREADY_BOUND`). */
  bind(...params: Params): Statement<[], Row>;
  /** Metadata of the result columns (`HARDENED_NOT_A_READER` for a statement that returns none). */
  columns(): ColumnDefinition[];
  /** Resets an open iterator. */
  [Symbol.dispose](): void;
}

/** What `prepare<Params, Row>()` returns: a statement taking `Params` (an array type), or one argument of type `Params`. */
export type PreparedStatement<Params extends unknown[] | {}, Row> = Params extends unknown[] ? Statement<Params, Row> : Statement<[Params], Row>;

/** Options of `db.transaction(fn, options)`. */
export interface TransactionOptions {
  /**
   * Re-run the whole of `fn` up to this many times after `SQLITE_BUSY`,
   * `SQLITE_BUSY_SNAPSHOT`, `SQLITE_BUSY_RECOVERY` or `SQLITE_BUSY_TIMEOUT`,
   * with jittered backoff (about 2, 4, 8 ... ms, at most 100 ms). `fn` must
   * have no side effects outside the database. Default `0`.
   */
  retries?: number;
}

/** A transaction function (IMMEDIATE unless `defaultTransaction` says otherwise) and its variants. */
export type Transaction<F extends (...args: any[]) => any> = F & {
  /** Begins DEFERRED: no lock until the first read, no write lock until the first write. */
  deferred: F;
  /** Begins IMMEDIATE: takes the write lock at `BEGIN`, waiting up to `busyTimeout`. */
  immediate: F;
  /** Begins EXCLUSIVE: in WAL mode, the same as IMMEDIATE. */
  exclusive: F;
  /** The function itself (the `defaultTransaction` behaviour). */
  default: F;
  /** The database it runs on (a `TenantDb` for a tenant handle's). */
  readonly database: HardenedDb;
};

/** Where the schema stands: what `migrationStatus()` returns. */
export interface MigrationStatus {
  /** `PRAGMA user_version`: the last migration applied (0 for none). */
  current: number;
  /** The highest version among the migrations (0 for none). */
  latest: number;
  /** Migrations above `current`, in the order they would run. */
  pending: { version: number; name: string }[];
}

/** What `migrate()` did. */
export interface MigrationReport {
  /** `user_version` before. */
  from: number;
  /** `user_version` after. */
  to: number;
  /** The migrations this call applied, in order; `ms` includes waiting for the write lock. */
  applied: { version: number; name: string; ms: number }[];
}

/** One check of `HealthReport`. */
export interface HealthCheck {
  /** What was checked: `"sqlite_version"`, `"pragma.journal_mode"`, `"write_probe"`, `"file_mode.wal"`, ... */
  name: string;
  /** Whether it holds. */
  ok: boolean;
  /** A failed `"error"` check makes the database unhealthy, a failed `"warning"` one degraded. */
  severity: "error" | "warning";
  /** What it should be. */
  expected: string;
  /** What it is. */
  actual: string;
  /** For a failed check, what to do about it; `null` when it passed. */
  fix: string | null;
}

/** Mode and size of one file of the database. */
export interface FileReport {
  path: string;
  exists: boolean;
  /** Permission bits (`384` is `0o600`); `null` when the file does not exist. */
  mode: number | null;
  /** Bytes; `null` when the file does not exist. */
  size: number | null;
}

/** What `db.health()` returns. */
export interface HealthReport {
  /** `"healthy"` (every check passed), `"degraded"` (only warnings failed) or `"unhealthy"`. */
  status: "healthy" | "degraded" | "unhealthy";
  /** Every check made, passed or failed. */
  checks: HealthCheck[];
  /** The SQLite library version (`"3.54.1"`). */
  sqliteVersion: string;
  /** `PRAGMA journal_mode` (`"wal"`; `"memory"` in memory). */
  journalMode: string;
  /** Size of `-wal` in bytes. */
  walBytes: number;
  /** `PRAGMA user_version`. */
  userVersion: number;
  /** Migrations not applied yet; `null` without the `migrations` option. */
  pendingMigrations: number | null;
  /** The database, `-wal` and `-shm` files; `null` in memory. */
  files: { db: FileReport; wal: FileReport; shm: FileReport } | null;
}

/** What a checkpoint did. */
export interface CheckpointResult {
  /** Another connection kept it from finishing. */
  busy: boolean;
  /** Frames in `-wal` (`-1` when not in WAL mode). */
  walFrames: number;
  /** Frames copied into the database (`-1` when not in WAL mode). */
  checkpointedFrames: number;
}

/** Where a backup stands, as given to its `progress` callback. */
export interface BackupProgress {
  /** Pages in the source now (the backup will have as many). */
  totalPages: number;
  /** Pages still to copy. */
  remainingPages: number;
}

/** What a backup wrote: better-sqlite3's `{ totalPages, remainingPages }`, plus `path` and `bytes` (not enumerable). */
export interface BackupResult extends BackupProgress {
  /** Always `0`. */
  remainingPages: number;
  /** The destination as given (trimmed). */
  readonly path: string;
  /** Size of the backup file in bytes. */
  readonly bytes: number;
}

/** Options of `db.backup()`. */
export interface BackupOptions {
  /** The schema to copy: `"main"` (default), `"temp"` or a name given to `ATTACH`. */
  attached?: string;
  /**
   * Called after each step that left pages to copy; may return the pages to copy per
   * event-loop turn from then on (default 100; `0` pauses). Throwing aborts the backup.
   */
  progress?: ((progress: BackupProgress) => number | void) | null;
  /**
   * `true`: replace any existing regular file; `false`: refuse every existing file
   * (`HARDENED_BACKUP_EXISTS`). Unset: replace only a SQLite database or an empty file,
   * as better-sqlite3 does (another file: `SqliteError` `SQLITE_NOTADB`, left untouched).
   */
  overwrite?: boolean;
}

/**
 * A SQLite connection opened through the hardened open sequence: the module
 * itself (`require("hardened-sqlite")`, the default export), better-sqlite3's `Database`.
 */
export declare class HardenedDb {
  /**
   * Opens (creating when allowed) the database at `path`: a file path, a
   * `file:` URL, `":memory:"`, or `""` (the default, also for `null`): a private
   * temporary database. A Buffer (from `serialize()`) opens an in-memory copy of
   * that database. At run time `new` is optional, as in better-sqlite3.
   */
  constructor(path?: string | Buffer | null, options?: HardenedDbOptions);
  /** The constructor itself (`require("hardened-sqlite").HardenedDb`). */
  static readonly HardenedDb: typeof HardenedDb;
  /** The constructor itself, for `import Database from` in CommonJS output. */
  static readonly default: typeof HardenedDb;
  /** The class of the errors SQLite reports (`Database.SqliteError` in better-sqlite3). */
  static readonly SqliteError: typeof SqliteError;
  /**
   * Opens the asynchronous handle (docs/async.md): one writer and `readers`
   * reader connections on the database file at `path`, SQLite work off the event loop.
   */
  static openAsync(path: string, options?: AsyncHardenedDbOptions): Promise<AsyncHardenedDb>;
  /** The class of the errors hardened-sqlite raises. */
  static readonly HardenedDbError: typeof HardenedDbError;
  /** The class of prepared statements (not constructible: use `db.prepare()`). */
  static readonly Statement: typeof Statement;
  /** The bundled SQLite version. */
  static readonly sqliteVersion: typeof sqliteVersion;
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
  /**
   * Prepares one SQL statement. `Params` types the arguments, `Row` the rows of
   * `get`/`all`/`iterate` (`db.prepare<[id: number], User>("... WHERE id = ?")`, the
   * order of @types/better-sqlite3); an object type for `Params` is one named-parameter
   * argument (`db.prepare<{ id: number }, User>("... WHERE id = :id")`).
   */
  prepare<Params extends unknown[] | {} = BindParameters[], Row = Record<string, unknown>>(sql: string): PreparedStatement<Params, Row>;
  /** Runs one or more SQL statements (no parameters, rows discarded). */
  exec(sql: string): this;
  /** Runs `PRAGMA source`: every row, or the first value with `{ simple: true }`. */
  pragma(source: string, options?: { simple?: false }): Record<string, unknown>[];
  pragma(source: string, options: { simple: true }): unknown;
  pragma(source: string, options?: HardenedDb.PragmaOptions): unknown;
  /** Wraps `fn` in a transaction function: IMMEDIATE by default, savepoints when nested. */
  transaction<F extends (...args: any[]) => any>(fn: F, options?: TransactionOptions): Transaction<F>;
  /** Applies every pending migration of `source` (default: the `migrations` option). */
  migrate(source?: MigrationSource): MigrationReport;
  /** Where the schema stands against `source` (default: the `migrations` option); changes nothing. */
  migrationStatus(source?: MigrationSource): MigrationStatus;
  /** Checks everything the open sequence promised; `integrity` adds `quick_check` or `integrity_check`. */
  health(options?: { integrity?: "quick" | "full" }): HealthReport;
  /** `PRAGMA wal_checkpoint(mode)`, any case. Default `"PASSIVE"`. */
  /**
   * FULL, RESTART and TRUNCATE hold the write lock while they wait for readers: at most
   * `options.timeout` ms (default 1000, capped by the busy timeout; 0 with `replication`).
   */
  checkpoint(mode?: "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE" | "passive" | "full" | "restart" | "truncate", options?: { timeout?: number }): CheckpointResult;
  /**
   * Copies the database to `destination` 100 pages per event-loop turn (better-sqlite3's
   * `backup()`), then verifies the copy and renames it into place (mode `fileMode`).
   * Refused inside a transaction (`HARDENED_IN_TRANSACTION`), and for a destination that is not a
   * regular file or is a database open in this process or its sidecar (`HARDENED_BACKUP_DESTINATION`).
   */
  backup(destination: string, options?: BackupOptions): Promise<BackupResult>;
  /** The database (or the `attached` schema) as a Buffer that `new HardenedDb(buffer)` opens. */
  serialize(options?: { attached?: string }): Buffer;
  /**
   * Loads the native SQLite extension at `path` (entry point `entryPoint`, or SQLite's default).
   * Its code runs in this process with its rights: load only files you trust.
   */
  loadExtension(path: string, entryPoint?: string): this;
  /**
   * The problems `integrity_check` (or `quick_check` with `{ quick: true }`) reports; `[]` when sound.
   * When SQLite gives up part-way on a damaged file, the error is the last problem.
   */
  integrityCheck(options?: { quick?: boolean }): string[];
  /** Releases up to `pages` free pages (all when omitted); returns how many. */
  incrementalVacuum(pages?: number): number;
  /** Runs `PRAGMA optimize`. */
  optimize(): this;
  /** Bytes in the `-wal` file (0 when there is none, or in memory). */
  walSize(): number;
  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle?: boolean): this;
  /**
   * Registers (or replaces) the SQL function `name`, which calls `fn` with the SQL arguments
   * (better-sqlite3's `function()`); it takes `fn.length` arguments unless `varargs`.
   * A JS exception it throws reaches the caller of the statement unchanged.
   */
  function(name: string, fn: (...args: any[]) => SqlFunctionResult): this;
  function(name: string, options: FunctionOptions, fn: (...args: any[]) => SqlFunctionResult): this;
  /**
   * Registers (or replaces) the SQL aggregate `name` (better-sqlite3's `aggregate()`); with
   * `inverse` it is also a window function (`OVER (...)`).
   */
  aggregate<Acc = any>(name: string, options: AggregateOptions<Acc>): this;
  /**
   * Registers (or replaces) the virtual table `name` (better-sqlite3's `table()`), whose rows the
   * `rows` generator yields. A definition object makes a table-valued function
   * (`SELECT * FROM name(args)`); a factory returning one makes a module for
   * `CREATE VIRTUAL TABLE x USING name(args)`, called with the module arguments and
   * `this` = `{ module, database, table }`.
   */
  table(name: string, definition: VirtualTableOptions | ((this: VirtualTableFactoryThis, ...args: string[]) => VirtualTableOptions)): this;
  /**
   * A handle of the same statement API on its own connection to this file, whose SQL sees and
   * writes only the rows of `tenantId` in every table having the tenant column. Refused for
   * `":memory:"` and `readonly` databases (`HARDENED_TENANT_UNSUPPORTED`). See docs/security.md.
   */
  forTenant(tenantId: string | number | bigint, options?: TenantOptions): TenantDb;
  /**
   * Turns SQLite's defensive mode off (`true`, the default) or back on (`false`):
   * better-sqlite3's `unsafeMode()`. Defensive mode is on for every new connection.
   */
  unsafeMode(unsafe?: boolean): this;
  /**
   * Closes the connection; idempotent. The last connection checkpoints and removes `-wal`.
   * Refused while an iterator of the connection is open (`HARDENED_DATABASE_BUSY`).
   */
  close(): this;
  /** `using db = new HardenedDb(...)` closes it at the end of the scope. */
  [Symbol.dispose](): void;
}

/** Options of `db.forTenant(tenantId, options)`. */
export interface TenantOptions {
  /** The column holding the tenant id in every tenant table. Default `"tenant_id"`. */
  column?: string;
  /** Tables without the tenant column that every tenant may read (never write). Default `[]`. */
  shared?: string[];
}

/**
 * What `db.forTenant(tenantId)` returns: statements see and write only this tenant's rows;
 * `main.t`, the schema, ATTACH, schema changes and PRAGMA writes are refused (`HARDENED_TENANT_DENIED`).
 */
export declare class TenantDb {
  private constructor();
  /** The tenant id given to `forTenant()`. */
  readonly tenantId: string | number | bigint;
  /** The tenant column. */
  readonly column: string;
  /** The database file's path. */
  readonly name: string;
  /** Whether the connection is open. */
  readonly open: boolean;
  /** Whether a transaction is active. */
  readonly inTransaction: boolean;
  /** Always `false`. */
  readonly readonly: boolean;
  /** Always `false`. */
  readonly memory: boolean;
  /** Prepares one SQL statement under the tenant rules (`RETURNING` is refused); type arguments as `HardenedDb.prepare`. */
  prepare<Params extends unknown[] | {} = BindParameters[], Row = Record<string, unknown>>(sql: string): PreparedStatement<Params, Row>;
  /** Runs one or more SQL statements under the tenant rules. */
  exec(sql: string): this;
  /** Reads `PRAGMA source` (a few read-only pragmas only). */
  pragma(source: string, options?: { simple?: false }): Record<string, unknown>[];
  pragma(source: string, options: { simple: true }): unknown;
  /** Wraps `fn` in a transaction function, as `HardenedDb.transaction`. */
  transaction<F extends (...args: any[]) => any>(fn: F, options?: TransactionOptions): Transaction<F>;
  /** New statements read INTEGER columns as `bigint`. */
  defaultSafeIntegers(toggle?: boolean): this;
  /** Closes this handle's connection; idempotent. The parent stays open. */
  close(): this;
  /** `using tenant = db.forTenant(id)` closes it at the end of the scope. */
  [Symbol.dispose](): void;
}

/**
 * Codes of `SqliteError`: SQLite's extended result code names
 * (`"SQLITE_CONSTRAINT_UNIQUE"`, `"SQLITE_BUSY_SNAPSHOT"`, ...).
 */
export type SqliteErrorCode =
  | "SQLITE_ERROR"
  | "SQLITE_BUSY"
  | "SQLITE_BUSY_SNAPSHOT"
  | "SQLITE_BUSY_RECOVERY"
  | "SQLITE_BUSY_TIMEOUT"
  | "SQLITE_LOCKED"
  | "SQLITE_READONLY"
  | "SQLITE_IOERR"
  | "SQLITE_CORRUPT"
  | "SQLITE_FULL"
  | "SQLITE_CANTOPEN"
  | "SQLITE_CONSTRAINT"
  | "SQLITE_CONSTRAINT_CHECK"
  | "SQLITE_CONSTRAINT_FOREIGNKEY"
  | "SQLITE_CONSTRAINT_NOTNULL"
  | "SQLITE_CONSTRAINT_PRIMARYKEY"
  | "SQLITE_CONSTRAINT_UNIQUE"
  | "SQLITE_MISMATCH"
  | "SQLITE_NOTADB"
  | `SQLITE_${string}`;

/** Codes of `HardenedDbError`, and of the `TypeError`s and `RangeError`s the library throws. */
/** What a user-defined function or an aggregate's `result()` may return. */
export type SqlFunctionResult = number | bigint | string | ArrayBufferView | null | undefined | void;

/** Options of `db.function()` (and of `db.aggregate()`). */
export interface FunctionOptions {
  /** Any number of arguments, rather than `fn.length`. Default `false`. */
  varargs?: boolean;
  /** Same arguments, same result (`SQLITE_DETERMINISTIC`): allowed in indexes and generated columns. Default `false`. */
  deterministic?: boolean;
  /** Only top-level SQL may call it, never a view, trigger or the schema (`SQLITE_DIRECTONLY`). Default `false`. */
  directOnly?: boolean;
  /** INTEGER arguments arrive as `bigint`. Default: the database's `defaultSafeIntegers()` at registration. */
  safeIntegers?: boolean;
  /**
   * hardened-sqlite only: the function is harmless whatever the schema (`SQLITE_INNOCUOUS`), so views,
   * triggers, CHECK constraints and defaults may call it (`trusted_schema` is off). Default `false`.
   */
  innocuous?: boolean;
}

/** Options of `db.aggregate()`. */
export interface AggregateOptions<Acc = any> extends FunctionOptions {
  /** The accumulator of each group, or a function returning it. Default `null`. */
  start?: Acc | (() => Acc);
  /** Adds a row: returns the next accumulator (`undefined` keeps it). */
  step: (accumulator: Acc, ...args: any[]) => Acc | void;
  /** Removes a row leaving the window; makes the aggregate a window function. */
  inverse?: (accumulator: Acc, ...args: any[]) => Acc | void;
  /** The aggregate's value from the accumulator. Default: the accumulator itself. */
  result?: (accumulator: Acc) => SqlFunctionResult;
}

/** A table definition of `db.table()` (@types/better-sqlite3's `VirtualTableOptions`). */
export interface VirtualTableOptions {
  /** Yields each row: an array of column values in `columns` order, or an object keyed by column. */
  rows: (...params: any[]) => Generator<unknown[] | Record<string, unknown>, void, unknown>;
  /** The column names (at least one, distinct). */
  columns: string[];
  /** Names of the parameters (hidden columns, at most 32). Default: `$1`, `$2`, ... by `rows.length`. */
  parameters?: string[];
  /** INTEGER parameters arrive as `bigint`. Default: the database's `defaultSafeIntegers()` when a table is connected. */
  safeIntegers?: boolean;
  /** Only top-level SQL may use it, never a view, trigger or the schema (`SQLITE_VTAB_DIRECTONLY`). Default `false`. */
  directOnly?: boolean;
  /**
   * hardened-sqlite only: views and triggers may use it although `trusted_schema` is off
   * (`SQLITE_VTAB_INNOCUOUS`); declare it only for a table harmless to read. Default `false`.
   */
  innocuous?: boolean;
}

/** `this` of a `db.table()` factory. */
export interface VirtualTableFactoryThis {
  /** The module name given to `db.table()`. */
  module: string;
  /** The schema of the new table (`"main"`, `"temp"` or an attached name). */
  database: string;
  /** The name of the table being created. */
  table: string;
}

export type HardenedErrorCode =
  // opening
  | "HARDENED_NOT_A_DATABASE"
  | "HARDENED_PRAGMA_MISMATCH"
  | "HARDENED_FILE_NOT_FOUND"
  | "HARDENED_PATH_IS_DIRECTORY"
  | "HARDENED_DIR_NOT_WRITABLE"
  | "HARDENED_FILE_NOT_WRITABLE"
  | "HARDENED_FILE_NOT_READABLE"
  | "HARDENED_SHM_NOT_WRITABLE"
  | "HARDENED_ORPHAN_WAL"
  | "HARDENED_FILE_MODE"
  | "HARDENED_UNHEALTHY"
  | "HARDENED_IO"
  // misuse
  | "HARDENED_INVALID_OPTION"
  | "HARDENED_INVALID_PATH"
  | "HARDENED_INVALID_ARGUMENT"
  | "HARDENED_NOT_OPEN"
  | "HARDENED_STATEMENT_BUSY"
  | "HARDENED_DATABASE_BUSY"
  | "HARDENED_NOT_A_READER"
  | "HARDENED_ALREADY_BOUND"
  | "HARDENED_ASYNC_TRANSACTION"
  | "HARDENED_IN_TRANSACTION"
  | "HARDENED_PARAMETER_COUNT"
  | "HARDENED_MISSING_PARAMETER"
  | "HARDENED_INTEGER_OVERFLOW"
  | "HARDENED_NO_STATEMENT"
  | "HARDENED_MULTIPLE_STATEMENTS"
  // the async handle (openAsync)
  | "HARDENED_TRANSACTION_CONTROL"
  | "HARDENED_TRANSACTION_TIMEOUT"
  | "HARDENED_TRANSACTION_FINISHED"
  | "HARDENED_ABORTED"
  | "HARDENED_ASYNC_DEADLOCK"
  // the bun:sqlite face (hardened-sqlite/bun)
  | "HARDENED_STATEMENT_FINALIZED"
  | "HARDENED_ITERATOR_INVALIDATED"
  | "HARDENED_UNSUPPORTED"
  | "HARDENED_OUT_OF_MEMORY"
  // migrations
  | "HARDENED_MIGRATION_FAILED"
  | "HARDENED_MIGRATION_CHANGED"
  | "HARDENED_SCHEMA_AHEAD"
  | "HARDENED_MIGRATIONS_PENDING"
  | "HARDENED_MIGRATION_INVALID"
  | "HARDENED_MIGRATION_DUPLICATE"
  | "HARDENED_MIGRATION_OUT_OF_ORDER"
  | "HARDENED_MIGRATIONS_NOT_FOUND"
  // maintenance
  | "HARDENED_BACKUP_EXISTS"
  | "HARDENED_BACKUP_FAILED"
  | "HARDENED_BACKUP_DESTINATION"
  | "HARDENED_BACKUP_NO_DIRECTORY"
  // tenant handles
  | "HARDENED_TENANT_DENIED"
  | "HARDENED_TENANT_VIOLATION"
  | "HARDENED_TENANT_UNSUPPORTED"
  // should not happen: a bug to report
  | "HARDENED_INTERNAL"
  | "HARDENED_PANIC"
  | "HARDENED_NODE_API"
  // user-defined functions
  | "HARDENED_DATABASE_BUSY"
  | "HARDENED_FUNCTION_RESULT"
  | "HARDENED_TABLE_ROW"
  | "HARDENED_FUNCTION_THREW"
  | "HARDENED_ENVIRONMENT_ENDING";

/** An error reported by SQLite; at run time `new` is optional, as in better-sqlite3. */
export declare class SqliteError extends Error {
  /** `code` must be a string (else a `TypeError`); `message` becomes one. */
  constructor(message: string, code: SqliteErrorCode);
  /** The extended result code name, e.g. `"SQLITE_CONSTRAINT_UNIQUE"`. */
  code: SqliteErrorCode;
  /**
   * When a hardened check failed where SQLite would have (a missing file with `readonly` or
   * `fileMustExist`: `SQLITE_CANTOPEN`), the precise reason, e.g. `"HARDENED_FILE_NOT_FOUND"`.
   */
  hardenedCode?: string;
}

/** An error raised by hardened-sqlite itself. */
export declare class HardenedDbError extends Error {
  constructor(message: string, code: HardenedErrorCode, options?: { cause?: unknown });
  /** A `HARDENED_*` code. */
  code: HardenedErrorCode;
  /** `HARDENED_UNHEALTHY` only: the failed checks. */
  checks?: HealthCheck[];
  /** `HARDENED_UNHEALTHY` only: the whole report. */
  report?: HealthReport;
}

/** The bundled SQLite version, e.g. `"3.54.1"`. */
export declare function sqliteVersion(): string;

/** Options of `HardenedDb.openAsync()`: the constructor's, plus the pool's. */
export interface AsyncHardenedDbOptions extends Omit<HardenedDbOptions, "verbose" | "defaultTransaction"> {
  /** Reader connections (1 to 64). Default: the cores (`os.availableParallelism()`), at most 3. */
  readers?: number;
  /**
   * Milliseconds a `db.transaction()` callback may take before the transaction is rolled back
   * with `HARDENED_TRANSACTION_TIMEOUT` (a missing `await`, a promise that never settles). Default `30000`.
   */
  transactionTimeout?: number;
  /** Async transactions are always `BEGIN IMMEDIATE`. */
  defaultTransaction?: "immediate";
  /**
   * Called with the SQL of each statement the caller runs (`this` undefined), on the JS thread, when
   * the call is made, before the statement runs; each statement of an `exec()` script separately.
   * Parameters are not written in (the statement is bound on a pool thread). A throw rejects the call
   * with what was thrown and nothing of it runs. Default: none.
   */
  verbose?: ((sql: string) => void) | null;
}

/** Options of the async handle's `db.backup()`: the sync options but `attached`. */
export interface AsyncBackupOptions {
  /**
   * Called after each step that left pages to copy; may return the pages to copy per step from
   * then on (default 100; `0` pauses). Throwing aborts the backup (the promise rejects with it).
   */
  progress?: ((progress: BackupProgress) => number | void) | null;
  /**
   * `true`: replace any existing regular file; `false`: refuse every existing file
   * (`HARDENED_BACKUP_EXISTS`). Unset: replace only a SQLite database or an empty file.
   */
  overwrite?: boolean;
}

/** Cancelling one request: an `AbortSignal` and/or a timeout in milliseconds (`HARDENED_ABORTED`). */
export interface AsyncRequestOptions {
  /** Aborting it interrupts the running statement, or keeps a queued one from starting. */
  signal?: AbortSignal;
  /** Milliseconds after which the request is cancelled as by `signal`. */
  timeout?: number;
}

/** A prepared statement of the async handle (`await db.prepare(sql)`): every call returns a promise. */
export declare class AsyncStatement<Params extends unknown[] = BindParameters[], Row = Record<string, unknown>> {
  private constructor();
  /** The SQL it was prepared from. */
  readonly source: string;
  /** Whether it only reads (it then runs on a reader; otherwise on the writer, in turn). */
  readonly readonly: boolean;
  /** Whether it returns rows (`get()`/`all()` allowed). */
  readonly reader: boolean;
  /** The handle it belongs to. */
  readonly database: AsyncHardenedDb;
  /** Reads INTEGER columns as bigint when `on` (default `true`). */
  safeIntegers(on?: boolean): this;
  /** A copy whose calls honour `options` (an `AbortSignal`, a timeout). */
  withOptions(options: AsyncRequestOptions): AsyncStatement<Params, Row>;
  /** Resolves to the first row, or `undefined`. */
  get(...params: Params): Promise<Row | undefined>;
  /** Resolves to every row. */
  all(...params: Params): Promise<Row[]>;
  /** Runs it; resolves to `{ changes, lastInsertRowid }`. */
  run(...params: Params): Promise<RunResult>;
  /**
   * `for await (const row of stmt.iterate())`: rows fetched in batches on one connection, held until
   * the loop ends (inside a transaction: on the writer, one iteration at a time).
   */
  iterate(...params: Params): AsyncIterableIterator<Row>;
}

/** What a transaction callback is given: every call runs on the writer, inside the transaction, in order. */
export interface AsyncTransaction {
  /** Resolves to the first row of `sql`, or `undefined`. */
  get<Row = Record<string, unknown>>(sql: string, ...params: BindParameters[]): Promise<Row | undefined>;
  /** Resolves to every row of `sql`. */
  all<Row = Record<string, unknown>>(sql: string, ...params: BindParameters[]): Promise<Row[]>;
  /** Runs one statement. */
  run(sql: string, ...params: BindParameters[]): Promise<RunResult>;
  /** Runs every statement of `sql`. */
  exec(sql: string): Promise<void>;
  /** Prepares `sql`; its calls run inside this transaction. */
  prepare<Params extends unknown[] = BindParameters[], Row = Record<string, unknown>>(sql: string): Promise<AsyncStatement<Params, Row>>;
  /** A nested transaction (a savepoint): rolled back to when `fn` throws or rejects. */
  transaction<T>(fn: (tx: AsyncTransaction) => T | Promise<T>): Promise<T>;
}

/**
 * The asynchronous handle (`await HardenedDb.openAsync(path, options)`): a
 * writer and reader connections, each hardened, whose SQLite work runs on
 * native threads. Reads go to a reader and never wait for a write; writes run
 * one at a time in call order on the writer.
 */
export declare class AsyncHardenedDb implements AsyncDisposable {
  private constructor();
  /** Opens the handle; the same as `HardenedDb.openAsync()`. */
  static open(path: string, options?: AsyncHardenedDbOptions): Promise<AsyncHardenedDb>;
  /** Whether calls are accepted (false once `close()` was called). */
  readonly open: boolean;
  /** The path as opened. */
  readonly name: string;
  /** Whether writes are rejected (`readonly: true`). */
  readonly readonly: boolean;
  /** The number of reader connections. */
  readonly readers: number;
  /** Resolves to the first row of `sql`, or `undefined`. */
  get<Row = Record<string, unknown>>(sql: string, ...params: BindParameters[]): Promise<Row | undefined>;
  /** Resolves to every row of `sql`. */
  all<Row = Record<string, unknown>>(sql: string, ...params: BindParameters[]): Promise<Row[]>;
  /** Runs one statement (a write waits its turn on the writer). */
  run(sql: string, ...params: BindParameters[]): Promise<RunResult>;
  /** Runs every statement of `sql` on the writer. */
  exec(sql: string): Promise<this>;
  /** Prepares `sql` off the event loop. */
  prepare<Params extends unknown[] = BindParameters[], Row = Record<string, unknown>>(sql: string): Promise<AsyncStatement<Params, Row>>;
  /**
   * Runs `fn(tx)` in a `BEGIN IMMEDIATE` transaction holding the writer; resolves to its result.
   * Called on the db inside a transaction callback of the same handle, it rejects at once with
   * `HARDENED_ASYNC_DEADLOCK` (nest with `tx.transaction()`).
   */
  transaction<T>(fn: (tx: AsyncTransaction) => T | Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * `PRAGMA wal_checkpoint(mode)` on the writer (in turn with writes). Default mode `"PASSIVE"`;
   * FULL, RESTART and TRUNCATE wait for readers at most `timeout` ms, as the sync `checkpoint()`.
   */
  checkpoint(mode?: "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE" | Lowercase<"PASSIVE" | "FULL" | "RESTART" | "TRUNCATE">, options?: { timeout?: number }): Promise<CheckpointResult>;
  /** `PRAGMA integrity_check` (`quick_check` with `{ quick: true }`) on a reader: the problems, empty when sound. */
  integrityCheck(options?: { quick?: boolean }): Promise<string[]>;
  /** `PRAGMA incremental_vacuum(pages)` on the writer (every free page without `pages`): the pages released. */
  incrementalVacuum(pages?: number): Promise<number>;
  /**
   * `VACUUM` on the writer, in turn with writes (FIFO): rewrites the file without its free pages
   * (needing that much free disk space); resolves to how many pages the database shrank by.
   */
  vacuum(): Promise<number>;
  /**
   * Copies the database to `destination` off the event loop, from a read-only connection of its own
   * (reads and writes go on meanwhile), then verifies the copy and renames it into place with mode
   * `fileMode`, with the sync `backup()`'s destination rules and errors.
   */
  backup(destination: string, options?: AsyncBackupOptions): Promise<BackupResult>;
  /** `PRAGMA optimize` on the writer. */
  optimize(): Promise<void>;
  /** The sync `health()` report, built on the writer off the event loop (with the `migrations` it was opened with). */
  health(options?: { integrity?: "quick" | "full" }): Promise<HealthReport>;
  /**
   * Finishes every call already made, then closes the readers and the writer. An open
   * `for await` loop is ended, not waited for: its next row throws `HARDENED_NOT_OPEN`.
   */
  close(): Promise<void>;
  /** `await using db = await HardenedDb.openAsync(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** `HardenedDb.openAsync()`. */
export declare function openAsync(path: string, options?: AsyncHardenedDbOptions): Promise<AsyncHardenedDb>;

export default HardenedDb;

// Names of this module as seen from inside `namespace HardenedDb`, which takes the same names.
type ModuleStatement<P extends unknown[], R> = Statement<P, R>;
type ModuleRunResult = RunResult;
type ModuleColumnDefinition = ColumnDefinition;
type ModuleTransaction<F extends (...args: any[]) => any> = Transaction<F>;
type ModuleVirtualTableOptions = VirtualTableOptions;

/**
 * @types/better-sqlite3's names, for code written against it: with
 * `import Database from "better-sqlite3"` aliased to this package, `Database.Database`,
 * `Database.Statement<[id: number], User>`, `Database.Options`, ... name these.
 */
export declare namespace HardenedDb {
  /** The connection: `HardenedDb`. */
  type Database = HardenedDb;
  /** Options of the constructor: `HardenedDbOptions`. */
  type Options = HardenedDbOptions;
  /** A statement taking `BindParameters` (an array type, or one argument of that type) and returning `Result` rows. */
  type Statement<BindParameters extends unknown[] | {} = unknown[], Result = unknown> = BindParameters extends unknown[]
    ? ModuleStatement<BindParameters, Result>
    : ModuleStatement<[BindParameters], Result>;
  /** What `run()` reports. */
  type RunResult = ModuleRunResult;
  /** Metadata of one result column. */
  type ColumnDefinition = ModuleColumnDefinition;
  /** A transaction function and its variants. */
  type Transaction<F extends (...args: any[]) => any = (...args: any[]) => any> = ModuleTransaction<F>;
  /** A table definition of `db.table()`: `VirtualTableOptions`. */
  type VirtualTableOptions = ModuleVirtualTableOptions;
  /** Options of `db.pragma()`. */
  interface PragmaOptions {
    simple?: boolean | undefined;
  }
  /** Pages of a backup: what `db.backup()` resolves to (with more, see `BackupResult`). */
  interface BackupMetadata {
    totalPages: number;
    remainingPages: number;
  }
  /** The class of `SqliteError` (as in @types/better-sqlite3, the constructor's type). */
  type SqliteError = SqliteErrorClass;
}

type SqliteErrorClass = typeof SqliteError;

/**
 * `HardenedDbOptions` under @types/better-sqlite3's name, for typings that import it by name
 * (`import type { Options } from "better-sqlite3"`, as @prisma/adapter-better-sqlite3's do).
 */
export type Options = HardenedDbOptions;

export {};
