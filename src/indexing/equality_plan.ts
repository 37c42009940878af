/**
 * @module
 * How the query planner uses an equality index (the `PlannableIndex` seam of
 * `src/query/planner.ts`). An index offers an access path when the filter pins its field
 * with `$eq` or `$in` on scalar values — directly, in the most selective term of an
 * `$and`, or in every branch of an `$or` — within the index's scope. The path reads the
 * posting lists of those values, merges them in key order, and yields each candidate's
 * current record from the query's snapshot; the executor re-checks every candidate with
 * the full filter, so results equal a scan's.
 *
 * Only plain top-level fields (`$.city`) are used: for nested paths the filter language
 * looks inside arrays on the way down (MongoDB's rule) while JSONPath does not, so an
 * index on `$.address.city` could miss documents the filter matches.
 */
import type { Engine } from "../engine/engine.ts";
import { binaryString, compareBytes, utf8 } from "../engine/coding.ts";
import type { AccessPath, DocumentStream, PlannableIndex } from "../query/planner.ts";
import type { ParsedQuery } from "../query/request.ts";
import type { FilterNode } from "../query/filter.ts";
import type { IndexPathCounters, JsonValue } from "../query/types.ts";
import { simpleFieldPath } from "./extractor.ts";
import { encodeIndexValue } from "./value_codec.ts";
import { metaKey, termPrefix } from "./keys.ts";
import { decodeMeta } from "./posting_meta.ts";
import { readPostingList, type PostingCache } from "./postings_reader.ts";
import { CandidateCursor } from "./candidate_cursor.ts";
import type { IndexInstance } from "./instance.ts";

type Scalar = string | number | boolean | null;

/** The values a filter pins the indexed field to, or why it does not. */
type Terms = { values: Scalar[]; exact: boolean } | { rejected: string };

export class EqualityIndexPlanner implements PlannableIndex {
  readonly name: string;
  private readonly field: string | undefined;
  private readonly unusable: string | undefined;

  constructor(
    private readonly index: IndexInstance,
    private readonly engine: Engine,
    private readonly cache: PostingCache,
  ) {
    this.name = index.name;
    const segments = simpleFieldPath(index.definition.extractor);
    if (index.definition.type !== "equality") this.unusable = "range index: not used for equality yet";
    else if (!segments) this.unusable = `extractor ${describe(index)} is not a plain field path`;
    else if (segments.length !== 1 || /^\d+$/.test(segments[0]) || segments[0] === "length") {
      this.unusable = `extractor ${describe(index)} is not a plain top-level field (nested paths are answered by scan)`;
    } else this.field = segments[0];
  }

  consider(query: ParsedQuery): AccessPath | { rejected: string } {
    if (this.index.state !== "ready") return { rejected: `index still building (${this.index.scanned} records indexed so far)` };
    if (this.unusable) return { rejected: this.unusable };
    const scope = this.index.definition.scope_prefix;
    if (!query.scopePrefix.startsWith(scope)) {
      return { rejected: `wrong scope: the query's scope ${JSON.stringify(query.scopePrefix)} is not inside the index's ${JSON.stringify(scope)}` };
    }
    const terms = this.termsOf(query.filter);
    if ("rejected" in terms) return terms;
    const encoded = dedupe(terms.values.map(encodeIndexValue));
    const estimate = encoded.reduce((n, e) => n + this.liveCount(e), 0);
    // A count needs no documents when the filter is exactly "field in values" over the
    // whole index scope: the live counts of distinct values add up without overlap
    // only when each record holds one value, so arrays make the count inexact.
    const countable = terms.exact && query.scopePrefix === scope && encoded.length === 1;
    return new EqualityAccessPath(this.index, this.engine, this.cache, encoded, estimate, query.scopePrefix, countable, terms.exact);
  }

  private liveCount(encodedValue: Uint8Array): number {
    const meta = this.engine.get(metaKey(termPrefix(this.index.dataPrefix, encodedValue)));
    return meta ? decodeMeta(meta, `index ${this.name}`).live : 0;
  }

