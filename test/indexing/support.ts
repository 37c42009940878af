/**
 * @module
 * White-box helpers for index tests: read an index's posting list or range entries
 * straight from the engine, and compute what they should be from the records.
 */
import type { Database } from "../../src/db.ts";
import type { Engine } from "../../src/engine/engine.ts";
import type { IndexManager } from "../../src/indexing/manager.ts";
import { readPostingList } from "../../src/indexing/postings_reader.ts";
import { encodeIndexValue } from "../../src/indexing/value_codec.ts";
import type { IndexValue } from "../../src/indexing/extractor.ts";

interface Internals {
  engine: Engine;
  indexes: IndexManager;
}

const internals = (db: Database) => db as unknown as Internals;

/** Live primary keys of `value` in the ready generation of `name`, in key order. */
export function postings(db: Database, name: string, value: IndexValue): string[] {
  const { engine, indexes } = internals(db);
  const index = indexes.readyIndexes().find((i) => i.name === name);
  if (!index) throw new Error(`index ${name} is not ready`);
  const view = engine.readView();
  try {
    return readPostingList(index, encodeIndexValue(value), view).keys;
  } finally {
    view.release();
  }
}

/** What the posting list should be: keys in scope whose JSON field equals `value` (or holds it in an array). */
export async function expectedPostings(db: Database, scope: string, field: string, value: IndexValue): Promise<string[]> {
  const out: Array<{ k: string; b: Buffer }> = [];
  for await (const [k, v] of db.scan({ prefix: scope })) {
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(v));
    } catch {
      continue;
    }
    if (doc === null || typeof doc !== "object") continue;
    const f = (doc as Record<string, unknown>)[field];
    const values = Array.isArray(f) ? f : [f];
    if (values.some((x) => x === value)) out.push({ k, b: Buffer.from(k) });
  }
  return out.sort((a, b) => Buffer.compare(a.b, b.b)).map((x) => x.k);
}

export const cityIndex = { name: "users_city", scope_prefix: "user:", type: "equality" as const, extractor: { kind: "json_path" as const, path: "$.city" } };
