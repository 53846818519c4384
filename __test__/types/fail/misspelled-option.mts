// Compiled alone by __test__/types.spec.ts, which expects tsc to fail here
// with "'readOnly' does not exist ... Did you mean to write 'readonly'?".
import { HardenedDb } from "hardened-sqlite";

new HardenedDb("data/app.db", { readOnly: true });
