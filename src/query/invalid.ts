/**
 * @module
 * The one error every invalid query raises: INVALID_ARGUMENT (HTTP 400) with a message
 * that starts with where the problem is, e.g. `filter.age.$gt: expected a number or a
 * string, got object`. Locations are written like JavaScript property access:
 * `.name` for identifier-like names, `["address.city"]` otherwise, `[2]` for array items.
 */
import { KvdbError } from "../engine/errors.ts";

/** An INVALID_ARGUMENT error located at `at`. */
export function invalidQuery(at: string, message: string): KvdbError {
  return new KvdbError("INVALID_ARGUMENT", `${at}: ${message}`);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `at` extended by one property name. */
export function atKey(at: string, key: string): string {
  return IDENTIFIER.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

/** `at` extended by one array position. */
export function atIndex(at: string, i: number): string {
  return `${at}[${i}]`;
}
