/**
 * Randomized model test: random JSON documents (written with random escapes, spacing and
 * number spellings, plus values that are not JSON objects) in a real database; random
 * filters run through executeQuery — as one count, and page by page at random limits
 * following next_cursor, through `db.scan` and through the raw cursor, with and without
 * the byte prefilter, reading members or parsing whole documents — and compared with a plain JavaScript evaluation of the same filter
 * written independently of src/query (model below).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openDatabase } from "../../src/db.ts";
import type { Database } from "../../src/types.ts";
import { executeQuery } from "../../src/query/execute.ts";
import type { QuerySource } from "../../src/query/source.ts";
import type { QueryCountResponse, QueryItemsResponse } from "../../src/query/types.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";
import { rmSync } from "node:fs";
import { tempDir as sharedTempDir } from "../support/tmpdir.ts";
import { rawSnapshot } from "./raw_source.ts";

// test/support/tmpdir.ts registers its cleanup in the first test file that imports it;
// when several files run in one process, later files' directories stay behind.
const madeHere: string[] = [];
function tempDir(label: string): string {
  const dir = sharedTempDir(label);
  madeHere.push(dir);
  return dir;
}

// ------------------------------------------------------------------ the model

type Doc = Record<string, unknown>;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The model's reading of a stored value: a JSON object, or undefined. */
function modelDecode(bytes: Uint8Array): Doc | undefined {
  try {
    const v = JSON.parse(decoder.decode(bytes));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const isObj = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);
const canonical = (v: unknown): string =>
  isObj(v)
    ? `{${Object.keys(v)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
        .join(",")}}`
    : Array.isArray(v)
      ? `[${v.map(canonical).join(",")}]`
      : JSON.stringify(v);
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Values a path reaches: a name on an array reaches into its object elements. */
function resolve(doc: Doc, segments: string[]): unknown[] {
  let current: unknown[] = [doc];
  for (const s of segments) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        if (/^(0|[1-9][0-9]{0,8})$/.test(s)) {
          if (Number(s) < v.length) next.push(v[Number(s)]);
        } else for (const e of v) if (isObj(e) && Object.hasOwn(e, s)) next.push(e[s]);
      } else if (isObj(v) && Object.hasOwn(v, s)) next.push(v[s]);
    }
    current = next;
  }
  return current;
}

/** The value and, for an array, its elements. */
const candidates = (values: unknown[]) => values.flatMap((v) => (Array.isArray(v) ? [v, ...v] : [v]));

function compare(e: unknown, x: unknown): number | undefined {
  if (typeof e === "number" && typeof x === "number") return e - x;
  if (typeof e === "string" && typeof x === "string") return utf8Order(e, x);
  return undefined;
}

function modelOp(op: string, x: unknown, values: unknown[]): boolean {
  const all = candidates(values);
  const cmp = (test: (c: number) => boolean) => all.some((e) => {
    const c = compare(e, x);
    return c !== undefined && test(c);
  });
  switch (op) {
    case "$eq":
      return all.some((e) => same(e, x));
    case "$ne":
      return !all.some((e) => same(e, x));
    case "$in":
      return all.some((e) => (x as unknown[]).some((y) => same(e, y)));
    case "$nin":
      return !all.some((e) => (x as unknown[]).some((y) => same(e, y)));
    case "$gt":
      return cmp((c) => c > 0);
    case "$gte":
      return cmp((c) => c >= 0);
    case "$lt":
      return cmp((c) => c < 0);
    case "$lte":
      return cmp((c) => c <= 0);
    case "$exists":
      return (values.length > 0) === x;
    case "$prefix":
      return all.some((e) => typeof e === "string" && e.startsWith(x as string));
    case "$contains":
      return values.some((v) => (typeof v === "string" && typeof x === "string" && v.includes(x)) || (Array.isArray(v) && v.some((e) => same(e, x))));
    default:
      throw new Error(`model: ${op}`);
  }
}

const isOperatorObject = (v: unknown): v is Doc => isObj(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith("$"));

function modelFieldValue(values: unknown[], cond: unknown): boolean {
  if (!isOperatorObject(cond)) return modelOp("$eq", cond, values);
  return Object.entries(cond).every(([op, x]) => (op === "$not" ? !modelFieldValue(values, x) : modelOp(op, x, values)));
}

/** Paths in generated filters are keys of this map (both spellings map to the segments). */
const PATHS = new Map<string, string[]>();

