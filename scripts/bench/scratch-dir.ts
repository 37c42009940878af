/**
 * @module
 * A benchmark's scratch directory under os.tmpdir(): created fresh, removed when the
 * benchmark ends and also on SIGINT/SIGTERM, so an interrupted run leaves no gigabytes
 * behind. `BENCH_KEEP=1` keeps it (its path is printed) for inspection.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ScratchDir {
  readonly path: string;
  /** Removes the directory (unless BENCH_KEEP=1); idempotent. */
  remove(): void;
}

const pending = new Set<() => void>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      for (const remove of [...pending]) remove();
      process.exit(130);
    });
  }
}

/** Creates `<tmp>/<prefix>XXXXXX` and arranges for its removal on SIGINT/SIGTERM. */
export function scratchDir(prefix: string): ScratchDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const keep = process.env.BENCH_KEEP === "1";
  const remove = (): void => {
    if (!pending.delete(remove)) return;
    if (keep) process.stderr.write(`BENCH_KEEP=1: left ${dir} in place\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  pending.add(remove);
  installSignalHandlers();
  return { path: dir, remove };
}
