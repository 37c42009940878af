/**
 * @module
 * The values the crash loop writes under `user:` (the scope of the repository's
 * `users_city` and `users_age` indexes) and a reference matcher for the two filters it
 * checks, written from the README's filter semantics rather than from the query code.
 *
 * Most values are ordinary user records; a few are awkward on purpose so the index and
 * the scan must agree on them too: a city array (an equality matches any element), no
 * city, a city that is not a string, an age that is not a number, values that are not
 * JSON objects. Every value carries the id of the write that produced it (`w`), which
 * makes each value unique: the oracle tells apart the acknowledged and the in-flight write
 * of a key, and the batch a value came from.
 */
import type { Random } from "../../test/support/random.ts";

/** Cities written (some not ASCII: keys compare as UTF-8 bytes). */
export const CITIES = ["PortoAlegre", "Recife", "São Paulo", "Zürich", "Lisboa", "東京", "Kraków", "New York"] as const;

/** A user value for write `writeId`. */
export function userValue(r: Random, writeId: string): string {
  const roll = r.next();
  if (roll < 0.03) return `not json ${writeId}`;
  if (roll < 0.05) return JSON.stringify([writeId, r.pick(CITIES)]);
  const record: Record<string, unknown> = { name: `n${r.int(1000)}`, w: writeId };
  if (roll < 0.1) record.city = [r.pick(CITIES), r.pick(CITIES)];
  else if (roll < 0.13) record.city = r.pick([42, null, true, { nested: r.pick(CITIES) }]);
  else if (roll >= 0.16) record.city = r.pick(CITIES);
  // else: no city at all
  const ageRoll = r.next();
  if (ageRoll < 0.04) record.age = String(r.int(100));
  else if (ageRoll < 0.08) record.age = -r.int(50) - 0.5;
  else if (ageRoll < 0.12) record.age = r.int(100) + 0.25;
  else if (ageRoll >= 0.15) record.age = r.int(100);
  // Sizes from tiny to a few KiB, so blocks and posting lists see varied records.
  record.pad = "x".repeat(r.chance(0.05) ? 1000 + r.int(3000) : r.int(200));
  return JSON.stringify(record);
}

/** A value for a key outside `user:` (sometimes JSON with a city: it must never show in an index query). */
export function otherValue(r: Random, writeId: string): string {
  if (r.chance(0.3)) return JSON.stringify({ city: r.pick(CITIES), age: r.int(100), w: writeId });
  return `v ${writeId} ${"y".repeat(r.int(300))}`;
}

function asObject(value: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(value) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `{"city": city}`: the field equals it, or is an array with an element equal to it. */
export function matchesCity(value: string, city: string): boolean {
  const v = asObject(value)?.city;
  return v === city || (Array.isArray(v) && v.includes(city));
}

/** `{"age": {"$gte": low, "$lt": high}}`: numbers only (comparing across types never matches). */
export function matchesAgeRange(value: string, low: number, high: number): boolean {
  const v = asObject(value)?.age;
  const inRange = (x: unknown) => typeof x === "number" && x >= low && x < high;
  return inRange(v) || (Array.isArray(v) && v.some(inRange));
}
