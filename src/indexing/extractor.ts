/**
 * @module
 * Extractors: how an index derives the values it indexes from a record, without the
 * record changing shape. An extractor runs on every write to an indexed scope and on
 * every record a rebuild scans, so it never throws on bad data — a value that is not
 * UTF-8, not JSON or lacks the field simply yields no index values.
 *
 * `json_path`: the value is parsed as JSON and the path evaluated with jsonpath-plus
 * semantics. Each result that is an array contributes its elements (one level), so
 * `$.tags` on `["a","b"]` indexes "a" and "b"; only scalars are kept (objects and nested
 * arrays are skipped), `-0` becomes `0`, and duplicates collapse to one entry in
 * first-seen order. Paths made only of member names (`$.a.b`, `$['a b']`, `$.tags[0]`)
 * are evaluated by a direct property walk that follows jsonpath-plus's rule for a name
 * (an own property of an object, array or string: `$.tags.length` is an array's length
 * and `$.name[0]` a string's first character, as in jsonpath-plus); every other path
 * (wildcards, filters, recursive descent, slices, unions) goes through jsonpath-plus.
 * One difference: the bare path `$` indexes the whole value even when it is `0`, `false`,
 * `""` or `null`, which jsonpath-plus would skip.
 *
 * `regex`: the first capture group of the first match, over the key or over the value
 * decoded as UTF-8. The `g` and `y` flags are dropped so that a shared RegExp's
 * `lastIndex` can never change a result.
 *
 * Compiling validates the spec (the path's syntax, the regex, its capture group) and
 * throws INVALID_ARGUMENT describing the problem; `definition.ts` adds which index.
 */
import { JSONPath } from "jsonpath-plus";
import { fromUtf8 } from "../engine/coding.ts";
import { KvdbError } from "../engine/errors.ts";
// The query codec's definition of JSON (UTF-8, no byte-order mark), so a value the index
// holds is one the query matcher can read.
import { parseJsonBytes, startsObject } from "../query/codec.ts";
import { MemberReader } from "../query/member_reader.ts";
import type { ExtractorSpec } from "./definition.ts";

/** A value an index can hold: a JSON scalar. */
export type IndexValue = null | boolean | number | string;

/**
 * Derives the indexed values of one record (its key's UTF-8 bytes and its value);
 * never throws. The key stays bytes because only a regex over the key reads it.
 */
export type Extractor = (key: Uint8Array, value: Uint8Array) => IndexValue[];

