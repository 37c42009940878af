/**
 * @module
 * The index registry at run time: which index generations exist and in which state, the
 * hooks the engine calls (write-path maintenance, compaction cleanup), reconciling the
 * declared definitions with the persisted ones, and the background worker that runs
 * builds and drops in bounded steps while reads and writes go on.
 */
import type { Engine, EngineOp, PrepareBatch, ReadView } from "../engine/engine.ts";
import type { CompactionHook } from "../engine/table_writer.ts";
import { keySuccessor, prefixEnd } from "../engine/coding.ts";
import { KvdbError } from "../engine/errors.ts";
import { type IndexDefinition, definitionKey } from "./definition.ts";
import { IndexInstance, type IndexState } from "./instance.ts";
import { DEFAULT_BLOCK_LIMITS, IndexWriter, type BlockLimits } from "./index_writer.ts";
import { maintainIndexes } from "./maintainer.ts";
import { backfillStep, dropStep, finishBuild } from "./builder.ts";
import { REGISTRY_PREFIX, USER_KEYSPACE_END } from "./keys.ts";
import { collapsePostingRecord } from "./compaction.ts";
import { indexFigures, type IndexFigures } from "./figures.ts";
import { KeyPresence } from "./key_presence.ts";

/** Keys the presence scan adds per snapshot, between yields to the event loop. */
const PRESENCE_SLICE = 5000;

export interface IndexManagerOptions {
  limits?: Partial<BlockLimits>;
  /** Records indexed (or index records deleted) per background step. */
  stepKeys?: number;
}

export interface IndexInfo extends IndexFigures {
  name: string;
  type: IndexDefinition["type"];
  scope_prefix: string;
  extractor: IndexDefinition["extractor"];
  state: IndexState;
  generation: number;
  /** Backfill progress of a building index. */
  progress: { scanned: number; cursor: string | null; started_at: string; ready_at: string | null };
  /** A newer generation being built to replace this one (a rebuild or a changed definition). */
  rebuilding: { generation: number; scanned: number } | null;
  error: string | null;
}

export class IndexManager {
  readonly limits: BlockLimits;
  private readonly stepKeys: number;
  private instances: IndexInstance[] = [];
  private engine: Engine | undefined;
  private worker: Promise<void> | undefined;
  private stopped = false;
  /** Size figures of large indexes, reused for a moment (they read every index record). */
  private readonly figuresCache = new Map<IndexInstance, { seq: number; at: number; ms: number; figures: IndexFigures }>();

  constructor(options: IndexManagerOptions = {}) {
    this.limits = {
      blockEntries: options.limits?.blockEntries ?? DEFAULT_BLOCK_LIMITS.blockEntries,
      blockBytes: options.limits?.blockBytes ?? DEFAULT_BLOCK_LIMITS.blockBytes,
    };
    this.stepKeys = options.stepKeys ?? 1000;
  }

  /** Every user key that may have a record, while any index exists (see key_presence.ts). */
  readonly presence = new KeyPresence();
  /** The running scan that fills `presence`, and which start it belongs to. */
  private presenceScan: Promise<void> | undefined;
  private presenceRun = 0;

  /** The engine's write-path hook: index changes join each batch. */
  readonly prepare: PrepareBatch = (ops, reader) => {
    const live = this.instances.filter((i) => i.state !== "dropping");
    return maintainIndexes(live, ops, reader, this.limits, this.presence);
  };

  /** The engine's compaction hook: collapses posting blocks as they are rewritten. */
  readonly compactionHook: CompactionHook = (key, value) => (key[0] === 0xff ? collapsePostingRecord(key, value) : value);

  /** Reads the persisted registry and resumes unfinished builds and drops. */
  attach(engine: Engine): void {
    this.engine = engine;
    const view = engine.readView();
    try {
      const it = view.iterator(REGISTRY_PREFIX, prefixEnd(REGISTRY_PREFIX));
      for (it.seekToFirst(); it.valid(); it.next()) this.instances.push(IndexInstance.decodeRecord(it.value(), "index registry"));
    } finally {
      view.release();
    }
    this.kick();
  }

