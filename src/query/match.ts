/**
 * @module
 * Compiles a {@link FilterNode} into a predicate over a decoded JSON document, once per
 * query: each condition becomes a closure with its operand, path and type checks bound,
 * so matching a document allocates nothing.
 *
 * Semantics (the README's "Comparison semantics" section says the same):
 * - A path resolves to zero or more values. A name applied to an array is applied to
 *   each element that is an object (one level, like MongoDB); an index segment selects
 *   one element. A missing member resolves to nothing.
 * - `$eq $gt $gte $lt $lte $in $prefix` match when some resolved value satisfies them, or,
 *   when that value is an array, when one of its elements does (`{"tags": "red"}` matches
 *   `{"tags": ["red", "blue"]}`). `$eq`/`$in` with an array or object operand also match
 *   a value deep-equal to it.
 * - Numbers compare with numbers, strings with strings (by code point); booleans and null
 *   only by equality; comparing across types never matches. A missing field matches no
 *   comparison, not even `{"$eq": null}` — use `{"$exists": false}`.
 * - `$ne`, `$nin` and `$not` are exact negations of `$eq`, `$in` and their operand: they
 *   match when no resolved value (nor array element) matches, including a missing field.
 * - `$exists: true` matches when the path resolves to at least one value (null counts).
 * - `$contains`: a string value containing the operand as a substring (operand a string),
 *   or an array value with an element deep-equal to the operand.
 */
import type { JsonObject, JsonValue } from "./types.ts";
import { compareCodePoints, jsonEqual } from "./compare.ts";
import type { FieldCondition, FilterNode } from "./filter.ts";
import type { PathSegment } from "./path.ts";

/** True when the document matches. Documents are JSON objects (never arrays). */
export type Predicate = (doc: JsonObject) => boolean;

type ValueTest = (v: JsonValue) => boolean;

/** Compiles a filter tree into a predicate. */
export function compilePredicate(node: FilterNode): Predicate {
  switch (node.kind) {
    case "all":
      return () => true;
    case "not": {
      const inner = compilePredicate(node.child);
      return (doc) => !inner(doc);
    }
    case "and": {
      const parts = node.children.map(compilePredicate);
      if (parts.length === 2) {
        const [a, b] = parts;
        return (doc) => a(doc) && b(doc);
      }
      return (doc) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i](doc)) return false;
        return true;
      };
    }
    case "or": {
      const parts = node.children.map(compilePredicate);
      return (doc) => {
        for (let i = 0; i < parts.length; i++) if (parts[i](doc)) return true;
        return false;
      };
    }
    case "field":
      return compileCondition(node);
  }
}

function compileCondition(c: FieldCondition): Predicate {
  const segments = c.path.segments;
  switch (c.op) {
    case "$exists": {
      const exists = resolvePath(segments, () => true);
      return c.operand ? exists : (doc) => !exists(doc);
    }
    case "$ne": {
      const eq = resolvePath(segments, equalsTest(c.operand));
      return (doc) => !eq(doc);
    }
    case "$nin": {
      const inList = resolvePath(segments, inTest(c.operand as JsonValue[]));
      return (doc) => !inList(doc);
    }
    default:
      return resolvePath(segments, valueTest(c));
  }
}

/** The test one resolved value must pass, array elements included. */
function valueTest(c: FieldCondition): ValueTest {
  const x = c.operand;
  switch (c.op) {
    case "$eq":
      return equalsTest(x);
    case "$in":
      return inTest(x as JsonValue[]);
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
      return elementsToo(typeof x === "number" ? numberTest(c.op, x) : stringTest(c.op, x as string));
    case "$prefix": {
      const p = x as string;
      return elementsToo((v) => typeof v === "string" && v.startsWith(p));
    }
    case "$contains":
      return containsTest(x);
    default:
      throw new Error(`unreachable: ${c.op}`);
  }
}

function numberTest(op: string, x: number): ValueTest {
  switch (op) {
    case "$gt":
      return (v) => typeof v === "number" && v > x;
    case "$gte":
      return (v) => typeof v === "number" && v >= x;
    case "$lt":
      return (v) => typeof v === "number" && v < x;
    default:
      return (v) => typeof v === "number" && v <= x;
  }
}

