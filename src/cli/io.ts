/**
 * @module
 * The CLI's streams behind an interface, so commands run the same in the binary and in
 * tests (which capture output in memory).
 */

export interface OutputStream {
  write(data: string | Uint8Array): void;
  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void>;
}

export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Standard input as a byte stream (read once). */
  stdin(): AsyncIterable<Uint8Array>;
  /** Progress bars are drawn only on a terminal. */
  stderrIsTTY: boolean;
  /** Width of the terminal stdout writes to; undefined when stdout is not a terminal. */
  columns?: number;
  env: Record<string, string | undefined>;
}

function sinkStream(file: typeof Bun.stdout): OutputStream {
  const sink = file.writer({ highWaterMark: 1 << 16 });
  // A write that must wait returns a promise; its failure (EPIPE once the reader is gone)
  // is kept and thrown by the next call, so a command stops instead of writing into the void.
  let failure: unknown;
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  return {
    write(data) {
      check();
      const pending = sink.write(data);
      if (pending instanceof Promise) pending.catch((e) => (failure ??= e));
    },
    async flush() {
      check();
      await sink.flush();
      check();
    },
  };
}

/** The real process streams. */
export function processIO(): CliIO {
  return {
    stdout: sinkStream(Bun.stdout),
    stderr: sinkStream(Bun.stderr),
    stdin: () => Bun.stdin.stream(),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    env: process.env,
  };
}
