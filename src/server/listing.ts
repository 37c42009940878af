/**
 * @module
 * Ordered key listings with key-substring filtering and cursor pagination: `GET /kv`,
 * and `kvdb scan` / `kvdb export` when the CLI opens the directory itself.
 *
 * The cursor is the base64url of the UTF-8 bytes of the last key returned. Resuming
 * scans from that key followed by a 0x00 byte — the smallest key after it in byte order —
 * so a page starts strictly after the previous one: no duplicates, and no key that
 * existed throughout is skipped, whatever was written in between. Clients treat the
 * cursor as opaque.
 */
import { compareBytes, utf8 } from "../engine/coding.ts";
import { KvdbError } from "../engine/errors.ts";
import type { Database, ScanOptions } from "../types.ts";
import { toJsonValue, type JsonValue } from "./json-value.ts";

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/** What to list: the database's scan bounds plus a substring of the key. */
export interface KeyRange {
  prefix?: string;
  /** Inclusive lower bound. */
  start?: string;
  /** Exclusive upper bound. */
  end?: string;
  /** Only keys containing this substring. */
  contains?: string;
}

export type ListedItem = { key: string } & JsonValue;

export interface ListPage {
  items: ListedItem[];
  /** Pass back as `cursor` for the next page; null once the listing is complete. */
  next_cursor: string | null;
}

/** The opaque cursor that resumes after `key`. */
export function encodeCursor(key: string): string {
  return Buffer.from(utf8(key)).toString("base64url");
}

/** The key a cursor resumes after; INVALID_ARGUMENT for anything {@link encodeCursor} cannot produce. */
export function decodeCursor(cursor: string): string {
  const bytes = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url") : undefined;
  if (bytes && bytes.length > 0 && bytes.toString("base64url") === cursor) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      // fall through: not a cursor we issued
    }
  }
  throw new KvdbError("INVALID_ARGUMENT", "cursor is not a cursor returned by this API");
}

/** Entries of `range` in key order, strictly after `after` when given. */
export async function* scanRange(
  db: Pick<Database, "scan">,
  range: KeyRange,
  after?: string,
): AsyncGenerator<[string, Uint8Array]> {
  const options: ScanOptions = { prefix: range.prefix, start: range.start, end: range.end };
  if (after !== undefined) {
    const resume = after + "\u0000";
    if (options.start === undefined || compareBytes(utf8(resume), utf8(options.start)) > 0) options.start = resume;
  }
  const contains = range.contains;
  for await (const entry of db.scan(options)) {
    if (contains && !entry[0].includes(contains)) continue;
    yield entry;
  }
}

/** One page of at most `limit` items and the cursor of the next. */
export async function listPage(
  db: Pick<Database, "scan">,
  range: KeyRange,
  limit: number,
  cursor?: string,
): Promise<ListPage> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new KvdbError("INVALID_ARGUMENT", `limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
  }
  const after = cursor === undefined || cursor === "" ? undefined : decodeCursor(cursor);
  const items: ListedItem[] = [];
  let more = false;
  // One item beyond the page tells whether a next page exists, so the last page says null.
  for await (const [key, value] of scanRange(db, range, after)) {
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push({ key, ...toJsonValue(value) });
  }
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor(last.key) : null };
}
