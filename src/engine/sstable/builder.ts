/**
 * @module
 * Writes an SSTable from entries given in internal order (key asc, seq desc).
 *
 * Data blocks are cut at about `blockSize` bytes, but only between two different user
 * keys: all versions of one key live in one block, so a point lookup reads exactly one
 * block and the index can name each block by its last user key. Index entries are
 * (last user key of the block, seq 0, kind put, value = varint offset + varint size of
 * the block) in the ordinary block format with restart interval 1.
 * Output is buffered and handed to the file in chunks of about 64 KiB. The layout of the
 * whole file is described in format.ts and docs/FORMAT.md.
 */
import { ByteWriter, compareBytes } from "../coding.ts";
import { KvdbError } from "../errors.ts";
import type { WritableFile } from "../fs.ts";
import { KIND_DELETE, KIND_PUT, type Kind } from "../iterator.ts";
import { BlockBuilder } from "./block_builder.ts";
import { BloomFilterBuilder } from "./bloom.ts";
import { BLOCK_TRAILER_SIZE, type BlockHandle, encodeFooter, encodeHandle, writeBlock } from "./format.ts";
import { encodeProperties, type TableProperties } from "./properties.ts";

export type { TableProperties } from "./properties.ts";

export interface TableBuilderOptions {
  /** Target size of a data block in bytes. Default 4096. */
  blockSize?: number;
  /** Entries between restart points in data blocks. Default 16. */
  restartInterval?: number;
  /** Bloom filter bits per distinct key. Default 10 (about 1% false positives). */
  bloomBitsPerKey?: number;
}

const OUTPUT_CHUNK = 64 * 1024;
const EMPTY = new Uint8Array(0);

function invalid(message: string): KvdbError {
  return new KvdbError("INVALID_ARGUMENT", message);
}

function positiveInteger(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw invalid(`${name} must be a positive integer, got ${v}`);
  return v;
}

export class TableBuilder {
  private readonly blockSize: number;
  private readonly dataBlock: BlockBuilder;
  private readonly indexBlock = new BlockBuilder(1);
  private readonly bloom: BloomFilterBuilder;
  private readonly handleBytes = new ByteWriter(32);
  private out = new ByteWriter(2 * OUTPUT_CHUNK);
  /** Bytes emitted so far: handed to the file plus buffered in `out`. */
  private offset = 0;
  private state: "open" | "finished" | "abandoned" | "failed" = "open";

  /** Private copy of the current user key (the caller may reuse its buffers). */
  private lastKey: Uint8Array = EMPTY;
  private lastSeq = 0;
  private count = 0;
  private distinctKeys = 0;
  private tombstones = 0;
  private minSeq = Number.MAX_SAFE_INTEGER;
  private maxSeq = 0;
  private rawKeyBytes = 0;
  private rawValueBytes = 0;
  private dataBlocks = 0;
  private dataBytes = 0;
  private smallest: Uint8Array = EMPTY;

  /** `file` must be empty: block offsets are positions in it. */
  constructor(
    private readonly file: WritableFile,
    options: TableBuilderOptions = {},
  ) {
    if (file.size !== 0) throw invalid(`TableBuilder needs an empty file, ${file.path} has ${file.size} bytes`);
    this.blockSize = positiveInteger("blockSize", options.blockSize, 4096);
    this.dataBlock = new BlockBuilder(positiveInteger("restartInterval", options.restartInterval, 16));
    this.bloom = new BloomFilterBuilder(options.bloomBitsPerKey ?? 10);
  }

  /** Entries added so far. */
  get entryCount(): number {
    return this.count;
  }

  /** Size of the file if finished now, not counting filter, index and footer; exact after `finish()`. */
  get estimatedSize(): number {
    return this.state === "finished" ? this.offset : this.offset + (this.dataBlock.isEmpty ? 0 : this.dataBlock.sizeEstimate);
  }

