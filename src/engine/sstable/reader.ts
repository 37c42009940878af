/**
 * @module
 * Opens an SSTable (format in format.ts and docs/FORMAT.md) through a read-only memory
 * mapping and answers point lookups and iterators over it.
 *
 * Opening reads and checks the footer, then the index, properties and filter blocks
 * (CRC and structure). A data block's CRC is checked the first time the block is used
 * (the mapping is private and the file immutable, so once is enough); a corrupt block
 * makes reads that need it throw CORRUPTION while other blocks stay readable.
 * `verify()` rechecks everything, for `kvdb check`.
 */
import { ByteReader, DecodeError, compareBytes } from "../coding.ts";
import { corruption } from "../errors.ts";
import type { FileSystem } from "../fs.ts";
import { Block, DecodedBlock, type PointEntry } from "./block.ts";
import { BlockIndex } from "./block_index.ts";
import { bloomMayContain } from "./bloom.ts";
import { BLOCK_TRAILER_SIZE, FOOTER_SIZE, type Footer, decodeFooter, readBlock } from "./format.ts";
import { type TableProperties, decodeProperties } from "./properties.ts";
import { TableIterator } from "./table_iterator.ts";

const EMPTY_BLOCK = new Uint8Array(4); // a valid empty block: no entries, 0 restart points

export class TableReader {
  readonly fileSize: number;
  readonly properties: TableProperties;

  private readonly footer: Footer;
  private readonly filter: Uint8Array;
  /** Data blocks must end here (the filter block follows them). */
  private readonly dataEnd: number;
  /** Per data block: its last user key and its handle. */
  private readonly index: BlockIndex;
  /** 1 once a data block's CRC has been checked. */
  private readonly verified: Uint8Array;
  /** Re-targeted at each block a point lookup or an iterator decodes (all synchronous). */
  private readonly scratch: Block;

  /**
   * Maps and opens the table at `path`. An empty, short or otherwise malformed file
   * throws CORRUPTION naming the file and the offset.
   */
  static open(fs: FileSystem, path: string): TableReader {
    const size = fs.size(path);
    // Bun.mmap throws on an empty file, and no table is shorter than its footer.
    if (size < FOOTER_SIZE) throw corruption(path, `file of ${size} bytes is shorter than the ${FOOTER_SIZE}-byte table footer`, 0);
    return new TableReader(path, fs.map(path));
  }

  /** Opens a table from its bytes (normally a mapping); `path` names it in errors. */
  constructor(
    readonly path: string,
    private readonly file: Uint8Array,
  ) {
    this.fileSize = file.length;
    this.footer = decodeFooter(file, path);
    const footerAt = file.length - FOOTER_SIZE;
    const f = this.footer;
    this.dataEnd = f.filter.offset;

    const indexContents = readBlock(file, path, f.index, footerAt, "index");
    const propsContents = readBlock(file, path, f.properties, footerAt, "properties");
    this.filter = readBlock(file, path, f.filter, footerAt, "filter");
    this.properties = decodeProperties(propsContents, path, f.properties.offset);
    this.index = this.loadIndex(new Block(indexContents, path, f.index.offset, "index"));
    if (this.index.count !== this.properties.dataBlockCount) {
      throw corruption(path, `index lists ${this.index.count} data blocks, properties say ${this.properties.dataBlockCount}`, f.index.offset);
    }
    this.verified = new Uint8Array(this.index.count);
    this.scratch = new Block(EMPTY_BLOCK, path, 0, "data");
  }

  private loadIndex(block: Block): BlockIndex {
    const entries = new DecodedBlock();
    block.decodeInto(entries);
    const lastKeys: Uint8Array[] = [];
    const offsets: number[] = [];
    const sizes: number[] = [];
    let end = 0;
    for (let i = 0; i < entries.count; i++) {
      const key = entries.keys[i];
      const at = this.footer.index.offset + entries.valueStarts[i];
      if (i > 0 && compareBytes(lastKeys[i - 1], key) >= 0) throw corruption(this.path, "index keys out of order", at);
      let offset: number;
      let size: number;
      try {
        const r = new ByteReader(entries.data, entries.valueStarts[i], entries.valueEnds[i]);
        offset = r.varint("block offset");
        size = r.varint("block size");
      } catch (e) {
        if (e instanceof DecodeError) throw corruption(this.path, `bad block handle in index: ${e.message}`, at);
        throw e;
      }
      // Data blocks come in order, without overlap, before the filter block.
      if (offset < end || offset + size + BLOCK_TRAILER_SIZE > this.dataEnd) {
        throw corruption(this.path, `index entry points outside the data area (block at ${offset}, size ${size})`, at);
      }
      end = offset + size + BLOCK_TRAILER_SIZE;
      lastKeys.push(key);
      offsets.push(offset);
      sizes.push(size);
    }
    return new BlockIndex(lastKeys, offsets, sizes);
  }