/** Compiles a spec; throws INVALID_ARGUMENT for a bad path or regex. */
export function compileExtractor(spec: ExtractorSpec): Extractor {
  switch (spec.kind) {
    case "json_path":
      return compileJsonPath(spec.path);
    case "regex":
      return compileRegex(spec.pattern, spec.target, spec.flags ?? "");
    default:
      throw new KvdbError("INVALID_ARGUMENT", `unknown extractor kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

/**
 * The member names of a `json_path` spec made only of names (`$.address.city` →
 * `["address","city"]`, `$.tags[0]` → `["tags","0"]`, `$` → `[]`), so the query planner
 * can match a filter field to the index; `undefined` for any other path and for regex
 * extractors.
 */
export function simpleFieldPath(spec: ExtractorSpec): string[] | undefined {
  if (spec.kind !== "json_path") return undefined;
  const segments = parseJsonPathOrUndefined(spec.path);
  return segments && segments.every(isPlainName) ? segments.slice() : undefined;
}

// ---------------------------------------------------------------------------
// json_path

function compileJsonPath(path: string): Extractor {
  const segments = parseJsonPath(path);
  if (segments.every(isPlainName)) return walkExtractor(segments);
  probe(path, segments);
  return (_key, value) => {
    const doc = parseJsonBytes(value);
    if (doc === undefined) return [];
    let results: unknown;
    try {
      results = JSONPath({ path, json: doc as never, wrap: true, eval: "safe", ignoreEvalErrors: true });
    } catch {
      return []; // a filter that throws on this document: it yields nothing
    }
    const out = new ValueSet();
    if (Array.isArray(results)) for (const r of results) out.addResult(r);
    return out.values;
  };
}

/**
 * The fast path: a few own-property reads per record. When the value is a JSON object
 * (its first byte after white space is `{`), the first member is read with the query
 * layer's member reader — one pass over the bytes that accepts exactly what `JSON.parse`
 * accepts, decoding only that member (about 3× cheaper than parsing the document).
 * Other values (arrays, strings, …) are parsed whole.
 */
function walkExtractor(segments: readonly string[]): Extractor {
  const n = segments.length;
  const reader = n > 0 ? new MemberReader([segments[0]]) : undefined;
  return (_key, value) => {
    let cur: unknown;
    let i = 0;
    if (reader !== undefined && startsObject(value)) {
      const doc = reader.read(value);
      if (doc === undefined) return [];
      cur = doc[segments[0]];
      // The reader leaves an absent member undefined; JSON never yields undefined.
      if (cur === undefined) return [];
      i = 1;
    } else {
      cur = parseJsonBytes(value);
      if (cur === undefined) return [];
    }
    for (; i < n; i++) {
      // jsonpath-plus's rule for a name: `val && Object.hasOwn(val, name)`.
      if (!cur || !Object.hasOwn(cur as object, segments[i])) return [];
      cur = (cur as Record<string, unknown>)[segments[i]];
    }
    return valuesOf(cur);
  };
}

function valuesOf(result: unknown): IndexValue[] {
  if (!Array.isArray(result)) {
    const v = scalar(result);
    return v === undefined ? [] : [v];
  }
  const out = new ValueSet();
  out.addResult(result);
  return out.values;
}

/** The value as an index value, or undefined for objects, arrays and NaN. */
function scalar(v: unknown): IndexValue | undefined {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      // JSON.parse never yields NaN, but "1e400" parses to Infinity, which is indexed:
      // a range query for `>= 30` must find it, as the scan does.
      return Number.isNaN(v) ? undefined : v === 0 ? 0 : v;
    case "object":
      return v === null ? null : undefined;
    default:
      return undefined;
  }
}

/** Distinct index values in first-seen order. */
class ValueSet {
  readonly values: IndexValue[] = [];
  private seen: Set<IndexValue> | undefined;

  /** Adds a path result: a scalar, or each scalar element of an array. */
  addResult(r: unknown): void {
    if (Array.isArray(r)) {
      for (let i = 0; i < r.length; i++) this.add(scalar(r[i]));
    } else {
      this.add(scalar(r));
    }
  }

  private add(v: IndexValue | undefined): void {
    if (v === undefined) return;
    // Short lists: a linear scan beats hashing; long arrays switch to a Set.
    if (this.seen === undefined) {
      if (this.values.includes(v)) return;
      this.values.push(v);
      if (this.values.length > 16) this.seen = new Set(this.values);
      return;
    }
    if (this.seen.has(v)) return;
    this.seen.add(v);
    this.values.push(v);
  }
}

const SLICE = /^(-?\d*):(-?\d*):?(\d*)$/;
const SPECIAL_SEGMENTS = new Set(["*", "..", "^", "~", "$"]);

/**
 * True when jsonpath-plus follows `seg` as a plain member name: the dispatch in its
 * `_trace` gives every other form (wildcard, descent, parent, property-name, root,
 * slice, filter, script, type selector, backtick literal, union) a meaning of its own.
 */
function isPlainName(seg: string): boolean {
  if (SPECIAL_SEGMENTS.has(seg) || SLICE.test(seg) || seg.includes(",")) return false;
  const c = seg[0];
  return !(c === "?" && seg[1] === "(") && c !== "(" && c !== "@" && c !== "`";
}

const TYPE_SELECTOR = /^@(?:null|boolean|number|string|integer|undefined|nonFinite|scalar|array|object|function|other)\(\)/;

function badPath(path: string, why: string): KvdbError {
  return new KvdbError("INVALID_ARGUMENT", `bad JSONPath ${JSON.stringify(path)}: ${why}`);
}

function parseJsonPathOrUndefined(path: string): string[] | undefined {
  try {
    return parseJsonPath(path);
  } catch {
    return undefined;
  }
}

/**
 * Splits a path into segments (after the leading `$`), refusing what jsonpath-plus would
 * silently accept or misread: its tokenizer never fails (`$['a` reads as `$.a`, `$.a;b`
 * as `$.a.b`), so the path is tokenized strictly here and must agree with
 * `JSONPath.toPathArray`, which is what the evaluation uses.
 */
function parseJsonPath(path: string): string[] {
  if (typeof path !== "string" || path.length === 0) throw badPath(String(path), "the path is empty");
  if (path[0] !== "$") throw badPath(path, `a path starts with "$", e.g. "$.city"`);
  const segs = tokenize(path);
  const theirs = JSONPath.toPathArray(path);
  if (theirs.length !== segs.length + 1 || theirs[0] !== "$" || segs.some((s, i) => s !== theirs[i + 1])) {
    throw badPath(path, `jsonpath-plus would read it as ${JSON.stringify(theirs)}, not ${JSON.stringify(["$", ...segs])} (its parser splits names on characters such as ";" and "#")`);
  }
  return segs;
}

function tokenize(path: string): string[] {
  const segs: string[] = [];
  const n = path.length;
  let i = 1;
  while (i < n) {
    const c = path[i];
    if (c === ".") {
      if (path[i + 1] === ".") {
        segs.push("..");
        i += 2;
        if (i >= n || path[i] === ".") throw badPath(path, `".." must be followed by a name, "*" or "[...]" (character ${i})`);
        if (path[i] === "[") continue;
      } else {
        i += 1;
        if (i >= n) throw badPath(path, `the path ends with "."`);
        if (path[i] === "[") throw badPath(path, `"." followed by "[" at character ${i}; write $.a['b'] or $['a']['b']`);
      }
      const end = nameEnd(path, i);
      if (end === i) throw badPath(path, `expected a name at character ${i}`);
      segs.push(path.slice(i, end));
      i = end;
    } else if (c === "[") {
      i = bracket(path, i, segs);
    } else if (c === "~" || c === "^") {
      segs.push(c);
      i++;
    } else if (c === "@" && TYPE_SELECTOR.test(path.slice(i))) {
      const m = TYPE_SELECTOR.exec(path.slice(i))!;
      segs.push(m[0]);
      i += m[0].length;
    } else {
      throw badPath(path, `unexpected ${JSON.stringify(c)} at character ${i}`);
    }
  }
  return segs;
}

/** End of a dotted name: before the next ".", "[", "]", quote, "~", "^" or type selector. */
function nameEnd(path: string, i: number): number {
  let j = i;
  while (j < path.length) {
    const c = path[j];
    if (c === "." || c === "[" || c === "]" || c === "'" || c === '"' || c === "~" || c === "^") break;
    if (c === "@" && j > i && TYPE_SELECTOR.test(path.slice(j))) break;
    j++;
  }
  return j;
}

/** Parses `[...]` at `path[i] === "["`, pushes its segment, returns the index after `]`. */
function bracket(path: string, i: number, segs: string[]): number {
  const q = path[i + 1];
  if (q === "'" || q === '"') {
    const close = path.indexOf(q, i + 2);
    if (close < 0) throw badPath(path, `unterminated quoted name starting at character ${i + 1}`);
    if (path[close + 1] !== "]") throw badPath(path, `expected "]" at character ${close + 1}`);
    const name = path.slice(i + 2, close);
    if (/['"[\]]/.test(name)) throw badPath(path, `a quoted name cannot contain quotes or brackets (character ${i + 2})`);
    segs.push(name);
    return close + 2;
  }
  if (q === "(" || (q === "?" && path[i + 2] === "(")) {
    const close = scriptEnd(path, q === "?" ? i + 2 : i + 1);
    if (path[close + 1] !== "]") throw badPath(path, `expected "]" after the expression at character ${close + 1}`);
    segs.push(path.slice(i + 1, close + 1));
    return close + 2;
  }
  const close = path.indexOf("]", i);
  if (close < 0) throw badPath(path, `missing "]" for "[" at character ${i}`);
  const inner = path.slice(i + 1, close);
  if (inner.length === 0) throw badPath(path, `empty "[]" at character ${i}`);
  if (/['"[]/.test(inner)) throw badPath(path, `unexpected quote or "[" inside "[...]" at character ${i}`);
  segs.push(inner);
  return close + 1;
}

/** Index of the ")" closing the "(" at `open`, skipping quoted strings. */
function scriptEnd(path: string, open: number): number {
  let depth = 0;
  for (let j = open; j < path.length; j++) {
    const c = path[j];
    if (c === "'" || c === '"') {
      const close = path.indexOf(c, j + 1);
      if (close < 0) break;
      j = close;
    } else if (c === "(") {
      depth++;
    } else if (c === ")" && --depth === 0) {
      return j;
    }
  }
  throw badPath(path, `unbalanced "(" at character ${open}`);
}

/**
 * Evaluates the path once on a document built to reach every segment, so a filter or
 * script with a syntax error (or an `@other()` selector, which needs a callback) is
 * refused when the definition is loaded rather than silently matching nothing.
 */
function probe(path: string, segments: readonly string[]): void {
  let doc: unknown = 1;
  for (let k = segments.length - 1; k >= 0; k--) {
    const s = segments[k];
    if (isPlainName(s)) doc = { [s]: doc };
    else if (s[0] === "`") doc = { [s.slice(1)]: doc };
    else if (s === "*" || s[0] === "?" || s[0] === "(" || SLICE.test(s)) doc = [doc, doc];
    else if (s.includes(",")) doc = Object.fromEntries(s.split(",").map((p) => [p, doc]));
    // "..", "~", "^" and type selectors apply to the value itself.
  }
  try {
    JSONPath({ path, json: doc as never, wrap: true, eval: "safe", ignoreEvalErrors: true });
  } catch (e) {
    // Only a path's own mistakes: an expression's syntax (jsep errors carry
    // `description`) or a selector jsonpath-plus cannot run. Other throws come from the
    // synthetic document (e.g. a dynamic `[(...)]` naming a member it lacks).
    const message = e instanceof Error ? e.message : String(e);
    if ((e as { description?: unknown }).description !== undefined) throw badPath(path, `in an expression: ${message}`);
    if (/otherTypeCallback|Unknown value type/.test(message)) throw badPath(path, message);
  }
}

// ---------------------------------------------------------------------------
// regex

function compileRegex(pattern: string, target: "key" | "value", flags: string): Extractor {
  const re = compileRegExp(pattern, flags);
  if (target === "key") {
    return (key) => firstGroup(re, fromUtf8(key));
  }
  return (_key, value) => {
    let text: string;
    try {
      text = fromUtf8(value);
    } catch {
      return [];
    }
    return firstGroup(re, text);
  };
}

function firstGroup(re: RegExp, s: string): IndexValue[] {
  const m = re.exec(s);
  const g = m?.[1];
  return g === undefined ? [] : [g];
}

/** The flags an extractor actually uses: `g` and `y` dropped (only the first match counts). */
export function effectiveRegexFlags(flags: string): string {
  return [...new Set(flags.replace(/[gy]/g, ""))].sort().join("");
}

/** Compiles the pattern, requiring at least one capture group; throws INVALID_ARGUMENT. */
function compileRegExp(pattern: string, flags: string): RegExp {
  const shown = `/${pattern}/${flags}`;
  let re: RegExp;
  try {
    new RegExp(pattern, flags); // the flags as written, so "gg" or "x" are reported
    re = new RegExp(pattern, effectiveRegexFlags(flags));
  } catch (e) {
    throw new KvdbError("INVALID_ARGUMENT", `bad regex ${shown}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // An alternative that matches "" makes exec return one slot per capture group.
  const groups = new RegExp(`(?:${pattern})|`, re.flags).exec("")!.length - 1;
  if (groups === 0) {
    throw new KvdbError("INVALID_ARGUMENT", `bad regex ${shown}: it has no capture group; the first group "(...)" is the indexed value`);
  }
  return re;
}
