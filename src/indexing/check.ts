/**
 * @module
 * The index half of `kvdb check`: verifies each ready secondary index against the data,
 * at one snapshot, in both directions.
 *
 * - **Nothing stale:** every live entry (an equality posting, a range entry) names a
 *   record that exists, lies in the index's scope and still yields that value.
 * - **Nothing missing:** every (record, value) pair the extractor yields for a record in
 *   scope is indexed. For range indexes each pair is looked up directly. For equality
 *   indexes the pairs are counted: every valid posting is one distinct pair, so when the
 *   valid postings number as many as the pairs, the two sets are equal; only when they
 *   do not is the scope read again, posting list by posting list, to name what is missing.
 * - **Structure:** every index record's key parses; posting blocks decode, have a meta
 *   record and are not numbered past it; the meta's live count equals the live postings
 *   its blocks replay to (`count` queries answer from it).
 *
 * Building indexes are skipped (they are incomplete by design; queries never read them).
 * The check reads in slices and yields to the event loop between them, so a server keeps
 * serving while `POST /check` runs; the pinned snapshot keeps what it reads consistent.
 */
import type { Engine, ReadView } from "../engine/engine.ts";
import { binaryString, fromUtf8, keySuccessor, prefixEnd, utf8 } from "../engine/coding.ts";
import { isKvdbError } from "../engine/errors.ts";
import type { CheckProblem } from "../engine/check.ts";
import type { IndexType } from "./definition.ts";
import type { IndexInstance, IndexState } from "./instance.ts";
import { blockNumberOf, rangeEntryKey, termPrefix, USER_KEYSPACE_END } from "./keys.ts";
import { decodeMeta } from "./posting_meta.ts";
import { PostingReplay } from "./posting_block.ts";
import { readPostingList } from "./postings_reader.ts";
import { parseIndexKey } from "./record_key.ts";
import { decodeEscaped, decodeIndexValue } from "./value_codec.ts";
import { encodedValues } from "./maintainer.ts";

/** What the check found for one index. */
export interface IndexCheckFigures {
  name: string;
  generation: number;
  type: IndexType;
  state: IndexState;
  /** False for an index that is not ready, or whose records could not be read (damage). */
  checked: boolean;
  /** Records in the index's scope. */
  records: number;
  /** (record, value) pairs the extractor yields for them: what the index should hold. */
  expected: number;
  /** Live entries the index holds. */
  entries: number;
  /** Pairs not indexed. */
  missing: number;
  /** Live entries whose record is gone, out of scope or no longer holds the value. */
  stale: number;
}

export interface IndexCheckReport {
  problems: CheckProblem[];
  indexes: IndexCheckFigures[];
}

export interface IndexCheckOptions {
  /** Missing and stale entries named per index (the rest are counted). Default 5. */
  maxReports?: number;
}

/** Records read between two yields to the event loop. */
const SLICE = 1000;

/** Checks `indexes` (as declared now) against the data at one snapshot of `engine`. */
export async function checkIndexes(engine: Engine, indexes: readonly IndexInstance[], options: IndexCheckOptions = {}): Promise<IndexCheckReport> {
  // States are captured with the snapshot: a build may finish while the check runs.
  const targets = indexes.map((index) => ({ index, state: index.state }));
  const view = engine.readView();
  const report: IndexCheckReport = { problems: [], indexes: [] };
  try {
    for (const { index, state } of targets) {
      const figures: IndexCheckFigures = {
        name: index.name,
        generation: index.generation,
        type: index.definition.type,
        state,
        checked: state === "ready",
        records: 0,
        expected: 0,
        entries: 0,
        missing: 0,
        stale: 0,
      };
      report.indexes.push(figures);
      if (state !== "ready") continue;
      try {
        await new IndexChecker(index, view, figures, report.problems, options.maxReports ?? 5).run();
      } catch (e) {
        // Damaged data under the index (the file check names the block): this index cannot be checked.
        if (!isKvdbError(e, "CORRUPTION")) throw e;
        figures.checked = false;
        report.problems.push({ severity: "damage", file: `index:${index.name}`, message: `could not be checked: ${e.message}` });
      }
    }
  } finally {
    view.release();
  }
  return report;
}

