/**
 * @module
 * A progress line on stderr for import and export, drawn only when stderr is a terminal
 * (never into a log file or a pipe), redrawn at most ten times a second.
 */
import type { CliIO } from "./io.ts";
import { formatBytes } from "./output.ts";

export interface Progress {
  /** `done` counts items; `bytes` of `totalBytes` drive the bar when the total is known. */
  update(done: number, bytes?: number): void;
  finish(): void;
}

const WIDTH = 30;

export function progress(io: CliIO, label: string, totalBytes?: number): Progress {
  if (!io.stderrIsTTY) return { update() {}, finish() {} };
  const started = performance.now();
  let last = 0;
  let drawn = false;
  const draw = (done: number, bytes?: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    let bar = "";
    if (totalBytes && bytes !== undefined) {
      const ratio = Math.min(1, bytes / totalBytes);
      const filled = Math.round(ratio * WIDTH);
      bar = `[${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(bytes)}/${formatBytes(totalBytes)} `;
    }
    io.stderr.write(`\r\x1b[K${label} ${bar}${done} keys (${rate}/s)`);
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