function stringTest(op: string, x: string): ValueTest {
  switch (op) {
    case "$gt":
      return (v) => typeof v === "string" && compareCodePoints(v, x) > 0;
    case "$gte":
      return (v) => typeof v === "string" && compareCodePoints(v, x) >= 0;
    case "$lt":
      return (v) => typeof v === "string" && compareCodePoints(v, x) < 0;
    default:
      return (v) => typeof v === "string" && compareCodePoints(v, x) <= 0;
  }
}

/** `test` on the value, or on any element when the value is an array. */
function elementsToo(test: ValueTest): ValueTest {
  return (v) => {
    if (test(v)) return true;
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (test(v[i])) return true;
    return false;
  };
}

/**
 * Equality including array semantics: a scalar operand matches the value or an element
 * (`includes` is `===` here: JSON has no NaN); a compound operand matches a deep-equal
 * value or element.
 */
function equalsTest(x: JsonValue): ValueTest {
  if (x === null || typeof x !== "object") return (v) => v === x || (Array.isArray(v) && v.includes(x));
  return (v) => jsonEqual(v, x) || (Array.isArray(v) && v.some((e) => jsonEqual(e, x)));
}

/** `$in`: scalars through a Set (SameValueZero = `===` for JSON), compounds by deep equality. */
function inTest(list: readonly JsonValue[]): ValueTest {
  const scalars = new Set<JsonValue>();
  const compounds: JsonValue[] = [];
  for (const x of list) {
    if (x !== null && typeof x === "object") compounds.push(x);
    else scalars.add(x);
  }
  const one = (v: JsonValue) => scalars.has(v) || (compounds.length > 0 && v !== null && typeof v === "object" && compounds.some((c) => jsonEqual(v, c)));
  return (v) => {
    if (one(v)) return true;
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (one(v[i])) return true;
    return false;
  };
}

function containsTest(x: JsonValue): ValueTest {
  if (typeof x === "string") {
    return (v) => (typeof v === "string" ? v.includes(x) : Array.isArray(v) && v.includes(x));
  }
  if (x === null || typeof x !== "object") return (v) => Array.isArray(v) && v.includes(x);
  return (v) => Array.isArray(v) && v.some((e) => jsonEqual(e, x));
}

/** Names that a plain object inherits: their lookups must check own properties. */
function inherited(name: string): boolean {
  return name in Object.prototype;
}

/**
 * A predicate that is true when `test` holds for some value the path resolves to.
 * Fast path: one plain name (`{"city": ...}`), a single property read.
 */
function resolvePath(segments: readonly PathSegment[], test: ValueTest): Predicate {
  if (segments.length === 1 && !inherited(segments[0].name)) {
    const name = segments[0].name;
    return (doc) => {
      const v = doc[name];
      return v !== undefined && test(v);
    };
  }
  const n = segments.length;
  const names = segments.map((s) => s.name);
  const indexes = segments.map((s) => s.index);
  const guarded = segments.map((s) => inherited(s.name));
  const member = (o: JsonObject, i: number): JsonValue | undefined => (guarded[i] && !Object.hasOwn(o, names[i]) ? undefined : o[names[i]]);
  const walk = (v: JsonValue, i: number): boolean => {
    if (i === n) return test(v);
    if (v === null || typeof v !== "object") return false;
    if (Array.isArray(v)) {
      const at = indexes[i];
      if (at >= 0) {
        const e = v[at];
        return e !== undefined && walk(e, i + 1);
      }
      // A name on an array applies to each object element (not to nested arrays).
      for (let k = 0; k < v.length; k++) {
        const e = v[k];
        if (e !== null && typeof e === "object" && !Array.isArray(e)) {
          const m = member(e, i);
          if (m !== undefined && walk(m, i + 1)) return true;
        }
      }
      return false;
    }
    const m = member(v, i);
    return m !== undefined && walk(m, i + 1);
  };
  return (doc) => walk(doc, 0);
}
