/**
 * @module
 * Checks that a filter operand is plain JSON. Requests from the REST server are parsed
 * JSON already, but the embedded API accepts any JavaScript value, so `undefined`, NaN,
 * Infinity, bigints, Dates, Maps and class instances are refused here with their
 * location instead of being silently compared.
 */
import type { JsonValue } from "./types.ts";
import { atIndex, atKey, invalidQuery } from "./invalid.ts";

/** The JSON type of `v` as error messages name it: "null", "array", "object", "string"... */
export function jsonTypeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return proto?.constructor?.name ?? "object";
  }
  return typeof v;
}

/** True for `{...}` objects (not arrays, not class instances). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks `v` is a JSON value nested at most `maxDepth` more levels; returns it typed.
 * `depth` is the nesting level of `v` itself within the whole filter.
 */
export function checkJsonValue(v: unknown, at: string, depth: number, maxDepth: number): JsonValue {
  if (depth > maxDepth) throw invalidQuery(at, `the filter is nested more than ${maxDepth} levels deep`);
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw invalidQuery(at, `expected a JSON value, got ${v}`);
      return v;
    case "object":
      if (v === null) return null;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkJsonValue(v[i], atIndex(at, i), depth + 1, maxDepth);
        return v as JsonValue[];
      }
      if (!isPlainObject(v)) throw invalidQuery(at, `expected a JSON value, got ${jsonTypeName(v)}`);
      for (const k of Object.keys(v)) checkJsonValue(v[k], atKey(at, k), depth + 1, maxDepth);
      return v as JsonValue;
    default:
      throw invalidQuery(at, `expected a JSON value, got ${typeof v}`);
  }
}
