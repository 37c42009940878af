/**
 * @module
 * An in-memory {@link CliIO} for running `runCli` inside the test process.
 */
import type { CliIO, OutputStream } from "../../src/cli/io.ts";

export interface Captured extends CliIO {
  out(): string;
  err(): string;
  outBytes(): Uint8Array;
}

function capture(): OutputStream & { bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    write(data) {
      chunks.push(typeof data === "string" ? new TextEncoder().encode(data) : data.slice());
    },
    async flush() {},
    bytes: () => Buffer.concat(chunks),
  };
}

export function captureIO(options: { stdin?: string | Uint8Array; tty?: boolean; env?: Record<string, string> } = {}): Captured {
  const stdout = capture();
  const stderr = capture();
  return {
    stdout,
    stderr,
    stdin: () => new Blob([options.stdin ?? ""]).stream(),
    stderrIsTTY: options.tty ?? false,
    env: options.env ?? {},
    out: () => new TextDecoder().decode(stdout.bytes()),
    err: () => new TextDecoder().decode(stderr.bytes()),
    outBytes: () => stdout.bytes(),
  };
}
