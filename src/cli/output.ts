/**
 * @module
 * How the CLI prints: values for people, JSON lines for machines, and the one-line error
 * message with its exit code (0 ok, 1 failure — including a missing key — 2 usage).
 */
import { KvdbError } from "../engine/errors.ts";
import { toJsonValue } from "../server/json-value.ts";
import { UsageError } from "./args.ts";
import { RemoteError } from "./client.ts";
import type { OutputStream } from "./io.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** `{"key":…,"value":…}` (or `value_base64`) — the NDJSON line of export and `scan --json`. */
export function entryJson(key: string, value: Uint8Array): string {
  return JSON.stringify({ key, ...toJsonValue(value) });
}

/** A value for a terminal: its text with control characters escaped, or `base64:…` for binary. */
export function displayValue(value: Uint8Array): string {
  const v = toJsonValue(value);
  if ("value_base64" in v) return `base64:${v.value_base64}`;
  return displayText(v.value);
}

/** Text for a terminal: control characters (and the backslash) escaped, so one item stays on one line. */
export function displayText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\\]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\" };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

export function writeJson(out: OutputStream, value: unknown): void {
  out.write(JSON.stringify(value) + "\n");
}

/** "1.5 MiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The line printed on stderr for a failure, and the exit code. */
export function describeError(e: unknown): { line: string; exitCode: number } {
  if (e instanceof UsageError) return { line: `kvdb: ${e.message}`, exitCode: EXIT_USAGE };
  if (e instanceof KvdbError || e instanceof RemoteError) return { line: `kvdb: ${e.code}: ${oneLine(e.message)}`, exitCode: EXIT_FAILURE };
  return { line: `kvdb: ${oneLine(e instanceof Error ? e.message : String(e))}`, exitCode: EXIT_FAILURE };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}
