/**
 * @module
 * The read side of the compaction benchmark: random point reads of live keys, random
 * point reads of deleted keys, and a full ordered scan of one kvdb database, each checked
 * against the churn's final state (scripts/bench/churn.ts) — a live key must return a
 * value of the expected length, a deleted key nothing, and the scan exactly the live keys
 * in order with exactly the live bytes.
 *
 * Each kind is timed in wall-clock and in CPU time (cpu-clock.ts), in rounds; the report
 * takes the median round. Several databases can be measured in one process with their
 * work interleaved in small chunks ({@link measureInterleaved}: 10,000 reads or scanned
 * keys of one, then of the next, ...), so that a burst of someone else's work on this
 * shared machine slows every side of a comparison alike instead of one of them.
 *
 * Keys outside the data set (`user:` prefix), such as those an HTTP benchmark PUT, are
 * scanned and counted but not checked.
 */
import type { Database } from "../../src/types.ts";
import { cpuMs } from "./cpu-clock.ts";
import { diskBytes } from "./result.ts";
import { mulberry32, type Workload } from "./workload.ts";

/** Operations over a measured interval, in wall-clock and in CPU time. */
export interface TimedRate {
  ops: number;
  ms: number;
  cpuMs: number;
  /** Operations per wall-clock second. */
  perSec: number;
  /** Operations per CPU second of the process. */
  perCpuSec: number;
}

/** What one database's reads came to (median rounds) and what was wrong (must be empty). */
export interface ReadFigures {
  readsLive: TimedRate;
  readsDeleted: TimedRate | null;
  fullScan: TimedRate;
  /** Every round's wall-clock rate, in order, for the progress output. */
  rounds: { live: number[]; deleted: number[]; scan: number[] };
  /** Keys of the data set found by the last scan. */
  liveKeys: number;
  /** Other keys found by the last scan (not checked). */
  otherKeys: number;
  /** Sum of key + value lengths of the data set's keys in the last scan. */
  liveBytes: number;
  /** Every file in the data directory (tables, WAL, manifest), store open. */
  diskBytes: number;
  wrong: string[];
}

const DATA_PREFIX = "user:";
/** Reads or scanned keys per interleaved chunk. */
const CHUNK = 10_000;

/** The round with the median wall-clock rate, and separately the median CPU rate. */
export function medianRate(rates: TimedRate[]): TimedRate {
  const byWall = [...rates].sort((a, b) => a.perSec - b.perSec)[rates.length >> 1];
  const byCpu = [...rates].sort((a, b) => a.perCpuSec - b.perCpuSec)[rates.length >> 1];
  return { ...byWall, cpuMs: byCpu.cpuMs, perCpuSec: byCpu.perCpuSec };
}

class Meter {
  ops = 0;
  ms = 0;
  cpuMs = 0;
  readonly rounds: TimedRate[] = [];

  async time(ops: number, fn: () => Promise<void>): Promise<void> {
    const c0 = cpuMs();
    const t0 = performance.now();
    await fn();
    this.ms += performance.now() - t0;
    this.cpuMs += cpuMs() - c0;
    this.ops += ops;
  }

  endRound(): void {
    const { ops, ms, cpuMs } = this;
    this.rounds.push({ ops, ms, cpuMs, perSec: ms > 0 ? (ops * 1000) / ms : 0, perCpuSec: cpuMs > 0 ? (ops * 1000) / cpuMs : 0 });
    this.ops = this.ms = this.cpuMs = 0;
  }
}

export class ChurnReads {
  /** Record numbers of the live keys, ascending. */
  readonly live: Uint32Array;
  private readonly liveIds: Uint32Array;
  private readonly deadIds: Uint32Array | undefined;
  private readonly expectedBytes: number;
  private readonly liveMeter = new Meter();
  private readonly deadMeter = new Meter();
  private readonly scanMeter = new Meter();
  private badLive = 0;
  private badDead = 0;
  private scanIt: AsyncIterator<[string, Uint8Array]> | undefined;
  private prev = "";
  private userKeys = 0;
  private otherKeys = 0;
  private bytes = 0;
  private misordered = 0;
  private lastScan = { userKeys: 0, otherKeys: 0, bytes: 0, misordered: 0 };