/** Calls `visit` for each record in [lower, upper) in key order, yielding to the event loop every {@link SLICE} records. */
async function forEachRecord(view: ReadView, lower: Uint8Array, upper: Uint8Array | undefined, visit: (key: Uint8Array, value: Uint8Array) => void): Promise<void> {
  let from = lower;
  for (;;) {
    const it = view.iterator(from, upper);
    let last: Uint8Array | undefined;
    let n = 0;
    for (it.seekToFirst(); it.valid() && n < SLICE; it.next(), n++) {
      last = it.key().slice();
      visit(last, it.value());
    }
    if (!it.valid() || !last) return;
    from = keySuccessor(last);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** One equality term's records, gathered in key order: its blocks, then its meta. */
interface TermRecords {
  term: Uint8Array;
  blocks: Array<{ n: number; value: Uint8Array }>;
  meta: Uint8Array | undefined;
}

class IndexChecker {
  private readonly file: string;
  private readonly isRange: boolean;
  private reportedMissing = 0;
  private reportedStale = 0;
  /** Terms whose posting list does not decode: reported once, not again per record. */
  private readonly brokenTerms = new Set<string>();

  constructor(
    private readonly index: IndexInstance,
    private readonly view: ReadView,
    private readonly figures: IndexCheckFigures,
    private readonly problems: CheckProblem[],
    private readonly maxReports: number,
  ) {
    this.file = `index:${index.name}`;
    this.isRange = index.definition.type === "range";
  }

  async run(): Promise<void> {
    await this.readScope(true);
    await this.readIndexRecords();
    const valid = this.figures.entries - this.figures.stale;
    if (!this.isRange && valid < this.figures.expected) await this.readScope(false);
    this.summarize("missing", this.figures.missing, this.reportedMissing);
    this.summarize("stale", this.figures.stale, this.reportedStale);
  }

  private damage(message: string, key?: string): void {
    this.problems.push(key === undefined ? { severity: "damage", file: this.file, message } : { severity: "damage", file: this.file, message, key });
  }

  private summarize(what: string, total: number, named: number): void {
    if (total > named) this.damage(`${total - named} more ${what} entries (${total} in all)`);
  }

  private scope(): [Uint8Array, Uint8Array] {
    return [this.index.scope, prefixEnd(this.index.scope) ?? USER_KEYSPACE_END];
  }

  /**
   * First pass (`counting`): counts records and expected pairs; for a range index also
   * looks each pair up. Second pass (equality only, when postings are missing): finds
   * which pairs are not in their posting lists.
   */
  private async readScope(counting: boolean): Promise<void> {
    const [lower, upper] = this.scope();
    const lists = new Map<string, Set<string>>();
    let cached = 0;
    await forEachRecord(this.view, lower, upper, (key, value) => {
      const values = encodedValues(this.index, key, value);
      if (counting) {
        this.figures.records++;
        this.figures.expected += values.size;
      }
      if (!counting || this.isRange) {
        const keyText = fromUtf8(key);
        for (const enc of values.values()) {
          const term = termPrefix(this.index.dataPrefix, enc);
          let present: boolean;
          if (this.isRange) present = this.view.get(rangeEntryKey(term, key)) !== undefined;
          else {
            const id = binaryString(term);
            if (this.brokenTerms.has(id)) continue;
            let list = lists.get(id);
            if (!list) {
              // Bounded: a huge index is re-read list by list rather than held whole.
              if (cached > 1_000_000) {
                lists.clear();
                cached = 0;
              }
              list = new Set(readPostingList(this.index, enc, this.view).keys);
              lists.set(id, list);
              cached += list.size;
            }
            present = list.has(keyText);
          }
          if (!present) this.missing(keyText, enc);
        }
      }
    });
  }

  private missing(key: string, enc: Uint8Array): void {
    this.figures.missing++;
    if (this.reportedMissing >= this.maxReports) return;
    this.reportedMissing++;
    this.damage(`record ${JSON.stringify(key)} yields ${describeValue(enc)}, which the index does not hold`, key);
  }

  /** Checks that one live entry names a record in scope that still yields `enc`. */
  private entry(key: Uint8Array, enc: Uint8Array): void {
    this.figures.entries++;
    const record = this.view.get(key);
    let why: string | undefined;
    if (!this.index.inScope(key)) why = "lies outside the index's scope";
    else if (record === undefined) why = "does not exist";
    else if (!encodedValues(this.index, key, record).has(binaryString(enc))) why = "does not yield this value";
    if (why === undefined) return;
    this.figures.stale++;
    const text = lossy(key);
    if (this.reportedStale >= this.maxReports) return;
    this.reportedStale++;
    this.damage(`${describeValue(enc)} lists record ${JSON.stringify(text)}, which ${why}`, text);
  }

  private async readIndexRecords(): Promise<void> {
    const prefix = this.index.dataPrefix;
    let pending: TermRecords | undefined;
    await forEachRecord(this.view, prefix, prefixEnd(prefix), (key, value) => {
      let parsed;
      try {
        parsed = parseIndexKey(key);
      } catch (e) {
        this.damage(`unreadable index key ${hex(key)}: ${isKvdbError(e) ? e.message : String(e)}`);
        return;
      }
      if (!parsed) return;
      const enc = key.subarray(parsed.valueStart, parsed.valueEnd);
      if (this.isRange) {
        if (parsed.kind !== "range") return this.damage(`${parsed.kind} record in a range index: ${hex(key)}`);
        let primary;
        try {
          primary = decodeEscaped(key, parsed.valueEnd);
        } catch {
          return this.damage(`range entry with an unreadable record key: ${hex(key)}`);
        }
        if (primary.end !== key.length) return this.damage(`range entry with trailing bytes: ${hex(key)}`);
        this.entry(primary.bytes, enc);
        return;
      }
      if (parsed.kind === "range") return this.damage(`range entry in an equality index: ${hex(key)}`);
      const term = key.subarray(0, parsed.valueEnd);
      if (pending && binaryString(pending.term) !== binaryString(term)) {
        this.finishTerm(pending);
        pending = undefined;
      }
      pending ??= { term: term.slice(), blocks: [], meta: undefined };
      if (parsed.kind === "meta") pending.meta = value.slice();
      else pending.blocks.push({ n: blockNumberOf(term, key) ?? 0, value: value.slice() });
    });
    if (pending) this.finishTerm(pending);
  }

  /** Replays one posting list and checks its meta and every live posting. */
  private finishTerm(t: TermRecords): void {
    const enc = t.term.subarray(this.index.dataPrefix.length);
    const what = describeValue(enc);
    if (!t.meta) {
      this.brokenTerms.add(binaryString(t.term));
      return this.damage(`${what}: posting blocks without a meta record`);
    }
    const where = `${this.file} ${what}`;
    let meta;
    const replay = new PostingReplay();
    try {
      meta = decodeMeta(t.meta, where);
      for (const b of t.blocks) {
        if (b.n < 1 || b.n > meta.lastBlock) this.damage(`${what}: block ${b.n} lies outside the list's blocks 1..${meta.lastBlock}`);
        replay.add(b.value, where);
      }
    } catch (e) {
      this.brokenTerms.add(binaryString(t.term));
      return this.damage(`${what}: ${isKvdbError(e) ? e.message.replace(`${where}: `, "") : String(e)}`);
    }
    const live = replay.liveKeys();
    if (meta.live !== live.length) this.damage(`${what}: the meta record counts ${meta.live} live entries, the blocks hold ${live.length} (count queries answer from it)`);
    for (const k of live) this.entry(utf8(k), enc);
  }
}

function describeValue(enc: Uint8Array): string {
  try {
    return `value ${JSON.stringify(decodeIndexValue(enc).value)}`;
  } catch {
    return `value ${hex(enc)}`;
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

const lossy = (b: Uint8Array) => new TextDecoder().decode(b);
