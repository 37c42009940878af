import { expect, test } from "bun:test";
import { openDatabase, type Database, type WriteOp } from "../../src/db.ts";
import { executeQuery } from "../../src/query/execute.ts";
import type { QueryRequest, QueryResponse } from "../../src/query/types.ts";
import { seededRandom, testSeed, type Random } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex } from "./support.ts";

const CITIES = ["PortoAlegre", "Recife", "São Paulo", "a:b", "x\u0000y", ""];
const KEYS = 60;

function randomDoc(r: Random): string {
  const roll = r.next();
  if (roll < 0.05) return "not json {";
  if (roll < 0.08) return JSON.stringify([1, 2]);
  const doc: Record<string, unknown> = { n: r.int(100) };
  const c = r.next();
  if (c < 0.7) doc.city = r.pick(CITIES);
  else if (c < 0.8) doc.city = [r.pick(CITIES), r.pick(CITIES)];
  else if (c < 0.85) doc.city = r.int(3);
  else if (c < 0.9) doc.city = null;
  return JSON.stringify(doc);
}

function randomKey(r: Random): string {
  const roll = r.next();
  if (roll < 0.85) return `user:${r.int(KEYS)}`;
  if (roll < 0.95) return `idx:users_city:${r.pick(CITIES)}:meta`;
  return `other:${r.int(10)}`;
}

/** The model's answer: documents in scope matching `city ∈ values`, in UTF-8 key order. */
function expected(model: Map<string, string>, scope: string, values: unknown[]): string[] {
  const keys: string[] = [];
  for (const [k, v] of model) {
    if (!k.startsWith(scope)) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(v);
    } catch {
      continue;
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) continue;
    const city = (doc as { city?: unknown }).city;
    const held = Array.isArray(city) ? city : [city];
    if (city !== undefined && held.some((c) => values.includes(c))) keys.push(k);
  }
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

async function allPages(run: (req: QueryRequest) => Promise<QueryResponse>, req: QueryRequest): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const res = await run({ ...req, cursor });
    if (!("items" in res)) throw new Error("expected items");
    keys.push(...res.items.map((i) => i.key));
    cursor = res.next_cursor;
    if (cursor === null) return keys;
  }
  throw new Error("pagination did not end");
}

/** Steps per run (KVDB_INDEX_MODEL_STEPS for longer runs); the time limit grows with them. */
const STEPS = Number(process.env.KVDB_INDEX_MODEL_STEPS ?? 400);

test("randomized: indexed queries equal scan-mode queries and a JavaScript filter after every step", async () => {
  const seed = testSeed("index query model");
  const r = seededRandom(seed);
  const dir = tempDir();
  const options = { indexes: [cityIndex], memtableBytes: 2048, targetFileBytes: 2048, levelBaseBytes: 4096, indexBlockEntries: 4, sync: "none" as const };
  let db: Database = await openDatabase(dir, options);
  await db.waitForIndexes();
  const model = new Map<string, string>();
  let indexedQueries = 0;
  for (let step = 0; step < STEPS; step++) {
    const roll = r.next();
    if (roll < 0.45) {
      const k = randomKey(r);
      const v = randomDoc(r);
      await db.put(k, v);
      model.set(k, v);
    } else if (roll < 0.6) {
      const k = randomKey(r);
      await db.delete(k);
      model.delete(k);
    } else if (roll < 0.7) {
      const ops: WriteOp[] = [];
      for (let i = r.int(5); i >= 0; i--) ops.push(r.chance(0.75) ? { type: "put", key: randomKey(r), value: randomDoc(r) } : { type: "delete", key: randomKey(r) });
      await db.write(ops);
      for (const o of ops) {
        if (o.type === "put") model.set(o.key, o.value as string);
        else model.delete(o.key);
      }
    } else if (roll < 0.73) {
      await db.compact();
    } else if (roll < 0.75) {
      await db.close();
      db = await openDatabase(dir, options);
    } else if (roll < 0.77) {
      await db.rebuildIndex("users_city");
      if (r.chance(0.5)) await db.waitForIndexes();
    }
    // Check a random query after every step.
    const values = r.chance(0.7) ? [r.pick(CITIES)] : [r.pick(CITIES), r.pick(CITIES), r.int(3)];
    const filter = values.length === 1 ? { city: values[0] } : { city: { $in: values } };
    const scope = r.chance(0.8) ? "user:" : "user:1";
    const limit = 1 + r.int(7);
    const req: QueryRequest = { scope_prefix: scope, filter, limit };
    const where = { seed, step, filter, scope };
    const want = expected(model, scope, values);
    const viaIndex = await allPages((q) => db.query(q), req);
    const viaScan = await allPages((q) => executeQuery(db, q), req);
    expect({ ...where, keys: viaIndex }).toEqual({ ...where, keys: want });
    expect({ ...where, keys: viaScan }).toEqual({ ...where, keys: want });
    const first = await db.query({ ...req, explain: true });
    if (first.plan.index === "users_city") indexedQueries++;
    const counted = await db.query({ scope_prefix: scope, filter, count: true });
    expect({ ...where, count: "count" in counted ? counted.count : -1 }).toEqual({ ...where, count: want.length });
  }
  // The index really answered most queries (it is only skipped while a rebuild builds).
  expect(indexedQueries).toBeGreaterThan(STEPS / 2);
  await db.close();
}, Math.max(60_000, STEPS * 10));
