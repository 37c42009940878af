/**
 * @module
 * Opaque pagination cursors. A cursor is base64url of a small versioned JSON object:
 *
 *   {"v":1,"k":"<last key returned>","q":"<query fingerprint>"}
 *
 * The next page resumes strictly after `k` (the scan starts at `k` + U+0000, the
 * smallest key above `k` in UTF-8 byte order), so writes between pages cause no
 * duplicates and skip no key that existed throughout. `q` fingerprints the scope and
 * the canonical filter, so a cursor replayed against another query is refused instead of
 * silently resuming somewhere meaningless. The limit is not part of the fingerprint:
 * pages may differ in size. Sorted queries (issue 7) will add their sort position as
 * a new field under a new version.
 */
import { createHash } from "node:crypto";
import { filterToJson, type FilterNode } from "./filter.ts";
import { invalidQuery } from "./invalid.ts";

const VERSION = 1;
/** Generous: the key (≤ 4 KiB of UTF-8, base64url-expanded) plus the envelope. */
const MAX_CURSOR_CHARS = 24 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface CursorPosition {
  /** The last key returned; the next page starts strictly after it. */
  after: string;
}

/** Identifies a query for its cursors: scope and canonical filter. */
export function queryFingerprint(scopePrefix: string, filter: FilterNode): string {
  const text = JSON.stringify([scopePrefix, filterToJson(filter, true)]);
  return createHash("sha256").update(text).digest("base64url").slice(0, 22);
}

export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, k: position.after, q: fingerprint })).toString("base64url");
}

/**
 * Decodes `cursor` for the query with `fingerprint` and `scopePrefix`.
 * Errors: `cursor: not a valid cursor ...` (damaged, or not one of ours) and
 * `cursor: cursor does not match this query ...`.
 */
export function decodeCursor(cursor: string, fingerprint: string, scopePrefix: string): CursorPosition {
  const bad = () => invalidQuery("cursor", "not a valid cursor; pass next_cursor from the previous response unchanged");
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !BASE64URL.test(cursor)) throw bad();
  let state: unknown;
  try {
    state = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(cursor, "base64url")));
  } catch {
    throw bad();
  }
  if (state === null || typeof state !== "object") throw bad();
  const { v, k, q } = state as Record<string, unknown>;
  if (v !== VERSION || typeof k !== "string" || k.length === 0 || !k.isWellFormed() || typeof q !== "string") throw bad();
  if (q !== fingerprint || !k.startsWith(scopePrefix)) {
    throw invalidQuery("cursor", "cursor does not match this query; scope_prefix and filter must be the same as for the first page");
  }
  return { after: k };
}

/** The inclusive scan start that resumes strictly after `key`. */
export function resumeAfter(key: string): string {
  return key + "\u0000";
}
