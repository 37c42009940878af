/**
 * @module
 * Reads only the top-level members a filter needs from a stored value, after checking
 * that the whole value is a UTF-8 JSON object — without building the document.
 *
 * Why: `TextDecoder` + `JSON.parse` builds every string, number and nested object of a
 * document, and costs more per document than everything else a scan does. A filter on
 * `age` needs one member. This reader makes one pass over the bytes that accepts exactly
 * what `codec.ts` accepts (UTF-8 as a fatal TextDecoder checks it, JSON as RFC 8259 and
 * `JSON.parse` define it, the top value an object) and remembers where the wanted
 * top-level members' values are; only those are then decoded. Duplicate member names:
 * the last one counts, as in `JSON.parse`.
 *
 * The result is an object holding the wanted members as own properties (absent ones are
 * `undefined`, which the matcher treats as missing). It is reused by the next call: the
 * executor evaluates the predicate on it at once and decodes the full document (codec)
 * only for a match it returns. Documents nested deeper than {@link MAX_SCAN_DEPTH}
 * are handed to the codec instead.
 */
import type { JsonObject, JsonValue } from "./types.ts";
import { utf8 } from "../engine/coding.ts";
import { decodeDocument } from "./codec.ts";

export const MAX_SCAN_DEPTH = 128;

const OK = 1;
const INVALID = -1;
const TOO_DEEP = -2;

const OBJECT = 1;
const ARRAY = 2;

