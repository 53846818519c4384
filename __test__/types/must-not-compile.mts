// Mistakes the typings must catch: each line below must be a type error, and
// `@ts-expect-error` fails the compilation if one is not.
import { HardenedDb } from "hardened-sqlite";

interface User { id: number; email: string }
const db = new HardenedDb(":memory:");

// @ts-expect-error "readOnly" is not an option: "readonly" is
new HardenedDb("data/app.db", { readOnly: true });
// @ts-expect-error busyTimeout is a number of milliseconds
new HardenedDb("data/app.db", { busyTimeout: "5s" });
// @ts-expect-error not a transaction behaviour
new HardenedDb("data/app.db", { defaultTransaction: "lazy" });
// @ts-expect-error "maxLength" is not a limit: "length" is
new HardenedDb("data/app.db", { limits: { maxLength: 1000 } });
// @ts-expect-error statementTimeout is a number of milliseconds
new HardenedDb("data/app.db", { statementTimeout: "5s" });
// @ts-expect-error not a permissions mode
new HardenedDb("data/app.db", { permissions: "ignore" });
// @ts-expect-error a Date is not a value SQLite can store
db.prepare("INSERT INTO t VALUES (?)").run(new Date());
// @ts-expect-error the statement takes a number
db.prepare<[id: number], User>("SELECT * FROM users WHERE id = ?").get("1");
// @ts-expect-error a bound statement takes no arguments
db.prepare<[id: number], User>("SELECT * FROM users WHERE id = ?").bind(1).get(2);
// @ts-expect-error rows are User, which has no name
db.prepare<[], User>("SELECT * FROM users").get()?.name;
// @ts-expect-error not a checkpoint mode
db.checkpoint("SOMETIMES");
// @ts-expect-error "retry" is not a transaction option: "retries" is
db.transaction(() => {}, { retry: 3 });