  /** `state[i]`: the value record key i holds, or -1 when deleted; `reads` per read round. */
  constructor(
    private readonly db: Database,
    private readonly dir: string,
    private readonly w: Workload,
    private readonly state: Int32Array,
    reads: number,
    seed: number,
  ) {
    let liveCount = 0;
    for (let i = 0; i < state.length; i++) if (state[i] >= 0) liveCount++;
    this.live = new Uint32Array(liveCount);
    const dead = new Uint32Array(state.length - liveCount);
    let expectedBytes = 0;
    for (let i = 0, a = 0, b = 0; i < state.length; i++) {
      if (state[i] >= 0) {
        this.live[a++] = i;
        expectedBytes += w.keys[i].length + w.value(state[i]).length;
      } else dead[b++] = i;
    }
    this.expectedBytes = expectedBytes;
    this.liveIds = pick(this.live, reads, seed + 2);
    this.deadIds = dead.length > 0 ? pick(dead, reads, seed + 3) : undefined;
  }

  get reads(): number {
    return this.liveIds.length;
  }

  get hasDeleted(): boolean {
    return this.deadIds !== undefined;
  }

  /**
   * Untimed reads and one untimed scan, so the JIT has compiled both paths and the
   * mapped tables' pages are faulted in before the first round.
   */
  async warmUp(seed: number): Promise<void> {
    const ids = pick(this.live, Math.min(this.liveIds.length, 10_000), seed + 1);
    await this.readLive(ids, 0, ids.length);
    for await (const _ of this.db.scan());
  }

  /** Times reads from..to-1 of this round's live keys. */
  liveChunk(from: number, to: number): Promise<void> {
    return this.liveMeter.time(to - from, () => this.readLive(this.liveIds, from, to));
  }

  /** Times reads from..to-1 of this round's deleted keys (none when nothing was deleted). */
  async deadChunk(from: number, to: number): Promise<void> {
    const ids = this.deadIds;
    if (ids) await this.deadMeter.time(to - from, () => this.readDead(ids, from, to));
  }

  /** Times the next `count` keys of this round's full scan; false once the scan is done. */
  async scanChunk(count: number): Promise<boolean> {
    let more = true;
    let n = 0;
    await this.scanMeter.time(0, async () => {
      if (!this.scanIt) {
        this.scanIt = this.db.scan()[Symbol.asyncIterator]();
        this.prev = "";
        this.userKeys = this.otherKeys = this.bytes = this.misordered = 0;
      }
      const it = this.scanIt;
      for (; n < count; n++) {
        const r = await it.next();
        if (r.done) {
          more = false;
          break;
        }
        const [k, v] = r.value;
        if (k <= this.prev) this.misordered++; // keys are ASCII: string order is byte order
        this.prev = k;
        if (k.startsWith(DATA_PREFIX)) {
          this.userKeys++;
          this.bytes += k.length + v.length; // ASCII keys: length = UTF-8 bytes
        } else this.otherKeys++;
      }
    });
    this.scanMeter.ops += n;
    if (!more) {
      this.scanIt = undefined;
      this.lastScan = { userKeys: this.userKeys, otherKeys: this.otherKeys, bytes: this.bytes, misordered: this.misordered };
    }
    return more;
  }

  /** Closes this round: each kind's totals become one round. */
  endRound(): void {
    this.liveMeter.endRound();
    if (this.deadIds) this.deadMeter.endRound();
    this.scanMeter.endRound();
  }

