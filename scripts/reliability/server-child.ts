/**
 * @module
 * `kvdb serve` as a child process the reliability scripts can start, SIGKILL and restart
 * on the same data directory. It listens on a free loopback port (`--port 0`); the URL is
 * read back from its "listening on <url>," start-up line. Its stdout and stderr are
 * drained into a bounded tail (so the pipes never fill) that failures quote.
 *
 * The command is `bun src/main.ts serve` (the current sources) unless a binary is given
 * (`--bin dist/kvdb` in the scripts; the e2e tests pass the compiled binary they share).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Subprocess } from "bun";

const REPO = path.resolve(import.meta.dir, "../..");

/** The repository's `indexes.toml` (users_city: equality on $.city, users_age: range on $.age, over `user:`). */
export const REPO_INDEXES_FILE = path.join(REPO, "indexes.toml");

export interface ServerChildOptions {
  /** `kvdb` executable; undefined runs `bun src/main.ts`. */
  bin?: string;
  dataDir: string;
  /** `--indexes FILE`; undefined declares none. */
  indexesFile?: string;
  sync?: "always" | "none";
  /** More `kvdb serve` flags. */
  extraArgs?: string[];
}

export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** The last few KiB of the child's stdout and stderr. */
  output(): string;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown), then waits; resolves with the exit code. */
  stop(): Promise<number>;
}

/** The argv that runs `kvdb` (without `serve`). */
export function kvdbCommand(bin?: string): string[] {
  return bin ? [path.resolve(bin)] : [process.execPath, path.join(REPO, "src/main.ts")];
}

/** The full `kvdb serve ...` argv for `options`. */
export function serveCommand(options: ServerChildOptions): string[] {
  const args = [...kvdbCommand(options.bin), "serve", "--data-dir", options.dataDir, "--host", "127.0.0.1", "--port", "0"];
  args.push("--sync", options.sync ?? "always");
  if (options.indexesFile) args.push("--indexes", options.indexesFile);
  return [...args, ...(options.extraArgs ?? [])];
}

const TAIL_BYTES = 16 * 1024;

/** Spawns the server without waiting for it (crash-during-start-up tests kill it blind). */
export function spawnServer(options: ServerChildOptions): { proc: Subprocess<"ignore", "pipe", "pipe">; output(): string; stdoutText(): string } {
  // No KVDB_* variable of the caller's shell may change what the child does.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KVDB_") && v !== undefined) env[k] = v;
  // The data directory's parent is the working directory: no ./indexes.toml is picked up by accident.
  const cwd = path.dirname(path.resolve(options.dataDir));
  fs.mkdirSync(cwd, { recursive: true });
  const proc = Bun.spawn(serveCommand(options), {
    cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let tail = "";
  let stdout = "";
  const drain = async (stream: ReadableStream<Uint8Array>, isStdout: boolean) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      tail = (tail + text).slice(-TAIL_BYTES);
      // The start-up line is all callers look for on stdout: keep only its beginning.
      if (isStdout && stdout.length < 4096) stdout += text;
    }
  };
  void drain(proc.stdout, true).catch(() => {});
  void drain(proc.stderr, false).catch(() => {});
  return { proc, output: () => tail, stdoutText: () => stdout };
}

/** Starts `kvdb serve` and waits (up to `timeoutMs`) for its start-up line. */
export async function startServer(options: ServerChildOptions, timeoutMs = 60_000): Promise<ServerChild> {
  const child = spawnServer(options);
  const { proc } = child;
  const deadline = performance.now() + timeoutMs;
  let url: string | undefined;
  while (url === undefined) {
    const m = /listening on (http:\/\/\S+?),/.exec(child.stdoutText());
    if (m) url = m[1];
    else if (proc.exitCode !== null || proc.signalCode !== null) {
      await proc.exited;
      throw new Error(`kvdb serve exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${child.output()}`);
    } else if (performance.now() > deadline) {
      proc.kill("SIGKILL");
      await proc.exited;
      throw new Error(`kvdb serve did not start within ${timeoutMs} ms:\n${child.output()}`);
    } else await Bun.sleep(5);
  }
  return {
    url,
    pid: proc.pid,
    proc,
    output: child.output,
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    async stop() {
      proc.kill("SIGTERM");
      return proc.exited;
    },
  };
}
