// The type test of the async handle (index.d.ts, docs/async.md): every method, as an ESM app
// would write it. Compiled (never run) by `tsc --noEmit --strict -p __test__/types`.
import HardenedDb, { AsyncHardenedDb, openAsync, type AsyncStatement, type AsyncTransaction, type AsyncBackupOptions, type BackupResult, type RunResult, type CheckpointResult, type HealthReport } from "hardened-sqlite";

type User = { id: number; name: string };

export async function asyncHandle(): Promise<void> {
  await using db = await HardenedDb.openAsync("app.db", { readers: 2, transactionTimeout: 10_000, migrations: "migrations", safeIntegers: false });
  const other: AsyncHardenedDb = await openAsync("app.db");
  const third: AsyncHardenedDb = await AsyncHardenedDb.open("app.db", { busyTimeout: 1000 });
  const user: User | undefined = await db.get<User>("SELECT id, name FROM users WHERE id = ?", 1);
  const users: User[] = await db.all<User>("SELECT id, name FROM users WHERE name = :name", { name: "ada" });
  const result: RunResult = await db.run("INSERT INTO users (name) VALUES (?)", "ada");
  const same: AsyncHardenedDb = await db.exec("CREATE TABLE IF NOT EXISTS t (x)");
  const stmt: AsyncStatement<[number], User> = await db.prepare<[number], User>("SELECT id, name FROM users WHERE id = ?");
  const one: User | undefined = await stmt.get(1);
  const cancellable = stmt.withOptions({ signal: AbortSignal.timeout(100), timeout: 50 });
  const rows: User[] = await cancellable.all(2);
  for await (const row of stmt.iterate(3)) {
    const name: string = row.name;
    void name;
  }
  const flags: [boolean, boolean, string] = [stmt.readonly, stmt.reader, stmt.source];
  const total: number = await db.transaction(async (tx: AsyncTransaction) => {
    await tx.run("INSERT INTO users (name) VALUES (?)", "bob");
    await tx.transaction(async (inner) => inner.exec("DELETE FROM t"));
    const inTx = await tx.prepare<[], { n: number }>("SELECT count(*) AS n FROM users");
    return (await inTx.get())?.n ?? 0;
  }, { retries: 2 });
  const upkeep: [CheckpointResult, string[], number, void] = [await db.checkpoint("TRUNCATE"), await db.integrityCheck({ quick: true }), await db.incrementalVacuum(10), await db.optimize()];
  void upkeep;
  const report: HealthReport = await db.health({ integrity: "quick" });
  void report;
  const shrunk: number = await db.vacuum();
  const options: AsyncBackupOptions = { overwrite: true, progress: ({ totalPages, remainingPages }) => (remainingPages < totalPages / 2 ? 500 : undefined) };
  const copy: BackupResult = await db.backup("backups/app.db", options);
  const copied: [number, number, string, number] = [copy.totalPages, copy.remainingPages, copy.path, copy.bytes];
  await db.backup("backups/again.db");
  void [shrunk, copied];
  const state: [boolean, string, boolean, number] = [db.open, db.name, db.readonly, db.readers];
  void [other, third, user, users, result, same, one, rows, flags, total, state];
  await other.close();
  await third[Symbol.asyncDispose]();
}

await HardenedDb.openAsync("app.db", { healthCheck: true, closeOnSignal: true, checkpointInterval: 60_000 });
await HardenedDb.openAsync("app.db", { verbose: (sql: string) => console.log(sql) });
await HardenedDb.openAsync("app.db", { verbose: console.log });
// @ts-expect-error: the logger gets a string
await HardenedDb.openAsync("app.db", { verbose: (sql: number) => sql });
declare const asyncDb: AsyncHardenedDb;
// @ts-expect-error: the async backup reads from a connection of its own, which has no attached databases
await asyncDb.backup("copy.db", { attached: "main" });
// @ts-expect-error: async transactions are always IMMEDIATE
await HardenedDb.openAsync("app.db", { defaultTransaction: "deferred" });
