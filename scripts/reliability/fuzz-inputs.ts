/**
 * @module
 * Hostile and boundary inputs for the HTTP fuzzer, built as text or bytes so that sizes
 * and depths far beyond what `JSON.stringify` of a nested object could produce are cheap
 * to make: thousands of nesting levels, keys past the 4096-byte limit, JSON that is
 * broken in many ways, bodies that are not UTF-8, cursors the server never issued, and
 * valid filters in the query language (for the accepting paths).
 */
import type { Random } from "../../test/support/random.ts";

/** The server's key limit in UTF-8 bytes. */
export const MAX_KEY_BYTES = 4096;
/** The server's value limit. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** Nesting depths to try: around the documented filter limit (32), then far beyond. */
export function nestingDepth(r: Random): number {
  const roll = r.next();
  if (roll < 0.3) return 31 + r.int(4);
  if (roll < 0.6) return 100 + r.int(1000);
  if (roll < 0.85) return 1000 + r.int(9000);
  return 10_000 + r.int(90_000);
}

export type NestingShape = "and" | "or" | "not" | "field" | "operand_array" | "operand_object" | "array";

/** A JSON text: `inner` wrapped `depth` times in the given shape. */
export function nested(shape: NestingShape, depth: number, inner = "{}"): string {
  const [open, close] = {
    and: ['{"$and":[', "]}"],
    or: ['{"$or":[', "]}"],
    not: ['{"$not":', "}"],
    field: ['{"a":', "}"],
    operand_array: ["[", "]"],
    operand_object: ['{"b":', "}"],
    array: ["[", "]"],
  }[shape];
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** A string of about `bytes` UTF-8 bytes, sometimes with multi-byte characters. */
export function longString(r: Random, bytes: number): string {
  if (r.chance(0.5)) return "k".repeat(bytes);
  // "é" is 2 bytes, "😀" 4: ends on a character boundary near `bytes`.
  const unit = r.chance(0.5) ? "é" : "😀";
  const size = unit === "é" ? 2 : 4;
  return unit.repeat(Math.floor(bytes / size)) + "k".repeat(bytes % size);
}

/** A key of exactly `bytes` UTF-8 bytes. */
export function keyOfBytes(bytes: number, unit: "ascii" | "multibyte" = "ascii"): string {
  if (unit === "ascii") return "K".repeat(bytes);
  return "é".repeat(Math.floor(bytes / 2)) + "K".repeat(bytes % 2);
}

/** Ways to make a JSON text invalid. */
export function brokenJson(r: Random, valid: string): string {
  switch (r.int(12)) {
    case 0: return valid.slice(0, Math.max(0, r.int(valid.length)));
    case 1: return valid + r.pick(["}", "]", ",", "x", " {}", "\u0000"]);
    case 2: return valid.replaceAll('"', "'");
    case 3: return valid.replace(/"([a-z_$]+)":/g, "$1:");
    case 4: return valid.replace(/\d+/, "NaN");
    case 5: return `/* comment */${valid}`;
    case 6: return `\uFEFF${valid}`;
    case 7: return "";
    case 8: return r.pick(["{", "[", '"', "nul", "tru", "{]", "{,}", '{"a":}', '{"a" 1}', "{{}}", "[1,]", '{"a":1,}']);
    case 9: return valid.replace(/,/, ",,");
    case 10: return '"\\uD800"'; // a lone surrogate escape inside a JSON string
    default: return valid.slice(0, 1) + "\\" + valid.slice(1);
  }
}

/** `valid` with bytes that are not UTF-8 spliced into it (inside a string literal when there is one). */
export function invalidUtf8(r: Random, valid: string): Uint8Array {
  const bytes = new TextEncoder().encode(valid);
  const bad = r.pick([[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xc0, 0xaf], [0x80]]);
  // Prefer just after an opening quote so the JSON is otherwise well-formed.
  const quotes: number[] = [];
  bytes.forEach((b, i) => b === 0x22 && quotes.push(i + 1));
  const at = quotes.length > 0 && r.chance(0.8) ? r.pick(quotes) : r.int(bytes.length + 1);
  const out = new Uint8Array(bytes.length + bad.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(bad, at);
  out.set(bytes.subarray(at), at + bad.length);
  return out;
}

/** Percent-encoded path segments that do not decode to a valid key. */
export function badPercentEncoding(r: Random): string {
  return r.pick(["%FF", "%C3%28", "%", "%G1", "a%2", "%ED%A0%80", "%E2%82", "%C0%AF", "%F4%90%80%80", "x%", "%%", "%u0041"]);
}

/** Cursor strings the server never issued. */
export function bogusCursor(r: Random, real?: string): string {
  const roll = r.int(9);
  if (real && roll === 0) return real.slice(0, Math.max(1, r.int(real.length)));
  if (real && roll === 1) return real + r.pick(["A", "==", "!", "."]);
  if (real && roll === 2) return real.split("").reverse().join("");
  if (roll === 3) return "!!!not base64!!!";
  if (roll === 4) return Buffer.from([0xff, 0xfe, 0x00]).toString("base64url");
  if (roll === 5) return "A".repeat(100_000);
  if (roll === 6) return Buffer.from(JSON.stringify({ v: 99, k: "x" })).toString("base64url");
  if (roll === 7) return "=";
  return Buffer.from(`${r.int(1e9)}`).toString("base64");
}

const FIELDS = ["city", "age", "name", "tags", "address.city", "$.age", "missing", "tags.0"];
const SCALARS: Array<() => unknown> = [() => "PortoAlegre", () => "Recife", () => 31, () => 0, () => -2.5, () => true, () => null, () => "", () => "ü/😀"];

/** A valid filter of the query language (operand types as the operators require). */
export function validFilter(r: Random, depth = 0): Record<string, unknown> {
  if (depth < 3 && r.chance(0.25)) {
    const kind = r.pick(["$and", "$or", "$not"]);
    if (kind === "$not") return { $not: validFilter(r, depth + 1) };
    return { [kind]: Array.from({ length: 1 + r.int(3) }, () => validFilter(r, depth + 1)) };
  }
  const out: Record<string, unknown> = {};
  for (let i = 0, n = 1 + r.int(2); i < n; i++) out[r.pick(FIELDS)] = condition(r);
  return out;
}

function condition(r: Random): unknown {
  const scalar = () => r.pick(SCALARS)();
  const comparable = () => (r.chance(0.5) ? r.int(100) - 10 : r.pick(["A", "PortoAlegre", "z"]));
  switch (r.int(9)) {
    case 0: return scalar();
    case 1: return { $eq: scalar() };
    case 2: return { $ne: scalar() };
    case 3: return { [r.pick(["$gt", "$gte", "$lt", "$lte"])]: comparable() };
    case 4: return { [r.pick(["$in", "$nin"])]: Array.from({ length: 1 + r.int(5) }, scalar) };
    case 5: return { $exists: r.chance(0.5) };
    case 6: return { $prefix: r.pick(["Po", "", "R", "ü"]) };
    case 7: return { $contains: scalar() };
    default: return { $gte: r.int(50), $lt: 50 + r.int(50) };
  }
}

/** A filter that uses an operator the language does not have. */
export function unknownOperatorFilter(r: Random): Record<string, unknown> {
  return r.pick<Record<string, unknown>>([
    { city: { $regex: "^P" } },
    { $where: "this.age > 1" },
    { age: { $foo: 1 } },
    { $nor: [{ city: "A" }] },
    { age: { $size: 1 } },
    { $expr: { $gt: ["$age", 1] } },
    { age: { $and: [{ $gt: 1 }] } },
    { city: { $in: "notAnArray" } },
    { age: { $gt: { nested: 1 } } },
    { age: { $exists: "yes" } },
    { city: { $prefix: 5 } },
    { age: { $gt: 1, city: "mixed" } },
    { $and: {} },
    { $or: [] },
    { $not: [] },
  ]);
}

/** A value of a JSON type none of `types` allows (numbers count as one type: 7 and 12.5 are both "number"). */
export function wrongTypeValue(r: Random, types: ReadonlySet<string>): unknown {
  const candidates: Array<[string, unknown]> = [
    ["string", "text"], ["number", 12.5], ["number", 7], ["boolean", true], ["null", null], ["array", [1, "a"]], ["object", { x: 1 }],
  ];
  const allowed = (t: string) => types.has(t) || (t === "number" && types.has("integer"));
  const others = candidates.filter(([t]) => !allowed(t));
  return r.pick(others.length > 0 ? others : candidates)[1];
}
