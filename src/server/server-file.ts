/**
 * @module
 * `<data dir>/SERVER`: how a CLI finds the server that holds a data directory. A running
 * `kvdb serve` writes it after binding and removes it on clean shutdown:
 *
 *     {"url":"http://127.0.0.1:7070","pid":4242,"auth":true,"version":"0.1.0"}
 *
 * `auth` only says whether a token is required; the token itself is never written. A
 * record left behind by a crash is recognised as stale because its pid no longer holds
 * the directory's lock (`readLockHolder`), and is then treated as absent.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readLockHolder } from "../engine/lock.ts";

export const SERVER_FILE = "SERVER";

export interface ServerRecord {
  /** Base URL reachable from this machine (a wildcard bind is recorded as loopback). */
  url: string;
  pid: number;
  /** Whether requests need `Authorization: Bearer <token>`. */
  auth: boolean;
  version: string;
}

/** Writes the record atomically (temp file + rename), so a reader never sees half of it. */
export function writeServerRecord(dir: string, record: ServerRecord): void {
  const file = path.join(dir, SERVER_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(record) + "\n", { mode: 0o644 });
  fs.renameSync(temp, file);
}

/** Removes the record if it is ours (a newer server may have replaced it). */
export function removeServerRecord(dir: string, pid = process.pid): void {
  const record = readServerRecord(dir);
  if (record && record.pid !== pid) return;
  try {
    fs.rmSync(path.join(dir, SERVER_FILE), { force: true });
  } catch {
    // Best effort: a leftover record is recognised as stale by its pid.
  }
}

/** The record as written, without checking that its server still runs. */
export function readServerRecord(dir: string): ServerRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, SERVER_FILE), "utf8");
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as Partial<ServerRecord>;
    if (typeof r.url !== "string" || !Number.isSafeInteger(r.pid) || typeof r.auth !== "boolean") return undefined;
    return { url: r.url, pid: r.pid as number, auth: r.auth, version: String(r.version ?? "") };
  } catch {
    return undefined;
  }
}

/** The record of the server that holds `dir` right now, or undefined (none, or a stale record). */
export function findRunningServer(dir: string): ServerRecord | undefined {
  const record = readServerRecord(dir);
  if (!record) return undefined;
  return readLockHolder(dir) === record.pid ? record : undefined;
}