/** Bytes that continue a string with no special handling: printable ASCII but `"` and `\`. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x22 || c === 0x5c ? 0 : 1;
const SPACE = new Uint8Array(256);
SPACE[0x20] = SPACE[0x09] = SPACE[0x0a] = SPACE[0x0d] = 1;
const DIGIT = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) DIGIT[c] = 1;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// Shared by all readers: a scan runs synchronously from start to end.
const containers = new Uint8Array(MAX_SCAN_DEPTH + 2);

/** Reads the wanted top-level members of one document after another (one per query). */
export class MemberReader {
  private readonly names: readonly string[];
  private readonly nameBytes: readonly Uint8Array[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly members: { [name: string]: JsonValue | undefined };

  /** `names`: the top-level members to read (the first segment of each filter path). */
  constructor(names: Iterable<string>) {
    this.names = [...new Set(names)];
    this.nameBytes = this.names.map(utf8);
    this.starts = new Int32Array(this.names.length);
    this.ends = new Int32Array(this.names.length);
    // Every name an own data property from the start (also "__proto__": fromEntries
    // defines, never sets a prototype), so the object keeps one shape.
    this.members = Object.fromEntries(this.names.map((n) => [n, undefined]));
  }

  /**
   * The wanted members of the document in `bytes` (a reused object), or undefined when
   * the bytes are not a UTF-8 JSON object.
   */
  read(bytes: Uint8Array): JsonObject | undefined {
    this.starts.fill(-1);
    const r = this.scan(bytes);
    if (r === TOO_DEEP) return decodeDocument(bytes);
    if (r !== OK) return undefined;
    const members = this.members;
    for (let k = 0; k < this.names.length; k++) {
      const s = this.starts[k];
      members[this.names[k]] = s < 0 ? undefined : decodeSpan(bytes, s, this.ends[k], sharedStrings);
    }
    return members as JsonObject;
  }

  /** Index of the wanted name equal to the member name at b[start, end) (raw, between quotes), or -1. */
  private wanted(b: Uint8Array, start: number, end: number): number {
    const wanted = this.nameBytes;
    for (let k = 0; k < wanted.length; k++) {
      const w = wanted[k];
      if (w.length !== end - start) continue;
      let j = 0;
      while (j < w.length && b[start + j] === w[j]) j++;
      if (j === w.length) return k;
    }
    // An escaped name ("c\u0069ty") matches by its decoded text.
    if (!lastStringEscaped) return -1;
    const name = JSON.parse(decoder.decode(b.subarray(start - 1, end + 1))) as string;
    return this.names.indexOf(name);
  }

  /**
   * One pass over `b`: OK when it is a UTF-8 JSON object (wanted members' value spans in
   * starts/ends), INVALID when not, TOO_DEEP past MAX_SCAN_DEPTH. A state machine with an
   * explicit container stack; `i` always points at the next unread byte.
   */
  private scan(b: Uint8Array): number {
    const n = b.length;
    const stack = containers;
    const starts = this.starts;
    const ends = this.ends;
    const track = this.nameBytes.length > 0;
    let i = 0;
    while (i < n && SPACE[b[i]] === 1) i++;
    if (b[i] !== 0x7b) return INVALID;
    let depth = 0;
    let member = -1; // the wanted name of the current top-level member, or -1
    let valueStart = 0;
    for (;;) {
      // At the first byte of a value.
      if (depth === 1) valueStart = i;
      const c = b[i];
      if (c === 0x7b || c === 0x5b) {
        if (depth === MAX_SCAN_DEPTH) return TOO_DEEP;
        const isObject = c === 0x7b;
        stack[++depth] = isObject ? OBJECT : ARRAY;
        i++;
        while (i < n && SPACE[b[i]] === 1) i++;
        if (b[i] !== (isObject ? 0x7d : 0x5d)) {
          if (isObject) {
            // First member: name, colon, then its value. (The same steps follow a comma
            // below; a shared method measured 20% slower per document, so they stay inline.)
            if (b[i] !== 0x22) return INVALID;
            const nameStart = i + 1;
            i = scanString(b, i, n);
            if (i < 0) return INVALID;
            if (depth === 1 && track) member = this.wanted(b, nameStart, i - 1);
            while (i < n && SPACE[b[i]] === 1) i++;
            if (b[i] !== 0x3a) return INVALID;
            i++;
            while (i < n && SPACE[b[i]] === 1) i++;
          }
          continue;
        }
        i++; // an empty container
        depth--;
      } else if (c === 0x22) {
        i = scanString(b, i, n);
        if (i < 0) return INVALID;
      } else if (c === 0x74) {
        if (b[i + 1] !== 0x72 || b[i + 2] !== 0x75 || b[i + 3] !== 0x65) return INVALID;
        i += 4;
      } else if (c === 0x66) {
        if (b[i + 1] !== 0x61 || b[i + 2] !== 0x6c || b[i + 3] !== 0x73 || b[i + 4] !== 0x65) return INVALID;
        i += 5;
      } else if (c === 0x6e) {
        if (b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return INVALID;
        i += 4;
      } else {
        i = scanNumber(b, i, n);
        if (i < 0) return INVALID;
      }
      // After a complete value: record a wanted member, then a separator or closers.
      for (;;) {
        if (depth === 0) {
          while (i < n && SPACE[b[i]] === 1) i++;
          return i === n ? OK : INVALID;
        }
        if (depth === 1 && member >= 0) {
          starts[member] = valueStart;
          ends[member] = i;
          member = -1;
        }
        while (i < n && SPACE[b[i]] === 1) i++;
        const d = b[i];
        const inObject = stack[depth] === OBJECT;
        if (d === 0x2c) {
          i++;
          while (i < n && SPACE[b[i]] === 1) i++;
          if (inObject) {
            if (b[i] !== 0x22) return INVALID;
            const nameStart = i + 1;
            i = scanString(b, i, n);
            if (i < 0) return INVALID;
            if (depth === 1 && track) member = this.wanted(b, nameStart, i - 1);
            while (i < n && SPACE[b[i]] === 1) i++;
            if (b[i] !== 0x3a) return INVALID;
            i++;
            while (i < n && SPACE[b[i]] === 1) i++;
          }
          break;
        }
        if (d !== (inObject ? 0x7d : 0x5d)) return INVALID;
        i++;
        depth--;
      }
    }
  }
}

/** Whether the string {@link scanString} scanned last contains an escape. */
let lastStringEscaped = false;

/** End (after the closing quote) of the string whose opening quote is b[i], or -1. */
function scanString(b: Uint8Array, i: number, n: number): number {
  lastStringEscaped = false;
  i++;
  for (;;) {
    while (i < n && PLAIN[b[i]] === 1) i++;
    if (i >= n) return INVALID;
    const c = b[i];
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      lastStringEscaped = true;
      const e = b[i + 1];
      if (e === 0x75) {
        if (i + 6 > n) return INVALID;
        for (let k = i + 2; k < i + 6; k++) {
          const h = b[k] | 0x20;
          if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66))) return INVALID;
        }
        i += 6;
      } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        i += 2;
      } else return INVALID;
    } else if (c < 0x80) {
      return INVALID; // a control character
    } else {
      i = scanUtf8(b, i, c);
      if (i < 0) return INVALID;
    }
  }
}