  /** The scalar values `node` requires the field to equal, when it does. */
  private termsOf(node: FilterNode): Terms {
    switch (node.kind) {
      case "field": {
        const segs = node.path.segments;
        if (segs.length !== 1 || segs[0].name !== this.field) return { rejected: `field not indexed: the index covers ${describe(this.index)}` };
        if (node.op === "$eq") {
          return isScalar(node.operand) ? { values: [node.operand], exact: true } : { rejected: "operator not supported: $eq with an array or object operand" };
        }
        if (node.op === "$in") {
          const list = node.operand as JsonValue[];
          return list.every(isScalar) ? { values: list as Scalar[], exact: true } : { rejected: "operator not supported: $in with array or object values" };
        }
        return { rejected: `operator not supported: ${node.op} (equality indexes answer $eq and $in)` };
      }
      case "and": {
        let best: { values: Scalar[]; exact: boolean } | undefined;
        let bestCount = Infinity;
        let reason = "field not indexed";
        for (const child of node.children) {
          const t = this.termsOf(child);
          if ("rejected" in t) {
            reason = t.rejected;
            continue;
          }
          const count = dedupe(t.values.map(encodeIndexValue)).reduce((n, e) => n + this.liveCount(e), 0);
          if (count < bestCount) {
            best = t;
            bestCount = count;
          }
        }
        return best ? { values: best.values, exact: false } : { rejected: reason };
      }
      case "or": {
        const values: Scalar[] = [];
        for (const child of node.children) {
          const t = this.termsOf(child);
          if ("rejected" in t) return { rejected: `$or branch not answerable from this index: ${t.rejected}` };
          values.push(...t.values);
        }
        return { values, exact: false };
      }
      case "not":
        return { rejected: "operator not supported: $not" };
      case "all":
        return { rejected: "no filter on the indexed field" };
    }
  }
}

function describe(index: IndexInstance): string {
  const e = index.definition.extractor;
  return e.kind === "json_path" ? e.path : `regex on the ${e.target}`;
}

function isScalar(v: JsonValue): v is Scalar {
  return v === null || typeof v !== "object";
}

function dedupe(values: Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const v of values) seen.set(binaryString(v), v);
  return [...seen.values()];
}

class EqualityAccessPath implements AccessPath {
  readonly kind = "index_equality";
  readonly index: string;
  readonly counters: IndexPathCounters = { blocks_read: 0, postings_read: 0, candidates_checked: 0, tombstones_skipped: 0, stale_skipped: 0 };

  constructor(
    private readonly instance: IndexInstance,
    private readonly engine: Engine,
    private readonly cache: PostingCache,
    private readonly values: Uint8Array[],
    readonly estimate: number,
    private readonly scope: string,
    private readonly countable: boolean,
    /** The filter is exactly "field in values": only stale entries fail the re-check. */
    readonly candidatesMatch: boolean,
  ) {
    this.index = instance.name;
  }

  /** The live count from the meta record: exact only for a lone `$eq`/`$in` value over the index's whole scope. */
  exactCount(): number | undefined {
    return this.countable ? this.estimate : undefined;
  }

  open(after: string | undefined): DocumentStream {
    const view = this.engine.readView();
    try {
      const lists = this.values.map((v) => readPostingList(this.instance, v, view, this.cache));
      for (const l of lists) {
        this.counters.blocks_read += l.blocksRead;
        this.counters.postings_read += l.postingsRead;
        this.counters.tombstones_skipped += l.tombstones;
      }
      let keys = lists.length === 1 ? lists[0].keys : mergeSorted(lists.map((l) => l.keys));
      if (this.scope !== this.instance.definition.scope_prefix) keys = keys.filter((k) => k.startsWith(this.scope));
      const start = after === undefined ? 0 : firstAfter(keys, utf8(after));
      return { kind: "cursor", cursor: new CandidateCursor(keys, start, view, this.counters, utf8, true) };
    } catch (e) {
      view.release();
      throw e;
    }
  }

  keysExamined(): number {
    return this.counters.postings_read;
  }
}

/** Union of ascending (UTF-8 order) key lists, without duplicates. */
function mergeSorted(lists: string[][]): string[] {
  const all = lists.flat().map((k) => ({ k, b: utf8(k) }));
  all.sort((a, b) => compareBytes(a.b, b.b));
  const out: string[] = [];
  for (const x of all) if (out.length === 0 || out[out.length - 1] !== x.k) out.push(x.k);
  return out;
}

/** Index of the first key strictly after `after` (UTF-8 byte order). */
function firstAfter(keys: string[], after: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(utf8(keys[mid]), after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