  /**
   * Makes the registry match `definitions`: new or changed indexes are built online (a
   * changed one keeps answering from its previous generation until the new one is
   * ready), removed ones are dropped in the background, unchanged ones are untouched.
   */
  async reconcile(definitions: readonly IndexDefinition[]): Promise<void> {
    const engine = this.requireEngine();
    const wanted = new Map(definitions.map((d) => [d.name, d]));
    const writes: IndexInstance[] = [];
    for (const inst of this.instances) {
      const def = wanted.get(inst.name);
      if (inst.state !== "dropping" && (!def || definitionKey(def) !== inst.key)) {
        // Removed: drop now. Changed: the ready generation stays until its successor is ready.
        if (!def || inst.state === "building") {
          inst.state = "dropping";
          inst.committingState = undefined;
          writes.push(inst);
        }
      }
    }
    for (const def of definitions) {
      const current = this.instances.filter((i) => i.name === def.name && i.state !== "dropping");
      if (current.some((i) => i.key === definitionKey(def))) continue;
      const inst = new IndexInstance(def, this.nextGeneration(def.name));
      this.instances.push(inst);
      writes.push(inst);
    }
    if (writes.length > 0) await engine.write(writes.map(recordOp));
    this.kick();
  }

  /** Builds a fresh generation of `name` online; the current one answers queries until it is ready. */
  async rebuild(name: string): Promise<IndexInfo> {
    const engine = this.requireEngine();
    const current = this.instances.filter((i) => i.name === name && i.state !== "dropping");
    if (current.length === 0) throw new KvdbError("NOT_FOUND", `no index named ${JSON.stringify(name)}`);
    const ops: EngineOp[] = [];
    for (const inst of current) {
      if (inst.state === "building") {
        inst.state = "dropping";
        inst.committingState = undefined;
        ops.push(recordOp(inst));
      }
    }
    const inst = new IndexInstance(current[0].definition, this.nextGeneration(name));
    this.instances.push(inst);
    ops.push(recordOp(inst));
    await engine.write(ops);
    this.kick();
    return this.info(name)!;
  }

  private nextGeneration(name: string): number {
    return this.instances.filter((i) => i.name === name).reduce((g, i) => Math.max(g, i.generation), 0) + 1;
  }

  /** The ready generation of each index: what the query planner may read. */
  readyIndexes(): IndexInstance[] {
    return this.instances.filter((i) => i.state === "ready");
  }

  /** Every declared index, including those still building (the planner explains why it skips them). */
  declaredIndexes(): IndexInstance[] {
    const byName = new Map<string, IndexInstance>();
    for (const i of this.instances) {
      if (i.state === "dropping") continue;
      const seen = byName.get(i.name);
      if (!seen || (seen.state !== "ready" && i.state === "ready")) byName.set(i.name, i);
    }
    return [...byName.values()];
  }

  names(): string[] {
    return this.declaredIndexes().map((i) => i.name);
  }

  info(name: string): IndexInfo | undefined {
    const inst = this.declaredIndexes().find((i) => i.name === name);
    if (!inst) return undefined;
    const successor = this.instances.find((i) => i.name === name && i.state === "building" && i !== inst);
    const view = this.requireEngine().readView();
    try {
      return {
        name: inst.name,
        type: inst.definition.type,
        scope_prefix: inst.definition.scope_prefix,
        extractor: inst.definition.extractor,
        state: inst.state,
        generation: inst.generation,
        progress: {
          scanned: inst.scanned,
          cursor: inst.state === "building" && inst.cursor ? new TextDecoder().decode(inst.cursor) : null,
          started_at: inst.startedAt,
          ready_at: inst.readyAt,
        },
        rebuilding: successor ? { generation: successor.generation, scanned: successor.scanned } : null,
        error: (successor ?? inst).error,
        ...this.figures(inst, view),
      };
    } finally {
      view.release();
    }
  }

  list(): IndexInfo[] {
    return this.names().map((n) => this.info(n)!);
  }

  /**
   * Figures are recomputed when the data changed, except that an index whose figures
   * took long to compute (a large range index has one record per entry) reuses them for
   * up to 2 s, so frequent /stats, /metrics or progress polls stay cheap.
   */
  private figures(inst: IndexInstance, view: ReadView): IndexFigures {
    const cached = this.figuresCache.get(inst);
    const now = performance.now();
    if (cached && (cached.seq === view.seq || (cached.ms > 50 && now - cached.at < 2000))) return cached.figures;
    const figures = indexFigures(inst, view);
    this.figuresCache.set(inst, { seq: view.seq, at: now, ms: performance.now() - now, figures });
    return figures;
  }

  /** Resolves when no build, drop or key-filter scan is pending (tests, the CLI's rebuild); rejects if a build failed. */
  async idle(): Promise<void> {
    while (this.worker || this.presenceScan) await (this.worker ?? this.presenceScan);
    const failed = this.instances.find((i) => i.error !== null);
    if (failed) throw new KvdbError("IO_ERROR", `index ${JSON.stringify(failed.name)}: ${failed.error}`);
  }