  figures(): ReadFigures {
    const wrong: string[] = [];
    const s = this.lastScan;
    if (this.badLive > 0) wrong.push(`${this.badLive} reads of live keys returned nothing or a value of the wrong length`);
    if (this.badDead > 0) wrong.push(`${this.badDead} reads of deleted keys returned a value`);
    if (s.userKeys !== this.live.length || s.misordered > 0) wrong.push(`full scan: ${s.userKeys} keys (expected ${this.live.length}), ${s.misordered} out of order`);
    if (s.bytes !== this.expectedBytes) wrong.push(`full scan: ${s.bytes} live bytes (expected ${this.expectedBytes})`);
    const perSec = (rs: TimedRate[]): number[] => rs.map((r) => Math.round(r.perSec));
    return {
      readsLive: medianRate(this.liveMeter.rounds),
      readsDeleted: this.deadMeter.rounds.length > 0 ? medianRate(this.deadMeter.rounds) : null,
      fullScan: medianRate(this.scanMeter.rounds),
      rounds: { live: perSec(this.liveMeter.rounds), deleted: perSec(this.deadMeter.rounds), scan: perSec(this.scanMeter.rounds) },
      liveKeys: s.userKeys,
      otherKeys: s.otherKeys,
      liveBytes: s.bytes,
      diskBytes: diskBytes(this.dir),
      wrong,
    };
  }

  private async readLive(ids: Uint32Array, from: number, to: number): Promise<void> {
    const { db, w, state } = this;
    for (let j = from; j < to; j++) {
      const i = ids[j];
      const v = await db.get(w.keys[i]);
      if (v === undefined || v.length !== w.value(state[i]).length) this.badLive++;
    }
  }

  private async readDead(ids: Uint32Array, from: number, to: number): Promise<void> {
    const { db, w } = this;
    for (let j = from; j < to; j++) if ((await db.get(w.keys[ids[j]])) !== undefined) this.badDead++;
  }
}

/**
 * `rounds` rounds over every database: live reads, deleted reads, then full scans, each
 * interleaved across the databases in chunks of {@link CHUNK}. With one database this is
 * simply `rounds` sequential rounds.
 */
export async function measureInterleaved(all: ChurnReads[], rounds: number): Promise<ReadFigures[]> {
  for (let round = 0; round < rounds; round++) {
    for (let from = 0; from < Math.max(...all.map((r) => r.reads)); from += CHUNK) {
      for (const r of all) if (from < r.reads) await r.liveChunk(from, Math.min(r.reads, from + CHUNK));
    }
    for (let from = 0; from < Math.max(...all.map((r) => r.reads)); from += CHUNK) {
      for (const r of all) if (from < r.reads && r.hasDeleted) await r.deadChunk(from, Math.min(r.reads, from + CHUNK));
    }
    let scanning = [...all];
    while (scanning.length > 0) {
      const next: ChurnReads[] = [];
      for (const r of scanning) if (await r.scanChunk(CHUNK)) next.push(r);
      scanning = next;
    }
    for (const r of all) r.endRound();
  }
  return all.map((r) => r.figures());
}

/** `count` seeded picks (repeats allowed) from `from`. */
function pick(from: Uint32Array, count: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const out = new Uint32Array(count);
  for (let j = 0; j < count; j++) out[j] = from[Math.floor(rand() * from.length)];
  return out;
}

/** A one-line summary of every round's wall-clock rates. */
export function describeRounds(f: ReadFigures): string {
  const list = (xs: number[]): string => xs.map((x) => x.toLocaleString("en-US")).join(" / ");
  return (
    `live reads/s ${list(f.rounds.live)}; deleted reads/s ${list(f.rounds.deleted) || "—"}; scan keys/s ${list(f.rounds.scan)}; ` +
    `median per CPU second: ${Math.round(f.readsLive.perCpuSec).toLocaleString("en-US")} / ` +
    `${f.readsDeleted ? Math.round(f.readsDeleted.perCpuSec).toLocaleString("en-US") : "—"} / ${Math.round(f.fullScan.perCpuSec).toLocaleString("en-US")}`
  );
}
