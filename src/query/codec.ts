/**
 * @module
 * The value codec queries use: a stored value is a document when its bytes are UTF-8
 * (no byte-order mark), `JSON.parse` accepts them, and the result is an object (not an
 * array). Anything else is "not JSON" — it never matches and is counted in
 * `plan.skipped_not_json`; the query does not fail because of it. `member_reader.ts`
 * applies the same definition without building the document.
 */
import type { JsonObject } from "./types.ts";

// fatal: invalid UTF-8 is not a document. ignoreBOM: keep a BOM so JSON.parse refuses it,
// as it refuses any other character before the value.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const OPEN_BRACE = 0x7b;

/** Whether the first byte after JSON white space (space, tab, LF, CR) is `{`. */
export function startsObject(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === OPEN_BRACE;
}

/** The JSON value `bytes` hold, or undefined when they are not UTF-8 JSON (JSON `null` parses to null). */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

/** The document `bytes` holds, or undefined when they are not a UTF-8 JSON object. */
export function decodeDocument(bytes: Uint8Array): JsonObject | undefined {
  // Cheap refusal of everything that cannot be an object. After it, a successful parse
  // is an object (never an array or null).
  if (!startsObject(bytes)) return undefined;
  return parseJsonBytes(bytes) as JsonObject | undefined;
}
