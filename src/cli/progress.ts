/**
 * @module
 * A progress line on stderr for import, export and index rebuilds, drawn only when stderr
 * is a terminal (never into a log file or a pipe), redrawn at most ten times a second.
 * The bar is drawn when a total is known: bytes of the input file (import), or an
 * estimated number of items (a rebuild's previous record count, so capped below 100%
 * until the work reports done).
 */
import type { CliIO } from "./io.ts";
import { formatBytes } from "./output.ts";

export interface Progress {
  /** `done` counts items; `bytes` of `totalBytes` drive the bar when the total is known. */
  update(done: number, bytes?: number): void;
  finish(): void;
}

export interface ProgressOptions {
  /** Size of the input: the bar follows `bytes` of `update`. */
  totalBytes?: number;
  /** Estimated number of items: the bar follows `done`. */
  estimatedItems?: number;
  /** What `done` counts. Default "keys". */
  unit?: string;
}

const WIDTH = 30;

export function progress(io: CliIO, label: string, options: ProgressOptions = {}): Progress {
  if (!io.stderrIsTTY) return { update() {}, finish() {} };
  const { totalBytes, estimatedItems, unit = "keys" } = options;
  const started = performance.now();
  let last = 0;
  let drawn = false;
  const bar = (ratio: number, suffix: string) => {
    const r = Math.max(0, Math.min(1, ratio));
    const filled = Math.round(r * WIDTH);
    return `[${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${(r * 100).toFixed(0).padStart(3)}% ${suffix}`;
  };
  const draw = (done: number, bytes?: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    let shown = "";
    if (totalBytes && bytes !== undefined) shown = bar(bytes / totalBytes, `${formatBytes(bytes)}/${formatBytes(totalBytes)} `);
    else if (estimatedItems) shown = bar(Math.min(done / estimatedItems, 0.99), "");
    io.stderr.write(`\r\x1b[K${label} ${shown}${done} ${unit} (${rate}/s)`);
    drawn = true;
  };
  return {
    update(done, bytes) {
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      draw(done, bytes);
    },
    finish() {
      if (drawn) io.stderr.write("\r\x1b[K");
    },
  };
}