  /** Stops the background worker after its current step. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.worker) await this.worker;
    while (this.presenceScan) await this.presenceScan;
  }

  private kick(): void {
    this.syncPresence();
    if (this.worker || this.stopped || !this.engine) return;
    this.worker = this.work().finally(() => {
      this.worker = undefined;
    });
  }

  private async work(): Promise<void> {
    const engine = this.requireEngine();
    for (;;) {
      if (this.stopped || engine.isClosed) return;
      // A job that failed waits for a rebuild or reload (which create a new generation).
      const job = this.instances.find((i) => i.state === "building" && i.error === null) ?? this.instances.find((i) => i.state === "dropping" && i.error === null);
      if (!job) return;
      try {
        if (job.state === "building") {
          let finished: IndexInstance[] | undefined;
          await engine.writeWith((view) => {
            // Decided when the step runs, not when it was queued: a reload or rebuild
            // in between may have retired this generation.
            if (job.state !== "building") return [];
            const retire = this.instances.filter((i) => i.name === job.name && i !== job && i.state === "ready");
            const step = backfillStep(job, view, this.limits, this.stepKeys, retire);
            if (step.done) finished = retire;
            return step.ops;
          });
          // Committed: the postings are readable, so queries may switch now.
          if (finished) finishBuild(job, finished);
        } else {
          let done = false;
          await engine.writeWith((view) => {
            const step = dropStep(job, view, this.stepKeys);
            done = step.done;
            return step.ops;
          });
          if (done) {
            this.instances = this.instances.filter((i) => i !== job);
            this.figuresCache.delete(job);
            this.syncPresence();
          }
        }
      } catch (e) {
        if (this.stopped || engine.isClosed) return;
        job.error = e instanceof Error ? e.message : String(e);
        continue;
      }
      // Let requests in between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Key presence is kept while any index is maintained (not dropping): started (with its scan) or stopped to match. */
  private syncPresence(): void {
    if (!this.instances.some((i) => i.state !== "dropping")) {
      if (this.presence.recording) {
        this.presenceRun++;
        this.presence.stop();
      }
      return;
    }
    if (this.presence.recording || this.presenceScan || this.stopped || !this.engine) return;
    const run = ++this.presenceRun;
    this.presenceScan = this.scanPresence(this.engine, run)
      .catch(() => {
        // A scan that failed (a damaged table, the database closing) leaves the filter
        // off: previous values are then read, as without it.
        if (run === this.presenceRun) this.presence.stop();
      })
      .finally(() => {
        this.presenceScan = undefined;
        // Superseded (the indexes went away while it ran, and may be back): start over if
        // one is needed. A scan that failed is not retried until the next open.
        if (run !== this.presenceRun) this.syncPresence();
      });
  }

  /**
   * Starts `presence` and fills it with every key that existed at that moment. The start
   * and the first snapshot happen inside the serialized write path (a `writeWith` that
   * writes nothing): every batch prepared later records its keys, every batch committed
   * earlier is in the snapshot.
   *
   * The scan goes on in slices, each through a fresh snapshot from the key after the last
   * one, so that it pins no table for long (compactions may delete the files they
   * replaced). A later snapshot still holds every key of the first that still exists;
   * one deleted meanwhile needs no entry, and one written again was recorded by the write
   * path.
   */
  private async scanPresence(engine: Engine, run: number): Promise<void> {
    let view: ReadView | undefined;
    await engine.writeWith(() => {
      const state = engine.snapshotState();
      const entries = state.levels.reduce((n, level) => level.reduce((m, f) => m + f.entries, n), state.activeEntries);
      this.presence.start(entries);
      view = engine.readView();
      return [];
    });
    let lower: Uint8Array = new Uint8Array(0);
    while (view) {
      let done: boolean;
      try {
        const it = view.iterator(lower, USER_KEYSPACE_END);
        let last: Uint8Array | undefined;
        let n = 0;
        for (it.seekToFirst(); it.valid() && n < PRESENCE_SLICE; it.next(), n++) {
          last = it.key();
          this.presence.add(last);
        }
        done = !it.valid();
        if (last) lower = keySuccessor(last);
      } finally {
        view.release();
        view = undefined;
      }
      if (done) break;
      await new Promise((resolve) => setImmediate(resolve));
      if (run !== this.presenceRun || this.stopped || engine.isClosed) return;
      view = engine.readView();
    }
    if (run === this.presenceRun) this.presence.markReady();
  }

  private requireEngine(): Engine {
    if (!this.engine) throw new KvdbError("CLOSED", "the index manager is not attached to a database");
    return this.engine;
  }
}

function recordOp(inst: IndexInstance): EngineOp {
  const w = new IndexWriter({ get: () => undefined }, DEFAULT_BLOCK_LIMITS);
  w.put(inst.recordKey, inst.encodeRecord());
  return w.finish()[0];
}
