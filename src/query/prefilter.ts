/**
 * @module
 * A byte-level prefilter that rules documents out before they are read. Reading a value
 * (checking all of it as UTF-8 JSON, see `member_reader.ts`) is the largest cost of a
 * scan after the iteration itself; most documents of a selective query can be refused
 * by a substring search instead.
 *
 * Why it is sound: JSON text without any backslash writes every string literally —
 * a string `s` appears as the bytes `"` + UTF-8(s) + `"`, with nothing escaped —
 * and `true`, `false`, `null` have one spelling. So, from the filter, we derive
 * *needles*: byte strings every matching document contains when it holds no backslash:
 *
 *   {"city": "X"}              "X"  and  "city"      (the value and the member name)
 *   {"tags": {"$contains": "ab"}}  ab  and  "tags"
 *   {"name": {"$prefix": "Jo"}}    "Jo  and  "name"
 *   {"ok": true}               true and  "ok"
 *   {"age": {"$gte": 30}}      none: numbers have many spellings, and member names
 *                              alone rarely rule a document out
 *
 * A document lacking a needle and containing no backslash (0x5C) cannot match, and is
 * not read. Anything with a backslash is read and matched normally. Needles come
 * from conditions that must hold (under `$and`; the intersection of `$or` branches),
 * never from negations, and only from strings that JSON writes without escapes.
 *
 * Consequence: a value refused here is never read, so if it is not JSON it is not
 * counted in `skipped_not_json` (`plan.docs_decoded` shows how many values were read).
 */
import type { FilterNode } from "./filter.ts";
import { binaryString, utf8 } from "../engine/coding.ts";

const BACKSLASH = 0x5c;

export interface Prefilter {
  /** The needles, most selective first (values before member names). */
  readonly needles: readonly Uint8Array[];
  /** False only when `bytes` cannot hold a document matching the filter. */
  mayMatch(bytes: Uint8Array): boolean;
}

/**
 * The prefilter for `filter`, or null when it has no value needle. Member names alone are
 * not worth a search: most documents of a collection have the same members, so the
 * search would rarely refuse one; they are checked after the value needles.
 */
export function derivePrefilter(filter: FilterNode): Prefilter | null {
  const { values, names } = needlesOf(filter);
  if (values.size === 0) return null;
  const needles = [...values.values(), ...[...names.values()].filter((n) => !values.has(binaryString(n)))];
  const compiled = needles.map((bytes) => ({ bytes, anchor: anchorOf(bytes) }));
  return {
    needles,
    mayMatch(bytes) {
      for (let i = 0; i < needles.length; i++) {
        const r = search(bytes, compiled[i]);
        if (r !== FOUND) return r === BACKSLASH_SEEN;
      }
      return true;
    },
  };
}

interface Needles {
  /** Keyed by the bytes as a binary string, for set operations. */
  values: Map<string, Uint8Array>;
  names: Map<string, Uint8Array>;
}

function needlesOf(node: FilterNode): Needles {
  const out: Needles = { values: new Map(), names: new Map() };
  switch (node.kind) {
    case "all":
    case "not":
      return out;
    case "and":
      for (const c of node.children) {
        const n = needlesOf(c);
        for (const [k, v] of n.values) out.values.set(k, v);
        for (const [k, v] of n.names) out.names.set(k, v);
      }
      return out;
    case "or": {
      const [first, ...rest] = node.children.map(needlesOf);
      for (const n of rest) {
        for (const k of first.values.keys()) if (!n.values.has(k)) first.values.delete(k);
        for (const k of first.names.keys()) if (!n.names.has(k)) first.names.delete(k);
      }
      return first;
    }
    case "field": {
      const { op, operand } = node;
      if (op === "$ne" || op === "$nin" || (op === "$exists" && operand === false)) return out;
      // Every member name on the path appears in a match (index segments may be array positions).
      for (const seg of node.path.segments) {
        if (seg.index < 0 && writtenLiterally(seg.name)) add(out.names, `"${seg.name}"`);
      }
      if (op === "$eq" || op === "$contains") {
        if (operand === true || operand === false || operand === null) add(out.values, String(operand));
        else if (typeof operand === "string" && writtenLiterally(operand)) {
          if (op === "$eq") add(out.values, `"${operand}"`);
          else if (operand.length > 0) add(out.values, operand);
        }
      } else if (op === "$prefix" && typeof operand === "string" && operand.length > 0 && writtenLiterally(operand)) {
        add(out.values, `"${operand}`);
      }
      return out;
    }
  }
}

function add(set: Map<string, Uint8Array>, text: string): void {
  const bytes = utf8(text);
  set.set(binaryString(bytes), bytes);
}

/** True when JSON.stringify writes `s` with no escape (no quote, backslash, control or lone surrogate). */
function writtenLiterally(s: string): boolean {
  return s.isWellFormed() && JSON.stringify(s).length === s.length + 2;
}

const NOT_FOUND = 0;
const FOUND = 1;
const BACKSLASH_SEEN = 2;

/** A needle with the position of the byte the search looks for first. */
interface Needle {
  readonly bytes: Uint8Array;
  readonly anchor: number;
}

/**
 * The byte of `needle` least likely to occur in JSON text: candidates are checked only
 * where it occurs, and quotes, which every string starts with, would make the search
 * stop ~20 times per small document. Rank: other bytes (uppercase, non-ASCII, rare
 * punctuation) < lowercase letters < digits < JSON structure and whitespace.
 */
function anchorOf(needle: Uint8Array): number {
  const rank = (b: number) => {
    if (b === 0x22 || b === 0x3a || b === 0x2c || b === 0x20 || b === 0x7b || b === 0x7d || b === 0x5b || b === 0x5d) return 3;
    if (b >= 0x30 && b <= 0x39) return 2;
    if (b >= 0x61 && b <= 0x7a) return 1;
    return 0;
  };
  let best = 0;
  for (let i = 1; i < needle.length; i++) if (rank(needle[i]) < rank(needle[best])) best = i;
  return best;
}

/**
 * One pass over `bytes`: FOUND when `needle` occurs before any backslash, BACKSLASH_SEEN
 * when a backslash comes first, NOT_FOUND otherwise. A plain loop: for documents of a
 * few hundred bytes it is as fast as two native searches (needle, then backslash).
 */
function search(bytes: Uint8Array, needle: Needle): number {
  const n = needle.bytes;
  const anchor = needle.anchor;
  const a = n[anchor];
  const len = n.length;
  const end = bytes.length;
  const lastStart = end - len;
  for (let i = 0; i < end; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) return BACKSLASH_SEEN;
    if (c === a) {
      const s = i - anchor;
      if (s >= 0 && s <= lastStart) {
        let j = 0;
        while (j < len && bytes[s + j] === n[j]) j++;
        if (j === len) return FOUND;
      }
    }
  }
  return NOT_FOUND;
}
