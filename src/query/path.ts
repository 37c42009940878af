/**
 * @module
 * Field paths of the filter language, parsed once per query into a list of segments that
 * the matcher walks directly. Two spellings, one meaning:
 *
 *   dotted     address.city   tags.0          every "."-separated part is a name
 *   JSONPath   $.address.city $.tags[0]  $['a.b']  $["x y"]
 *
 * A segment whose name is a canonical array index ("0", "17", at most 9 digits) selects
 * that element of an array, or the member of that name of an object — as jsonpath-plus
 * does, so `$.tags[0]` means the same here and in an index extractor. Any other name
 * applied to an array is applied to each of its elements (see `match.ts`).
 *
 * Only this subset of JSONPath names one field; wildcards (`*`), recursive descent
 * (`..`), slices and filter expressions are refused. Why a walker and not jsonpath-plus:
 * evaluating a path is on the per-document hot path, and a pre-split segment list costs a
 * few property reads where a general JSONPath evaluation allocates result arrays.
 */
import { invalidQuery } from "./invalid.ts";

export interface PathSegment {
  /** Member name (for an index segment, its digits). */
  readonly name: string;
  /** Array position when `name` is a canonical array index, else -1. */
  readonly index: number;
}

export interface FieldPath {
  readonly segments: readonly PathSegment[];
  /** Canonical JSONPath spelling, e.g. `$.address.city`, `$.tags[0]`, `$['a.b']`. */
  readonly canonical: string;
}

export const MAX_PATH_SEGMENTS = 64;

const INDEX = /^(0|[1-9][0-9]{0,8})$/;
const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function segment(name: string): PathSegment {
  return { name, index: INDEX.test(name) ? Number(name) : -1 };
}

/** True when `key` (a filter object key) is a JSONPath rather than an operator. */
export function isJsonPathKey(key: string): boolean {
  return key === "$" || key.startsWith("$.") || key.startsWith("$[");
}

/**
 * Parses a dotted or JSONPath field path. Errors are INVALID_ARGUMENT located at `at`,
 * e.g. `filter["a..b"]: bad field path "a..b": empty name at character 2`.
 */
export function parseFieldPath(text: string, at: string): FieldPath {
  const fail = (why: string) => invalidQuery(at, `bad field path ${JSON.stringify(text)}: ${why}`);
  if (text.length === 0) throw fail("a path must name a field");
  const segments = text.startsWith("$") ? parseJsonPath(text, fail) : parseDotted(text, fail);
  if (segments.length > MAX_PATH_SEGMENTS) throw fail(`more than ${MAX_PATH_SEGMENTS} segments`);
  return { segments, canonical: formatPath(segments) };
}

function parseDotted(text: string, fail: (why: string) => Error): PathSegment[] {
  const parts = text.split(".");
  let offset = 0;
  for (const p of parts) {
    if (p.length === 0) throw fail(`empty name at character ${offset}`);
    offset += p.length + 1;
  }
  return parts.map(segment);
}

function parseJsonPath(text: string, fail: (why: string) => Error): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 1; // after "$"
  while (i < text.length) {
    const c = text[i];
    if (c === ".") {
      if (text[i + 1] === ".") throw fail(`recursive descent ("..") is not supported`);
      let j = i + 1;
      while (j < text.length && text[j] !== "." && text[j] !== "[") j++;
      const name = text.slice(i + 1, j);
      if (name.length === 0) throw fail(`empty name at character ${i + 1}`);
      if (name === "*") throw fail(`wildcards ("*") are not supported`);
      out.push(segment(name));
      i = j;
    } else if (c === "[") {
      i = parseBracket(text, i, out, fail);
    } else {
      throw fail(`expected "." or "[" at character ${i}`);
    }
  }
  if (out.length === 0) throw fail(`a path must name a field, e.g. "$.city"`);
  return out;
}

/** Parses `[...]` starting at `text[i] === "["`; returns the index after `]`. */
function parseBracket(text: string, i: number, out: PathSegment[], fail: (why: string) => Error): number {
  const q = text[i + 1];
  if (q === "'" || q === '"') {
    let name = "";
    let j = i + 2;
    for (;;) {
      if (j >= text.length) throw fail(`unterminated quoted name starting at character ${i + 1}`);
      const ch = text[j];
      if (ch === "\\") {
        if (j + 1 >= text.length) throw fail(`unterminated quoted name starting at character ${i + 1}`);
        name += text[j + 1];
        j += 2;
      } else if (ch === q) {
        break;
      } else {
        name += ch;
        j++;
      }
    }
    if (text[j + 1] !== "]") throw fail(`expected "]" at character ${j + 1}`);
    out.push(segment(name));
    return j + 2;
  }
  const close = text.indexOf("]", i);
  const inner = close < 0 ? text.slice(i + 1) : text.slice(i + 1, close);
  if (inner === "*") throw fail(`wildcards ("*") are not supported`);
  if (inner.startsWith("?") || inner.startsWith("(")) throw fail(`filter and script expressions are not supported`);
  if (inner.includes(":") || inner.includes(",")) throw fail(`slices and unions are not supported`);
  if (close < 0) throw fail(`missing "]" for "[" at character ${i}`);
  if (!/^[0-9]+$/.test(inner)) throw fail(`expected an array index or a quoted name in "[...]" at character ${i}`);
  if (!INDEX.test(inner)) throw fail(`bad array index "${inner}" (no leading zeros, at most 9 digits)`);
  out.push(segment(inner));
  return close + 1;
}

/** The canonical JSONPath spelling of a segment list. */
export function formatPath(segments: readonly PathSegment[]): string {
  let s = "$";
  for (const seg of segments) {
    if (seg.index >= 0) s += `[${seg.index}]`;
    else if (SIMPLE_NAME.test(seg.name)) s += `.${seg.name}`;
    else s += `['${seg.name.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}']`;
  }
  return s;
}
