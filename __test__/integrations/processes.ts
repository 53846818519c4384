// Runtimes and child processes for the integration suites.
import { join } from "node:path";
import { PACKAGE_ROOT, BUN, NODE } from "../helpers";

export { BUN, NODE };

/** The Node >= 22 of the devDependency `node`. */
export const NODE22 = join(PACKAGE_ROOT, "node_modules", "node", "bin", "node");

/** Runs `bin args...` to completion (killed after `timeoutMs`); returns its status and output. */
export async function run(bin: string, args: string[], timeoutMs = 60_000) {
  const child = Bun.spawn([bin, ...args], { cwd: PACKAGE_ROOT, stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const [stdout, stderr, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { status, stdout, stderr };
}

/** The JSON object printed on the last line of a child's stdout (with its stderr in the error when there is none). */
export function lastJson(out: { status: number | null; stdout: string; stderr: string }): any {
  const line = out.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`child exited ${out.status} without a JSON result\nstdout: ${out.stdout}\nstderr: ${out.stderr}`);
  }
}