/**
 * End of the multi-byte UTF-8 sequence starting with lead byte `c` at b[i], or -1.
 * Refuses what a fatal TextDecoder refuses: overlong forms, surrogates, > U+10FFFF.
 */
function scanUtf8(b: Uint8Array, i: number, c: number): number {
  const c1 = b[i + 1];
  if (c >= 0xc2 && c <= 0xdf) return c1 >= 0x80 && c1 <= 0xbf ? i + 2 : INVALID;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    if (!(c1 >= lo && c1 <= hi)) return INVALID;
    const c2 = b[i + 2];
    return c2 >= 0x80 && c2 <= 0xbf ? i + 3 : INVALID;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    if (!(c1 >= lo && c1 <= hi)) return INVALID;
    const c2 = b[i + 2];
    const c3 = b[i + 3];
    return c2 >= 0x80 && c2 <= 0xbf && c3 >= 0x80 && c3 <= 0xbf ? i + 4 : INVALID;
  }
  return INVALID;
}

/** End of the JSON number starting at b[i], or -1: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function scanNumber(b: Uint8Array, i: number, n: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) {
    i++;
    while (i < n && DIGIT[b[i]] === 1) i++;
  } else return INVALID;
  if (b[i] === 0x2e) {
    i++;
    if (!(i < n && DIGIT[b[i]] === 1)) return INVALID;
    while (i < n && DIGIT[b[i]] === 1) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!(i < n && DIGIT[b[i]] === 1)) return INVALID;
    while (i < n && DIGIT[b[i]] === 1) i++;
  }
  return i;
}

/** Longest string kept in the {@link StringCache}, in bytes. */
const CACHED_STRING_BYTES = 48;
const CACHE_SLOTS = 1024;

/**
 * Recently decoded plain ASCII strings, keyed by their bytes (direct-mapped, by hash).
 * Making a JavaScript string from bytes costs ~100 ns; filters mostly read categorical
 * members (a city, a status) whose few values repeat, and a hit costs a hash and a
 * compare of a few bytes.
 */
class StringCache {
  private readonly bytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
  private readonly strings: string[] = new Array(CACHE_SLOTS);

  /** The text of the plain ASCII bytes b[start, end). */
  get(b: Uint8Array, start: number, end: number): string {
    const len = end - start;
    if (len > CACHED_STRING_BYTES) return ascii(b, start, end);
    let h = 0x811c9dc5;
    for (let j = start; j < end; j++) h = Math.imul(h ^ b[j], 0x01000193);
    const slot = (h ^ (h >>> 16)) & (CACHE_SLOTS - 1);
    const cached = this.bytes[slot];
    if (cached !== undefined && cached.length === len) {
      let j = 0;
      while (j < len && cached[j] === b[start + j]) j++;
      if (j === len) return this.strings[slot];
    }
    const s = ascii(b, start, end);
    this.bytes[slot] = b.slice(start, end);
    this.strings[slot] = s;
    return s;
  }
}

/**
 * One cache for every reader: its entries are immutable strings keyed by their bytes,
 * and a reader per query (or per index) would otherwise allocate and fill its own.
 */
const sharedStrings = new StringCache();

/** The value of the (valid) JSON text b[start, end). */
function decodeSpan(b: Uint8Array, start: number, end: number, strings: StringCache): JsonValue {
  const c = b[start];
  if (c === 0x74) return true;
  if (c === 0x66) return false;
  if (c === 0x6e) return null;
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return decodeNumber(b, start, end);
  if (c === 0x22) {
    let plain = true;
    for (let j = start + 1; j < end - 1; j++) {
      if (PLAIN[b[j]] !== 1) {
        plain = false;
        break;
      }
    }
    if (plain) return strings.get(b, start + 1, end - 1);
  }
  return JSON.parse(decoder.decode(b.subarray(start, end))) as JsonValue;
}

/** A JSON number: small integers by arithmetic (exact below 2^53), others by Number(). */
function decodeNumber(b: Uint8Array, start: number, end: number): number {
  const negative = b[start] === 0x2d;
  const first = negative ? start + 1 : start;
  if (end - first <= 15) {
    let v = 0;
    let j = first;
    for (; j < end; j++) {
      const d = b[j] - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (j === end) return negative ? -v : v;
  }
  return Number(ascii(b, start, end));
}

function ascii(b: Uint8Array, start: number, end: number): string {
  if (end - start > 32) return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1");
  let s = "";
  for (let j = start; j < end; j++) s += String.fromCharCode(b[j]);
  return s;
}
