/**
 * @module
 * The compiled `dist/kvdb`, built once per test process and shared by every e2e test
 * file, plus helpers to run it: one CLI invocation, or a `serve` process whose bound
 * port is read back from its start-up line (it listens on port 0).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Subprocess } from "bun";

const ROOT = path.resolve(import.meta.dir, "../..");
export const BINARY = path.join(ROOT, "dist/kvdb");

let built: Promise<string> | undefined;

/** Builds dist/kvdb with `bun scripts/build.ts` the first time it is called in this process. */
export function kvdbBinary(): Promise<string> {
  built ??= (async () => {
    const proc = Bun.spawn([process.execPath, path.join(ROOT, "scripts/build.ts")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`build failed: ${out}${err}`);
    return BINARY;
  })();
  return built;
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
}

/** A clean environment: no KVDB_* variables leak in from the developer's shell. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KVDB_") && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number;
  stdout: string;
  stdoutBytes: Uint8Array;
  stderr: string;
}

/** Runs `kvdb ...args` to completion. */
export async function kvdb(args: string[], options: { stdin?: string | Uint8Array; env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const bin = await kvdbBinary();
  const proc = Bun.spawn([bin, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).text(), proc.exited]);
  const stdoutBytes = new Uint8Array(out);
  return { code, stdout: new TextDecoder().decode(stdoutBytes), stdoutBytes, stderr: err };
}

export interface ServeProcess {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Lines printed so far on stdout. */
  output(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number>;
}

/** Starts `kvdb serve --data-dir dir --port 0 ...args` (in `cwd`, default this process's) and waits for its start-up line. */
export async function serve(dir: string, args: string[] = [], env: Record<string, string> = {}, cwd?: string): Promise<ServeProcess> {
  const bin = await kvdbBinary();
  const proc = Bun.spawn([bin, "serve", "--data-dir", dir, "--port", "0", ...args], {
    cwd,
    env: cleanEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 10_000);
    (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const m = /listening on (http:\/\/\S+?),/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
          // Keep draining so the child never blocks on a full pipe.
          for (;;) {
            const next = await reader.read();
            if (next.done) return;
            text += decoder.decode(next.value, { stream: true });
          }
        }
      }
      clearTimeout(timer);
      reject(new Error(`serve exited before listening: ${text}${await new Response(proc.stderr).text()}`));
    })().catch(reject);
  });
  return {
    url,
    proc,
    output: () => text,
    async stop() {
      proc.kill("SIGTERM");
      return proc.exited;
    },
  };
}