  /** Point lookups the Bloom filter answered without reading a block. */
  bloomNegatives = 0;

  /** Number of data blocks. */
  get blockCount(): number {
    return this.index.count;
  }

  /** False if the table certainly holds no version of `key` (Bloom filter). */
  mayContain(key: Uint8Array): boolean {
    return bloomMayContain(this.filter, key);
  }

  /**
   * The newest version of `key` with seq <= `snapshotSeq`, tombstones included (the
   * caller interprets `kind`), or undefined. `value` is a view into the mapped file.
   * `hash`: the key's `bloomHash`, when the caller computed it already.
   */
  get(key: Uint8Array, snapshotSeq: number, hash?: number): PointEntry | undefined {
    if (!bloomMayContain(this.filter, key, hash)) {
      this.bloomNegatives++;
      return undefined;
    }
    const i = this.index.find(key);
    if (i >= this.index.count) return undefined;
    const block = this.block(i);
    const at = block.find(key, snapshotSeq);
    if (at < 0) return undefined;
    return { seq: block.foundSeq, kind: block.foundKind, value: this.file.subarray(at, at + block.foundValueLength) };
  }

  /** An iterator over all entries in internal order; starts unpositioned. */
  iterator(): TableIterator {
    return new TableIterator(this);
  }

  /** Index of the first data block whose last key is >= `key` (blockCount if none). */
  findBlock(key: Uint8Array): number {
    return this.index.find(key);
  }

  /**
   * Decodes the i-th data block (CRC-checked on first use) into `out`, from restart point
   * `fromRestart` up to `toRestart` (see Block.decodeInto); values point into the file.
   */
  decodeBlock(i: number, out: DecodedBlock, fromRestart = 0, toRestart = Infinity): void {
    this.block(i).decodeInto(out, fromRestart, toRestart);
  }

  /** Number of restart points of the i-th data block. */
  restartCount(i: number): number {
    return this.block(i).restartCount;
  }

  /** Decodes the i-th data block's last restart interval into `out`. */
  decodeBlockTail(i: number, out: DecodedBlock): void {
    const b = this.block(i);
    b.decodeInto(out, Math.max(0, b.restartCount - 1));
  }

  /** Decodes the i-th data block into `out` from the last restart point before `target`. */
  decodeBlockAround(i: number, out: DecodedBlock, target: Uint8Array): void {
    const b = this.block(i);
    b.decodeInto(out, b.restartBefore(target));
  }

  /** The reader's scratch Block re-targeted at the i-th data block. */
  private block(i: number): Block {
    this.checkBlock(i);
    const offset = this.index.offset(i);
    return this.scratch.reset(this.file, offset, offset + this.index.size(i), offset);
  }

  private checkBlock(i: number): void {
    if (this.verified[i] !== 0) return;
    readBlock(this.file, this.path, { offset: this.index.offset(i), size: this.index.size(i) }, this.dataEnd, "data");
    this.verified[i] = 1;
  }

  /**
   * Rechecks every block's CRC and every data block's structure and order (entries in
   * internal order, each block's last key equal to its index key, entry count as in
   * the properties). Throws the first CORRUPTION found, naming the file and offset.
   */
  verify(): void {
    const footerAt = this.file.length - FOOTER_SIZE;
    const f = this.footer;
    readBlock(this.file, this.path, f.filter, footerAt, "filter");
    readBlock(this.file, this.path, f.properties, footerAt, "properties");
    readBlock(this.file, this.path, f.index, footerAt, "index");
    const entries = new DecodedBlock();
    let prevKey: Uint8Array | undefined;
    let prevSeq = 0;
    let total = 0;
    const lastKeys = this.index.lastKeys;
    for (let i = 0; i < lastKeys.length; i++) {
      const offset = this.index.offset(i);
      const contents = readBlock(this.file, this.path, { offset, size: this.index.size(i) }, this.dataEnd, "data");
      new Block(contents, this.path, offset, "data").decodeInto(entries);
      if (entries.count === 0) throw corruption(this.path, "empty data block", offset);
      for (let j = 0; j < entries.count; j++) {
        const key = entries.keys[j];
        const seq = entries.seqs[j];
        if (prevKey !== undefined) {
          const c = compareBytes(prevKey, key);
          if (c > 0 || (c === 0 && prevSeq <= seq)) {
            throw corruption(this.path, "entries out of order", offset + entries.valueStarts[j]);
          }
        }
        prevKey = key;
        prevSeq = seq;
      }
      if (compareBytes(prevKey!, lastKeys[i]) !== 0) {
        throw corruption(this.path, "data block's last key differs from its index key", offset);
      }
      total += entries.count;
    }
    if (total !== this.properties.entryCount) {
      throw corruption(this.path, `table holds ${total} entries, properties say ${this.properties.entryCount}`, f.properties.offset);
    }
  }
}
