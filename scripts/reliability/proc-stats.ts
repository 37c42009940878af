/**
 * @module
 * Resource figures of a process from Linux's /proc: resident memory (`VmRSS` in
 * `/proc/<pid>/status`) and the number of open file descriptors (entries of
 * `/proc/<pid>/fd`). Both are undefined when the process is gone or /proc is missing.
 */
import * as fs from "node:fs";

/** Resident set size in KiB. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors (sockets, files, pipes, mappings' fds…). */
export function openFds(pid: number): number | undefined {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}
