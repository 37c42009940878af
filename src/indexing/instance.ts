/**
 * @module
 * One generation of one declared index, as the write path and the planner see it, and
 * its persisted registry record.
 *
 * States (FoundationDB Record Layer's index states): `building` — new writes maintain
 * it for keys the backfill has already passed, the backfill walks the scope in key
 * order with its progress persisted, queries never read it; `ready` — complete and
 * maintained; `dropping` — replaced or removed, its records are being deleted in the
 * background. A rebuild or a changed definition builds a new generation next to the
 * ready one and swaps them in one atomic batch.
 */
import { compareBytes, utf8 } from "../engine/coding.ts";
import { KvdbError } from "../engine/errors.ts";
import { compileExtractor, type Extractor } from "./extractor.ts";
import { definitionKey, type IndexDefinition } from "./definition.ts";
import { indexPrefix, registryKey } from "./keys.ts";

export type IndexState = "building" | "ready" | "dropping";

/** The JSON stored in the registry record. */
export interface IndexRecord {
  definition: IndexDefinition;
  generation: number;
  state: IndexState;
  /** Base64 of the last key the backfill indexed; null before the first step. */
  cursor: string | null;
  /** Records the backfill has examined so far. */
  scanned: number;
  startedAt: string;
  readyAt: string | null;
  /**
   * True once any record of this generation held more than one value (an array field),
   * until a rebuild. Absent in records written before the flag existed: read as true.
   */
  multikey?: boolean;
}

export class IndexInstance {
  readonly name: string;
  readonly key: string;
  readonly extract: Extractor;
  readonly dataPrefix: Uint8Array;
  readonly recordKey: Uint8Array;
  readonly scope: Uint8Array;
  state: IndexState;
  cursor: Uint8Array | null;
  scanned: number;
  startedAt: string;
  readyAt: string | null;
  /** See IndexRecord.multikey: while false, every record has at most one value in this index. */
  multikey: boolean;
  /** The backfill has passed every key: writes maintain all of them (the state turns ready once that batch is committed). */
  backfilled = false;
  /** A state already written to the registry record but not yet visible to queries (see finishBuild). */
  committingState: IndexState | undefined;
  /** Why the last build or drop step failed (not persisted: a restart retries). */
  error: string | null = null;

  constructor(
    readonly definition: IndexDefinition,
    readonly generation: number,
    record?: IndexRecord,
  ) {
    this.name = definition.name;
    this.key = definitionKey(definition);
    this.extract = compileExtractor(definition.extractor);
    this.dataPrefix = indexPrefix(definition.name, generation);
    this.recordKey = registryKey(definition.name, generation);
    this.scope = utf8(definition.scope_prefix);
    this.state = record?.state ?? "building";
    this.cursor = record?.cursor ? new Uint8Array(Buffer.from(record.cursor, "base64")) : null;
    this.scanned = record?.scanned ?? 0;
    this.startedAt = record?.startedAt ?? new Date().toISOString();
    this.readyAt = record?.readyAt ?? null;
    this.multikey = record ? (record.multikey ?? true) : false;
  }

  /** Whether the record under `key` belongs to this index (its scope). */
  inScope(key: Uint8Array): boolean {
    const s = this.scope;
    if (key.length < s.length) return false;
    for (let i = 0; i < s.length; i++) if (key[i] !== s[i]) return false;
    return true;
  }

  /**
   * Whether a write to `key` must update this index now: always when ready; while
   * building, only for keys the backfill has passed (the backfill indexes the others
   * when it reaches them, reading their value at that time).
   */
  maintains(key: Uint8Array): boolean {
    if (this.state === "ready" || (this.state === "building" && this.backfilled)) return true;
    if (this.state !== "building" || this.cursor === null) return false;
    return compareBytes(key, this.cursor) <= 0;
  }

  /** The persisted record: its state runs ahead of the in-memory one while a state change commits. */
  record(state: IndexState = this.committingState ?? this.state): IndexRecord {
    return {
      definition: this.definition,
      generation: this.generation,
      state,
      cursor: this.cursor ? Buffer.from(this.cursor).toString("base64") : null,
      scanned: this.scanned,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      multikey: this.multikey,
    };
  }

  encodeRecord(state?: IndexState): Uint8Array {
    return utf8(JSON.stringify(this.record(state)));
  }

  static decodeRecord(bytes: Uint8Array, where: string): IndexInstance {
    let record: IndexRecord;
    try {
      record = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as IndexRecord;
    } catch (e) {
      throw new KvdbError("CORRUPTION", `${where}: unreadable index registry record: ${(e as Error).message}`);
    }
    return new IndexInstance(record.definition, record.generation, record);
  }
}
