/**
 * @module
 * Sorting by one field: `sort: {"age": 1}` (ascending) or `{"age": -1}` (descending).
 *
 * A document's **sort value** is taken from the values its field path resolves to, with
 * the filter language's path rules (`match.ts`: a name applied to an array applies to
 * its object elements), each array value contributing its scalar elements (one level):
 * the smallest of them ascending, the largest descending (MongoDB's rule). Objects and
 * nested arrays are ignored; a document with no scalar there (field missing, an object,
 * an empty array) has **no sort value**.
 *
 * Values order as the index value encoding orders them (`src/indexing/value_codec.ts`):
 * null < false < true < numbers < strings, numbers by value, strings by code point (a
 * lone surrogate as U+FFFD). The sort value is kept in that encoding, so positions
 * compare as bytes — exactly the order of a range index's entries.
 *
 * The total order of a sorted result:
 * - documents with a sort value first, by value in the requested direction; equal values
 *   by key in the same direction (ascending: key ascending; descending: key descending —
 *   descending is the exact reverse of ascending);
 * - then the documents without a sort value, in both directions, by key ascending.
 *
 * Keys compare as UTF-8 bytes. A page ends at a {@link SortPosition}; the next page
 * starts strictly after it.
 */
import { compareBytes } from "../engine/coding.ts";
import { compareIndexValues, encodeIndexValue } from "../indexing/value_codec.ts";
import type { FieldPath, PathSegment } from "./path.ts";
import type { JsonObject, JsonValue } from "./types.ts";

export type SortDirection = 1 | -1;

export interface SortSpec {
  readonly path: FieldPath;
  readonly direction: SortDirection;
}

/** A place in the sorted order: a sort value (encoded; null = none) and a key (UTF-8). */
export interface SortPosition {
  readonly value: Uint8Array | null;
  readonly key: Uint8Array;
}

type Scalar = null | boolean | number | string;

/** Names a plain object inherits: reading them must check own properties (as match.ts does). */
function inherited(name: string): boolean {
  return name in Object.prototype;
}

/**
 * Compiles `spec` into a function from a document (or the member reader's partial
 * document holding the path's first member) to its encoded sort value, or null.
 */
export function compileSortValue(spec: SortSpec): (doc: JsonObject) => Uint8Array | null {
  const segments = spec.path.segments;
  const desc = spec.direction === -1;
  if (segments.length === 1 && segments[0].index < 0 && !inherited(segments[0].name)) {
    const name = segments[0].name;
    return (doc) => {
      const v = doc[name];
      return v === undefined ? null : encodeExtreme(v, desc);
    };
  }
  return (doc) => {
    const best: { v: Scalar | undefined } = { v: undefined };
    walk(doc, segments, 0, desc, best);
    return best.v === undefined ? null : encodeIndexValue(best.v);
  };
}

/** The encoded extreme scalar of a resolved value (itself, or its scalar elements). */
function encodeExtreme(v: JsonValue, desc: boolean): Uint8Array | null {
  if (!Array.isArray(v)) return isScalar(v) ? encodeIndexValue(v) : null;
  const best: { v: Scalar | undefined } = { v: undefined };
  for (let i = 0; i < v.length; i++) offer(v[i], desc, best);
  return best.v === undefined ? null : encodeIndexValue(best.v);
}

function isScalar(v: JsonValue): v is Scalar {
  return v === null || typeof v !== "object";
}

function offer(v: JsonValue, desc: boolean, best: { v: Scalar | undefined }): void {
  if (!isScalar(v)) return;
  if (best.v === undefined) {
    best.v = v;
    return;
  }
  const c = compareIndexValues(v, best.v);
  if (desc ? c > 0 : c < 0) best.v = v;
}

/** Resolves `segments` from `v` as match.ts does, offering every resolved scalar. */
function walk(v: JsonValue, segments: readonly PathSegment[], i: number, desc: boolean, best: { v: Scalar | undefined }): void {
  if (i === segments.length) {
    if (Array.isArray(v)) for (let k = 0; k < v.length; k++) offer(v[k], desc, best);
    else offer(v, desc, best);
    return;
  }
  if (v === null || typeof v !== "object") return;
  const seg = segments[i];
  if (Array.isArray(v)) {
    if (seg.index >= 0) {
      const e = v[seg.index];
      if (e !== undefined) walk(e, segments, i + 1, desc, best);
      return;
    }
    for (let k = 0; k < v.length; k++) {
      const e = v[k];
      if (e !== null && typeof e === "object" && !Array.isArray(e)) {
        const m = member(e, seg.name);
        if (m !== undefined) walk(m, segments, i + 1, desc, best);
      }
    }
    return;
  }
  const m = member(v, seg.name);
  if (m !== undefined) walk(m, segments, i + 1, desc, best);
}

function member(o: JsonObject, name: string): JsonValue | undefined {
  return inherited(name) && !Object.hasOwn(o, name) ? undefined : o[name];
}

/**
 * Negative when the document at (`aValue`, `aKey`) comes before the one at (`bValue`,
 * `bKey`) in the sorted order of `direction`, zero when they are the same position.
 */
export function compareSortPositions(aValue: Uint8Array | null, aKey: Uint8Array, bValue: Uint8Array | null, bKey: Uint8Array, direction: SortDirection): number {
  if (aValue === null || bValue === null) {
    if (aValue !== bValue) return aValue === null ? 1 : -1;
    return compareBytes(aKey, bKey);
  }
  const c = compareBytes(aValue, bValue) || compareBytes(aKey, bKey);
  return direction === 1 ? c : -c;
}

/** The sort spec as JSON, e.g. `{"$.age": -1}` (explain, fingerprints). */
export function sortToJson(spec: SortSpec): { [path: string]: SortDirection } {
  return { [spec.path.canonical]: spec.direction };
}