function modelMatch(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([k, v]) => {
    if (k === "$and") return (v as Doc[]).every((f) => modelMatch(doc, f));
    if (k === "$or") return (v as Doc[]).some((f) => modelMatch(doc, f));
    if (k === "$not") return !modelMatch(doc, v as Doc);
    return modelFieldValue(resolve(doc, PATHS.get(k)!), v);
  });
}

// ------------------------------------------------------------------ generators

const STRINGS = ["Porto", "porto", "Port", "Pórto", "PortoAlegre", "Z", "", 'a"b', "back\\slash", "line\nbreak", "😀", "\uff5e", "30", "true", "null", "é"];
const NUMBERS = [0, 1, 30, 29.5, -7, 1000, 1e21, -0.25];

function scalar(r: Random): unknown {
  const k = r.int(10);
  if (k < 5) return r.pick(STRINGS);
  if (k < 8) return r.pick(NUMBERS);
  return r.pick([true, false, null]);
}

function value(r: Random, depth = 0): unknown {
  const k = r.int(10);
  if (depth < 2 && k === 0) return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
  if (depth < 2 && k === 1) return { city: scalar(r), zip: r.pick(NUMBERS) };
  return scalar(r);
}

function document(r: Random): Doc {
  const d: Doc = {};
  const maybe = (name: string, make: () => unknown) => {
    if (r.chance(0.75)) d[name] = make();
  };
  maybe("name", () => r.pick(STRINGS));
  maybe("city", () => (r.chance(0.7) ? r.pick(STRINGS.slice(0, 6)) : value(r)));
  maybe("age", () => (r.chance(0.7) ? r.int(60) + 0.5 * r.int(2) : value(r)));
  maybe("tags", () => (r.chance(0.8) ? Array.from({ length: r.int(4) }, () => scalar(r)) : scalar(r)));
  maybe("address", () => (r.chance(0.7) ? { city: r.pick(STRINGS.slice(0, 6)), zip: r.int(5) } : [{ city: r.pick(STRINGS) }, { zip: 1 }]));
  maybe("items", () => Array.from({ length: r.int(3) }, () => (r.chance(0.8) ? { name: r.pick(STRINGS), qty: r.int(5) } : value(r))));
  maybe("flag", () => r.pick([true, false, null]));
  maybe("a.b", () => scalar(r));
  maybe('q"k', () => scalar(r));
  return d;
}

