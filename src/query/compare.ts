/**
 * @module
 * The comparison semantics of the filter language, in one place so the matcher, the
 * tests and (later) the range-index encodings agree:
 *
 * - strings order by Unicode code point, which is also the byte order of their UTF-8
 *   (the order of keys and of index entries). JavaScript's `<` compares UTF-16 code
 *   units instead and puts U+E000..U+FFFF after every supplementary character;
 *   {@link compareCodePoints} corrects exactly that case.
 * - equality of arrays and objects is deep: arrays equal when they have equal elements
 *   in the same order, objects when they have the same set of keys with equal values
 *   (key order does not matter). Numbers compare by value (`-0` equals `0`).
 */
import type { JsonValue } from "./types.ts";

/** Negative, zero or positive as `a` sorts before, equal to or after `b` by code point. */
export function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Both ≥ 0xD800: a surrogate (part of a code point ≥ U+10000) must sort after
      // U+E000..U+FFFF. Shift surrogates up and U+E000..U+FFFF down to restore that.
      if (x >= 0xd800 && y >= 0xd800) return surrogateLast(x) - surrogateLast(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function surrogateLast(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Deep equality of two JSON values (see the module comment). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const arrayA = Array.isArray(a);
  if (arrayA !== Array.isArray(b)) return false;
  if (arrayA) {
    const x = a as JsonValue[];
    const y = b as JsonValue[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as { [k: string]: JsonValue };
  const y = b as { [k: string]: JsonValue };
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) {
    if (!Object.hasOwn(y, k) || !jsonEqual(x[k], y[k])) return false;
  }
  return true;
}
