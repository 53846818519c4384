// Bounded fuzz run (issue #12): __test__/fuzz/worker.cjs throws random
// parameters, hostile callbacks during binding, schema changes under live
// statements, prototype-named tables and statements let go, finalized and
// collected under closing connections at the statement API. Each family runs
// in its own child process per runtime (Bun, the machine's Node, the newer Node
// of the devDependency `node`), so a crash is caught with its signal and does
// not hide the other families. Every runtime has a fixed seed; to reproduce or
// widen a run:
//   HS_FUZZ_SEED=7 HS_FUZZ_CASES=40000 bun test __test__/fuzz.spec.ts --timeout 120000
// and replay one failing case alone with the `replay` command of its FAIL line.
import { describe, it, expect, beforeAll, afterAll } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BUN, NODE, PACKAGE_ROOT, tempDir } from "./helpers";

const WORKER = join(import.meta.dir, "fuzz", "worker.cjs");
/** The Node >= 22 of the devDependency `node` (as in integrations/processes.ts). */
const NODE22 = join(PACKAGE_ROOT, "node_modules", "node", "bin", "node");
const FAMILIES = ["params", "hostile", "schema", "proto", "lifetime"] as const;
type Family = (typeof FAMILIES)[number];

/** Cases per runtime, split evenly between the families. */
const CASES = Number(process.env.HS_FUZZ_CASES ?? 12000);
/** Milliseconds a child may go on starting new cases (it stops early, not failing). */
const BUDGET_MS = Number(process.env.HS_FUZZ_BUDGET_MS ?? 15_000);
/** Milliseconds before a child is killed as hung (it then shows as SIGKILL). */
const KILL_MS = BUDGET_MS + 15_000;

const RUNTIMES = [
  { name: "Bun", bin: BUN, seed: 12_001 },
  { name: "the machine's Node", bin: NODE, seed: 12_002 },
  { name: "Node >= 22 (npm package node)", bin: NODE22, seed: 12_003 },
];

/** Where the workers put the database files of their schema cases (removed afterwards, even after a crash). */
let scratch: ReturnType<typeof tempDir>;
beforeAll(() => {
  scratch = tempDir("hs-fuzz");
});
afterAll(() => scratch.cleanup());

interface FuzzRun {
  bin: string;
  seed: number;
  family: Family;
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs the worker on one family to completion (or until killed). */
async function fuzz(bin: string, seed: number, family: Family): Promise<FuzzRun> {
  const cases = Math.ceil(CASES / FAMILIES.length);
  const child = Bun.spawn([bin, WORKER, String(seed), String(cases), family], {
    cwd: PACKAGE_ROOT,
    // --expose-gc: the lifetime family runs the collector on Node too (Bun has Bun.gc).
    env: { ...process.env, HS_FUZZ_BUDGET_MS: String(BUDGET_MS), HS_FUZZ_TMPDIR: scratch.dir, NODE_OPTIONS: "--expose-gc" },
    stdout: "pipe",
    stderr: "pipe",
    timeout: KILL_MS,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.exited;
  return { bin, seed, family, status: child.exitCode, signal: child.signalCode, stdout, stderr };
}

/** What a failed run left behind: the case it was in, its reproductions, the ends of its output. */
function report(run: FuzzRun): string {
  const lines = (text: string) => text.split("\n").filter(Boolean);
  const caseLines = lines(run.stderr).filter((l) => l.startsWith("case "));
  const otherStderr = lines(run.stderr).filter((l) => !l.startsWith("case "));
  const failLines = lines(run.stdout).filter((l) => l.startsWith("FAIL "));
  const out = [
    `${run.family} on ${run.bin} (seed ${run.seed}): ${run.signal ? `killed by ${run.signal}` : `exit status ${run.status}`}`,
  ];
  const last = caseLines.at(-1);
  if (last && (run.signal || run.status !== 1)) {
    const plan = JSON.parse(last.slice(5));
    out.push(`last case started (the one that crashed or hung): ${last.slice(0, 2000)}`);
    out.push(`replay it: HS_FUZZ_CASE=${plan.family}:${plan.case} ${run.bin} __test__/fuzz/worker.cjs ${run.seed}`);
  }
  if (failLines.length) out.push(`${failLines.length} failing cases, the first ones:`, ...failLines.slice(0, 6).map((l) => l.slice(0, 1500)));
  if (otherStderr.length) out.push("stderr (tail):", ...otherStderr.slice(-15).map((l) => l.slice(0, 500)));
  out.push("stdout (tail):", ...lines(run.stdout).filter((l) => !l.startsWith("FAIL ")).slice(-3));
  return out.join("\n");
}

for (const runtime of RUNTIMES) {
  const seed = Number(process.env.HS_FUZZ_SEED ?? runtime.seed);

  describe.skipIf(!existsSync(runtime.bin) && runtime.bin !== "node")(`fuzz on ${runtime.name}`, () => {
    // The families of this runtime run at the same time; each test waits for its own.
    let runs: Record<Family, Promise<FuzzRun>>;
    beforeAll(() => {
      runs = Object.fromEntries(FAMILIES.map((f) => [f, fuzz(runtime.bin, seed, f)])) as Record<Family, Promise<FuzzRun>>;
    });

    for (const family of FAMILIES) {
      it(`should survive the ${family} cases: no signal, exit 0, no failures`, async () => {
        const run = await runs[family];
        const message = report(run);
        expect(run.signal, message).toBeNull();
        expect(run.status, message).toBe(0);
        const summary = run.stdout.trim().split("\n").at(-1) ?? "";
        expect(summary, message).toMatch(/^fuzz: [1-9]\d* cases, 0 failures$/);
      }, { timeout: KILL_MS + 10_000 });
    }
  });
}