/** JSON text of `v` with random escapes, whitespace and number spellings. */
function jsonText(r: Random, v: unknown): string {
  const ws = () => (r.chance(0.1) ? r.pick([" ", "\n", "\t", "\r\n "]) : "");
  if (typeof v === "string") {
    let s = '"';
    for (const ch of v) {
      if (r.chance(0.08)) {
        for (let i = 0; i < ch.length; i++) s += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
      } else s += JSON.stringify(ch).slice(1, -1);
    }
    return s + '"';
  }
  if (typeof v === "number") {
    if (Number.isInteger(v) && Math.abs(v) < 1e6 && r.chance(0.2)) return r.pick([`${v}.0`, `${v}e0`, `${v * 10}E-1`]);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${ws()}${v.map((e) => jsonText(r, e)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (isObj(v)) return `{${ws()}${Object.entries(v).map(([k, e]) => `${jsonText(r, k)}${ws()}:${ws()}${jsonText(r, e)}`).join(`,${ws()}`)}${ws()}}`;
  return JSON.stringify(v);
}

const NOT_OBJECTS: (string | Uint8Array)[] = [
  "not json",
  "[1,2]",
  '["Porto"]',
  "42",
  '"Porto"',
  "null",
  "",
  '{"city":"Porto"',
  '\ufeff{"city":"Porto"}',
  new Uint8Array([0x7b, 0x22, 0x63, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
];

function storedValue(r: Random): string | Uint8Array {
  if (r.chance(0.08)) return r.pick(NOT_OBJECTS);
  const doc = document(r);
  // Deeper than the member reader goes: the codec decides.
  if (r.chance(0.02)) doc.deep = JSON.parse("[".repeat(140) + "1" + "]".repeat(140));
  const text = jsonText(r, doc);
  // A duplicate member before the others: JSON.parse keeps the last.
  if (r.chance(0.05)) return `{${jsonText(r, r.pick(["city", "age", "tags"]))}:${jsonText(r, scalar(r))}${text === "{}" ? "}" : "," + text.slice(1)}`;
  return text;
}

/** Paths most documents have, picked half of the time so that conditions often apply. */
const CORE_PATHS: string[][] = [["city"], ["age"], ["tags"], ["address", "city"], ["items", "name"]];
const FIELD_PATHS: string[][] = [["city"], ["age"], ["tags"], ["address", "city"], ["address", "zip"], ["tags", "0"], ["items", "name"], ["items", "qty"], ["flag"], ["a.b"], ["name"], ["missing"], ['q"k'], ["items", "1", "qty"]];

function pathKey(r: Random, segments: string[]): string {
  const plain = segments.every((s) => !s.includes("."));
  let key: string;
  if (plain && r.chance(0.5)) key = segments.join(".");
  else key = "$" + segments.map((s) => (/^[0-9]+$/.test(s) ? `[${s}]` : /^[a-z]+$/.test(s) && r.chance(0.5) ? `.${s}` : `['${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}']`)).join("");
  PATHS.set(key, segments);
  return key;
}

function operatorCondition(r: Random): Doc {
  const ops: Doc = {};
  for (let i = 0, n = 1 + r.int(2); i < n; i++) {
    const op = r.pick(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$prefix", "$contains", "$not"]);
    switch (op) {
      case "$eq":
      case "$ne":
        ops[op] = r.chance(0.85) ? scalar(r) : value(r);
        break;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        ops[op] = r.chance(0.5) ? r.pick(NUMBERS) : r.pick(STRINGS);
        break;
      case "$in":
      case "$nin":
        ops[op] = Array.from({ length: r.int(4) }, () => (r.chance(0.9) ? scalar(r) : value(r)));
        break;
      case "$exists":
        ops[op] = r.chance(0.5);
        break;
      case "$prefix":
        ops[op] = r.pick(STRINGS).slice(0, r.int(4));
        break;
      case "$contains": {
        const k = r.int(10);
        ops[op] = k < 4 ? r.pick(STRINGS).slice(r.int(2), 1 + r.int(4)) : k < 7 ? r.pick(STRINGS) : scalar(r);
        break;
      }
      case "$not":
        ops[op] = r.pick([
          () => ({ $eq: r.pick([1, 30, "Port", true, null]) }),
          () => ({ $gt: r.pick([1, 30, "Port"]) }),
          () => ({ $lt: r.pick([1, 30, "Port"]), $gte: r.pick([0, "P"]) }),
          () => ({ $exists: r.chance(0.5) }),
        ])();
        break;
    }
  }
  return ops;
}

function filter(r: Random, depth = 0): Doc {
  const f: Doc = {};
  for (let i = 0, n = r.int(3) + (depth === 0 ? 0 : 1); i < n; i++) {
    const k = r.int(10);
    if (depth < 2 && k === 0) f.$and = Array.from({ length: 1 + r.int(3) }, () => filter(r, depth + 1));
    else if (depth < 2 && k === 1) f.$or = Array.from({ length: 1 + r.int(3) }, () => filter(r, depth + 1));
    else if (k === 3) f.$or = Array.from({ length: 2 + r.int(2) }, () => ({ [pathKey(r, ["city"])]: r.pick(STRINGS.slice(0, 6)) }));
    else if (depth < 2 && k === 2) f.$not = filter(r, depth + 1);
    else f[pathKey(r, r.pick(r.chance(0.5) ? CORE_PATHS : FIELD_PATHS))] = r.chance(0.35) ? (r.chance(0.9) ? scalar(r) : value(r)) : operatorCondition(r);
  }
  return f;
}

// ------------------------------------------------------------------ the test

const seed = testSeed("query random");
const rnd = seededRandom(seed);
let db: Database;
const stored = new Map<string, string | Uint8Array>();
const KEY_PREFIXES = ["a:", "b:", "ab", "é:", "\u{1F600}:", "z"];
const SCOPES = ["", "a:", "b:", "a", "é:", "\u{1F600}", "nope"];

beforeAll(async () => {
  db = await openDatabase(tempDir("kvdb-query-random"), { sync: "none", memtableBytes: 64 * 1024 });
  await mutate(700);
});

afterAll(async () => {
  await db.close();
  for (const dir of madeHere.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function mutate(n: number): Promise<void> {
  const ops: Parameters<Database["write"]>[0] = [];
  for (let i = 0; i < n; i++) {
    const key = `${rnd.pick(KEY_PREFIXES)}${rnd.int(400)}`;
    if (stored.has(key) && rnd.chance(0.15)) {
      ops.push({ type: "delete", key });
      stored.delete(key);
    } else {
      const v = storedValue(rnd);
      ops.push({ type: "put", key, value: v });
      stored.set(key, v);
    }
  }
  for (let i = 0; i < ops.length; i += 100) await db.write(ops.slice(i, i + 100));
}

const asBytes = (v: string | Uint8Array) => (typeof v === "string" ? new TextEncoder().encode(v) : v);

function expected(scope: string, f: Doc): { key: string; value: Doc }[] {
  const out: { key: string; value: Doc }[] = [];
  for (const key of [...stored.keys()].sort(utf8Order)) {
    if (!key.startsWith(scope)) continue;
    const doc = modelDecode(asBytes(stored.get(key)!));
    if (doc !== undefined && modelMatch(doc, f)) out.push({ key, value: doc });
  }
  return out;
}

function notJsonInScope(scope: string): number {
  return [...stored].filter(([k, v]) => k.startsWith(scope) && modelDecode(asBytes(v)) === undefined).length;
}

async function allPages(source: QuerySource, scope: string, f: Doc, options: { prefilter?: boolean; memberReader?: boolean }) {
  const items: { key: string; value: unknown }[] = [];
  let cursor: string | null = null;
  let keysExamined = 0;
  let skipped = 0;
  let pages = 0;
  do {
    const limit = 1 + rnd.int(rnd.chance(0.3) ? 5 : 60);
    const r = (await executeQuery(source, { scope_prefix: scope, filter: f, limit, cursor }, options)) as QueryItemsResponse;
    expect(r.items.length).toBeLessThanOrEqual(limit);
    if (r.next_cursor !== null) expect(r.items.length).toBe(limit);
    items.push(...r.items);
    keysExamined += r.plan.keys_examined;
    skipped += r.plan.skipped_not_json;
    cursor = r.next_cursor;
    pages++;
  } while (cursor !== null);
  return { items, keysExamined, skipped, pages };
}

test("query results equal a plain JavaScript filter, in one count and page by page", async () => {
  let nonEmpty = 0;
  for (let round = 0; round < 3; round++) {
    const raw = await rawSnapshot(db);
    for (let i = 0; i < 60; i++) {
      const f = filter(rnd);
      const scope = rnd.pick(SCOPES);
      const want = expected(scope, f);
      const context = `seed=${seed} round=${round} i=${i} scope=${JSON.stringify(scope)} filter=${JSON.stringify(f)}`;
      if (want.length > 0) nonEmpty++;

      const c = (await executeQuery(db, { scope_prefix: scope, filter: f, count: true })) as QueryCountResponse;
      expect(c.count, context).toBe(want.length);

      const viaScan = await allPages(db, scope, f, {});
      expect(viaScan.items, context).toEqual(want);
      const inScope = [...stored.keys()].filter((k) => k.startsWith(scope)).length;
      // Every key in scope is examined exactly once over all the pages.
      expect(viaScan.keysExamined, context).toBe(inScope);

      // Every value read, by the member reader or by JSON.parse: skipped_not_json is exact.
      const exact = await allPages(raw, scope, f, { prefilter: false, memberReader: i % 2 === 0 });
      expect(exact.items, context).toEqual(want);
      expect(exact.keysExamined, context).toBe(inScope);
      expect(exact.skipped, context).toBe(notJsonInScope(scope));
    }
    expect(raw.closed).toBe(raw.opened);
    await mutate(150);
  }
  // The generator must produce queries with answers, or the comparison proves little.
  expect(nonEmpty).toBeGreaterThan(45);
});

test("writes between pages: no duplicates, and every match that existed throughout is returned", async () => {
  for (let i = 0; i < 12; i++) {
    const f = filter(rnd);
    const scope = rnd.pick(SCOPES.slice(0, 3));
    const before = new Set(expected(scope, f).map((x) => x.key));
    const touched = new Set<string>();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = (await executeQuery(db, { scope_prefix: scope, filter: f, limit: 1 + rnd.int(10), cursor })) as QueryItemsResponse;
      seen.push(...r.items.map((x) => x.key));
      cursor = r.next_cursor;
      const sizeBefore = new Map(stored);
      await mutate(5);
      for (const [k, v] of stored) if (sizeBefore.get(k) !== v) touched.add(k);
      for (const k of sizeBefore.keys()) if (!stored.has(k)) touched.add(k);
    } while (cursor !== null);
    const context = `seed=${seed} writes-between-pages i=${i} filter=${JSON.stringify(f)}`;
    expect(new Set(seen).size, context).toBe(seen.length);
    expect([...seen].sort(utf8Order), context).toEqual(seen);
    for (const k of before) if (!touched.has(k)) expect(seen, context).toContain(k);
  }
});
