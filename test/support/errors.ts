/**
 * @module
 * The error a synchronous call throws, for tests that inspect it.
 */

/** Runs `fn` and returns what it threw; fails the test when it throws nothing. */
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}
