/**
 * @module
 * Opaque pagination cursors. A cursor is base64url of a small versioned JSON object:
 *
 *   {"v":1,"k":"<last key returned>","q":"<query fingerprint>"}               key order
 *   {"v":2,"k":"<last key>","s":"<sort value>"|null,"q":"<fingerprint>"}      sorted queries
 *
 * The next page resumes strictly after `k` (the scan starts at `k` + U+0000, the
 * smallest key above `k` in UTF-8 byte order), so writes between pages cause no
 * duplicates and skip no key that existed throughout. `q` fingerprints the scope, the
 * canonical filter and (for sorted queries) the sort, so a cursor replayed against
 * another query is refused instead of silently resuming somewhere meaningless. The limit
 * is not part of the fingerprint: pages may differ in size.
 *
 * A sorted query's cursor also carries the last item's sort position (`src/query/sort.ts`):
 * `s` is base64url of its encoded sort value (`docs/FORMAT.md`, "Index values"), or null
 * when the page ended among the documents without a sort value. The next page resumes
 * strictly after (`s`, `k`) in the sorted order.
 */
import { createHash } from "node:crypto";
import { utf8 } from "../engine/coding.ts";
import { decodeIndexValue } from "../indexing/value_codec.ts";
import { filterToJson, type FilterNode } from "./filter.ts";
import { invalidQuery } from "./invalid.ts";
import { sortToJson, type SortPosition, type SortSpec } from "./sort.ts";

const KEY_ORDER = 1;
const SORTED = 2;
/** Generous: the key (≤ 4 KiB of UTF-8, base64url-expanded), a sort value and the envelope. */
const MAX_CURSOR_CHARS = 48 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface CursorPosition {
  /** The last key returned; the next page starts strictly after it. */
  after: string;
  /**
   * Sorted queries: the last item's encoded sort value, or null when it had none.
   * Undefined for queries in key order.
   */
  sortValue?: Uint8Array | null;
}

/** Identifies a query for its cursors: scope, canonical filter and sort. */
export function queryFingerprint(scopePrefix: string, filter: FilterNode, sort?: SortSpec): string {
  const parts: unknown[] = [scopePrefix, filterToJson(filter, true)];
  if (sort) parts.push(sortToJson(sort));
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 22);
}

export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  const state =
    position.sortValue === undefined
      ? { v: KEY_ORDER, k: position.after, q: fingerprint }
      : { v: SORTED, k: position.after, s: position.sortValue === null ? null : Buffer.from(position.sortValue).toString("base64url"), q: fingerprint };
  return Buffer.from(JSON.stringify(state)).toString("base64url");
}

/**
 * Decodes `cursor` for the query with `fingerprint` and `scopePrefix` (`sorted`: whether
 * the query has a sort, so the cursor must carry a sort position).
 * Errors: `cursor: not a valid cursor ...` (damaged, or not one of ours) and
 * `cursor: cursor does not match this query ...`.
 */
export function decodeCursor(cursor: string, fingerprint: string, scopePrefix: string, sorted = false): CursorPosition {
  const bad = () => invalidQuery("cursor", "not a valid cursor; pass next_cursor from the previous response unchanged");
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !BASE64URL.test(cursor)) throw bad();
  let state: unknown;
  try {
    state = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(cursor, "base64url")));
  } catch {
    throw bad();
  }
  if (state === null || typeof state !== "object") throw bad();
  const { v, k, q, s } = state as Record<string, unknown>;
  if ((v !== KEY_ORDER && v !== SORTED) || typeof k !== "string" || k.length === 0 || !k.isWellFormed() || typeof q !== "string") throw bad();
  let sortValue: Uint8Array | null | undefined;
  if (v === SORTED) {
    if (s === null) sortValue = null;
    else if (typeof s === "string" && s.length > 0 && BASE64URL.test(s)) sortValue = sortValueOf(s, bad);
    else throw bad();
  }
  if (q !== fingerprint || !k.startsWith(scopePrefix) || (v === SORTED) !== sorted) {
    const same = sorted ? "scope_prefix, filter and sort" : "scope_prefix and filter";
    throw invalidQuery("cursor", `cursor does not match this query; ${same} must be the same as for the first page`);
  }
  return sortValue === undefined ? { after: k } : { after: k, sortValue };
}

/** The encoded sort value in a cursor: exactly one well-formed index value. */
function sortValueOf(text: string, bad: () => Error): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(text, "base64url"));
  try {
    if (decodeIndexValue(bytes).end !== bytes.length) throw bad();
  } catch {
    throw bad();
  }
  return bytes;
}

/** The sort position a decoded cursor resumes after. */
export function sortPositionOf(position: CursorPosition): SortPosition {
  return { value: position.sortValue ?? null, key: utf8(position.after) };
}

/** The inclusive scan start that resumes strictly after `key`. */
export function resumeAfter(key: string): string {
  return key + "\u0000";
}
