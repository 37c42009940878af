/**
 * @module
 * Benchmarks run each measured subject (an engine, a database state) in its own child
 * process, so peak RSS is per subject and one subject's garbage, mappings or background
 * work cannot bias another. A child prints progress on stderr (passed through) and its
 * result as one JSON line, the last line of its stdout; {@link emitResult} writes it and
 * {@link runChild} reads it back.
 */

/** Writes the child's result: one JSON line on stdout. */
export function emitResult(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}

/**
 * Runs `bun <script> ...args` with this process's environment (plus `env`) and returns
 * the JSON of its last stdout line, or undefined (after saying why on stderr) when it
 * exits non-zero or prints no result.
 */
export async function runChild<T>(label: string, script: string, args: string[], env: Record<string, string> = {}): Promise<T | undefined> {
  const proc = Bun.spawn([process.execPath, script, ...args], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...env },
  });
  const out = await new Response(proc.stdout).text();
  const code = await proc.exited;
  const last = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !last.startsWith("{")) {
    process.stderr.write(`[${label}] FAILED (exit code ${code})\n`);
    return undefined;
  }
  return JSON.parse(last) as T;
}
