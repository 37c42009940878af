/**
 * @module
 * `kvdb serve` as a child process for the HTTP benchmarks: started on a data directory
 * with a free port, ready once it logs its "listening on <url>," line, stopped with
 * SIGTERM (which finishes in-flight requests and closes the database).
 *
 * By default it runs the current sources (`bun src/main.ts serve`), so no build step or
 * shared `dist/` artifact is involved; BENCH_SERVER_BIN=dist/kvdb runs a compiled binary.
 * The working directory is the data directory's parent, so no `./indexes.toml` of the
 * repository is picked up.
 */
import * as path from "node:path";

export interface ServerProcess {
  readonly url: string;
  readonly command: string[];
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number>;
}

const REPO = path.resolve(import.meta.dir, "../..");

/** The command that starts the server: BENCH_SERVER_BIN, or bun on src/main.ts. */
export function serverCommand(): string[] {
  const bin = process.env.BENCH_SERVER_BIN;
  if (bin) return [path.resolve(REPO, bin)];
  return [process.execPath, path.join(REPO, "src/main.ts")];
}

/** Starts `kvdb serve --data-dir dataDir --port 0 --sync sync` and waits until it listens. */
export async function startServer(dataDir: string, sync: "always" | "none"): Promise<ServerProcess> {
  const command = [...serverCommand(), "serve", "--data-dir", dataDir, "--port", "0", "--sync", sync];
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "inherit", stdin: "ignore", cwd: path.dirname(dataDir) });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${command.join(" ")} exited before listening (code ${await proc.exited}): ${text}`);
    text += decoder.decode(value, { stream: true });
    const m = /listening on (http:\/\/\S+?),/.exec(text);
    if (!m) continue;
    // Drain the rest of its output in the background so the pipe never fills.
    void (async () => {
      while (!(await reader.read()).done);
    })();
    return {
      url: m[1],
      command,
      async stop() {
        proc.kill("SIGTERM");
        return proc.exited;
      },
    };
  }
}