  /** Adds one entry; it must sort strictly after the previous one (key asc, then seq desc). */
  add(key: Uint8Array, seq: number, kind: Kind, value: Uint8Array): void {
    this.checkOpen();
    if (!(key instanceof Uint8Array) || !(value instanceof Uint8Array)) throw invalid("key and value must be Uint8Array");
    if (!Number.isSafeInteger(seq) || seq < 0) throw invalid(`bad sequence number ${seq}`);
    if (kind !== KIND_PUT && kind !== KIND_DELETE) throw invalid(`bad entry kind ${kind}`);

    const c = this.count === 0 ? 1 : compareBytes(key, this.lastKey);
    if (c < 0 || (c === 0 && seq >= this.lastSeq)) {
      throw invalid(`entries must be added in internal order (key ascending, seq descending); got seq ${seq} after ${this.lastSeq}`);
    }
    if (c > 0) {
      // A new user key: the only place a block may end.
      if (!this.dataBlock.isEmpty && this.dataBlock.sizeEstimate >= this.blockSize) this.flushDataBlock();
      const last = this.lastKey;
      if (last.length === key.length && last !== this.smallest) {
        // Reuse the previous key's buffer (keys often have one length): no allocation per key.
        if (key.length > 32) last.set(key);
        else for (let i = 0; i < key.length; i++) last[i] = key[i];
      } else {
        this.lastKey = key.slice();
      }
      if (this.count === 0) this.smallest = this.lastKey;
      this.bloom.addKey(key);
      this.distinctKeys++;
    }
    this.dataBlock.add(key, seq, kind, value);
    this.lastSeq = seq;
    this.count++;
    if (kind === KIND_DELETE) this.tombstones++;
    if (seq < this.minSeq) this.minSeq = seq;
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.rawKeyBytes += key.length;
    this.rawValueBytes += value.length;
  }

  /**
   * Writes the last data block, the filter, properties and index blocks and the footer
   * through `file.append`. Does not sync or close the file: the caller does.
   */
  finish(): TableProperties {
    this.checkOpen();
    try {
      if (!this.dataBlock.isEmpty) this.flushDataBlock();
      const filter = this.writeBlock(this.bloom.finish());
      const empty = this.count === 0;
      const props: TableProperties = {
        entryCount: this.count,
        distinctKeyCount: this.distinctKeys,
        tombstoneCount: this.tombstones,
        smallest: this.smallest,
        largest: this.lastKey,
        minSeq: empty ? 0 : this.minSeq,
        maxSeq: this.maxSeq,
        rawKeyBytes: this.rawKeyBytes,
        rawValueBytes: this.rawValueBytes,
        dataBlockCount: this.dataBlocks,
        dataBytes: this.dataBytes,
      };
      const properties = this.writeBlock(encodeProperties(props));
      const index = this.writeBlock(this.indexBlock.finish());
      const footer = encodeFooter({ filter, properties, index });
      this.out.bytes(footer);
      this.offset += footer.length;
      this.emit();
      this.state = "finished";
      return props;
    } catch (e) {
      this.state = "failed";
      throw e;
    }
  }

  /** Gives up on the table: drops buffered output. The caller closes and removes the file. */
  abandon(): void {
    this.state = "abandoned";
    this.out = new ByteWriter(0);
  }

  private checkOpen(): void {
    if (this.state !== "open") throw invalid(`TableBuilder for ${this.file.path} is ${this.state}`);
  }

  private writeBlock(contents: Uint8Array): BlockHandle {
    const handle = { offset: this.offset, size: contents.length };
    writeBlock(this.out, contents);
    this.offset += contents.length + BLOCK_TRAILER_SIZE;
    return handle;
  }

  private flushDataBlock(): void {
    const handle = this.writeBlock(this.dataBlock.finish());
    this.dataBlock.reset();
    this.dataBlocks++;
    this.dataBytes += handle.size + BLOCK_TRAILER_SIZE;
    this.handleBytes.reset();
    encodeHandle(this.handleBytes, handle);
    this.indexBlock.add(this.lastKey, 0, KIND_PUT, this.handleBytes.written());
    if (this.out.length >= OUTPUT_CHUNK) {
      try {
        this.emit();
      } catch (e) {
        this.state = "failed";
        throw e;
      }
    }
  }

  /**
   * Hands buffered output to the file as a copy of exactly the bytes written (the file
   * may keep the chunk) and reuses the buffer: a fresh, zeroed 128 KiB buffer per chunk
   * cost more than the copy, mostly in garbage collections it triggered.
   */
  private emit(): void {
    if (this.out.length === 0) return;
    const chunk = this.out.finish();
    this.out.reset();
    this.file.append(chunk);
  }
}
