/**
 * @module
 * The crash loop's expected-state oracle (after RocksDB's `db_crashtest` expected state).
 *
 * Per key it tracks the last *acknowledged* value (a 2xx was received) and the write in
 * flight, if any (sent, no answer yet). The workload guarantees at most one write in
 * flight per key: each client owns its keys and waits for each answer before sending
 * again, so the order of acknowledgements is the order of application. After a crash a
 * key must therefore hold its last acknowledged value or the value of the write that was
 * in flight when the server died; anything else is a lost write (the acknowledged value is
 * gone) or a mismatch (a value nobody wrote).
 *
 * A batch is one write over several keys; its values all carry the batch's id, so after
 * a crash every key of an in-flight batch must show the batch (its value, or absence for
 * a delete) or every key must show its previous acknowledged state — never a mix.
 *
 * `null` stands for "absent" (deleted or never written).
 */

export type Expected = string | null;

interface InFlight {
  readonly value: Expected;
  /** The batch the write belongs to, if any. */
  readonly batch?: number;
}

interface KeyState {
  acked: Expected;
  inFlight?: InFlight;
}

/** One write about to be sent: the keys it changes and their new values. */
export interface PendingWrite {
  readonly ops: ReadonlyArray<{ key: string; value: Expected }>;
  readonly batch?: number;
}

export type ViolationKind = "lost" | "mismatch" | "unexpected_key" | "batch_torn";

export interface Violation {
  kind: ViolationKind;
  key: string;
  detail: string;
}

export interface VerifyFigures {
  /** Keys compared with their expected state. */
  keysChecked: number;
  /** Keys whose last acknowledged write was checked (keys ever acknowledged). */
  ackedKeysChecked: number;
  /** Writes in flight at the crash that turned out applied / not applied. */
  inFlightApplied: number;
  inFlightNotApplied: number;
  /** In-flight batches checked for atomicity. */
  batchesChecked: number;
  violations: Violation[];
}

const show = (v: Expected | undefined): string => (v === null || v === undefined ? "<absent>" : JSON.stringify(v.length > 120 ? v.slice(0, 120) + "…" : v));

export class ExpectedState {
  private readonly keys = new Map<string, KeyState>();
  /** Keys whose state was ever established: by an acknowledged write or by a verification. */
  private readonly known = new Set<string>();
  /** Total acknowledged write operations (a batch counts each of its ops). */
  acknowledgedOps = 0;
  acknowledgedBatches = 0;

  /** Records a write as in flight, just before it is sent. */
  begin(write: PendingWrite): void {
    for (const { key, value } of write.ops) {
      const state = this.state(key);
      if (state.inFlight) throw new Error(`workload bug: two writes in flight on ${key}`);
      state.inFlight = { value, batch: write.batch };
    }
  }

  /** The write was acknowledged (2xx): its values become the expected ones. */
  ack(write: PendingWrite): void {
    for (const { key, value } of write.ops) {
      const state = this.state(key);
      state.acked = value;
      state.inFlight = undefined;
      this.known.add(key);
    }
    this.acknowledgedOps += write.ops.length;
    if (write.batch !== undefined) this.acknowledgedBatches++;
  }

  /** The write was answered with an error status: it must have changed nothing. */
  reject(write: PendingWrite): void {
    for (const { key } of write.ops) this.state(key).inFlight = undefined;
  }

  /** The acknowledged value of `key` (no write may be in flight on it: the caller owns it). */
  acked(key: string): Expected {
    return this.keys.get(key)?.acked ?? null;
  }

  /** Keys ever written (acknowledged or in flight). */
  keyList(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Compares what the restarted server holds (`observed`: every key of the keyspace) with
   * the expected state, then adopts it: in-flight writes are resolved as applied or not.
   */
  verify(observed: ReadonlyMap<string, string>): VerifyFigures {
    const figures: VerifyFigures = { keysChecked: 0, ackedKeysChecked: 0, inFlightApplied: 0, inFlightNotApplied: 0, batchesChecked: 0, violations: [] };
    const fail = (kind: ViolationKind, key: string, detail: string) => figures.violations.push({ kind, key, detail });
    for (const key of observed.keys()) {
      if (!this.keys.has(key)) fail("unexpected_key", key, `present with ${show(observed.get(key))} but never written`);
    }
    // batch id → whether each of its keys shows the batch's effect.
    const batches = new Map<number, { applied: string[]; notApplied: string[] }>();
    for (const [key, state] of this.keys) {
      figures.keysChecked++;
      const got = observed.get(key) ?? null;
      const wasAcked = this.known.has(key);
      if (wasAcked) figures.ackedKeysChecked++;
      const flight = state.inFlight;
      if (got === state.acked && !(flight && flight.value === got)) {
        if (flight) {
          figures.inFlightNotApplied++;
          if (flight.batch !== undefined) this.batchEntry(batches, flight.batch).notApplied.push(key);
        }
      } else if (flight && got === flight.value) {
        // Applied (when the in-flight value equals the acknowledged one, the two are indistinguishable).
        figures.inFlightApplied++;
        if (flight.batch !== undefined && got !== state.acked) this.batchEntry(batches, flight.batch).applied.push(key);
      } else {
        const allowed = flight ? `${show(state.acked)} (acknowledged) or ${show(flight.value)} (in flight)` : `${show(state.acked)} (acknowledged)`;
        // The acknowledged value is gone: a lost write if it was ever acknowledged, else a value nobody wrote.
        fail(wasAcked ? "lost" : "mismatch", key, `holds ${show(got)}, expected ${allowed}`);
      }
      state.acked = got;
      state.inFlight = undefined;
      this.known.add(key);
    }
    for (const [id, { applied, notApplied }] of batches) {
      figures.batchesChecked++;
      if (applied.length > 0 && notApplied.length > 0) {
        fail("batch_torn", applied[0], `batch ${id} is partly applied: applied on ${applied.join(", ")}; not on ${notApplied.join(", ")}`);
      }
    }
    return figures;
  }

  private batchEntry(batches: Map<number, { applied: string[]; notApplied: string[] }>, id: number) {
    let entry = batches.get(id);
    if (!entry) batches.set(id, (entry = { applied: [], notApplied: [] }));
    return entry;
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { acked: null }));
    return state;
  }
}
