/**
 * @module
 * Table properties: the statistics a compaction picker and `stats()` need without
 * reading data blocks, stored in the table's properties block.
 *
 * Properties block contents (inside the usual block trailer), in this order:
 *
 *     varint entryCount        all entries (every version, tombstones included)
 *     varint distinctKeyCount  distinct user keys
 *     varint tombstoneCount    entries of kind delete
 *     varint minSeq, varint maxSeq          (0, 0 for an empty table)
 *     varint rawKeyBytes       sum of key lengths over all entries
 *     varint rawValueBytes     sum of value lengths over all entries
 *     varint dataBlockCount
 *     varint dataBytes         bytes of all data blocks, trailers included
 *     varint length + bytes    smallest user key (empty for an empty table)
 *     varint length + bytes    largest user key (empty for an empty table)
 *
 * Readers ignore bytes after these fields, so later versions may append fields.
 */
import { ByteReader, ByteWriter, DecodeError, compareBytes } from "../coding.ts";
import { corruption } from "../errors.ts";

export interface TableProperties {
  entryCount: number;
  distinctKeyCount: number;
  tombstoneCount: number;
  /** Smallest user key; empty when entryCount is 0. */
  smallest: Uint8Array;
  /** Largest user key; empty when entryCount is 0. */
  largest: Uint8Array;
  minSeq: number;
  maxSeq: number;
  rawKeyBytes: number;
  rawValueBytes: number;
  dataBlockCount: number;
  /** Bytes of all data blocks including their trailers. */
  dataBytes: number;
}

export function encodeProperties(p: TableProperties): Uint8Array {
  const w = new ByteWriter(64 + p.smallest.length + p.largest.length);
  w.varint(p.entryCount);
  w.varint(p.distinctKeyCount);
  w.varint(p.tombstoneCount);
  w.varint(p.minSeq);
  w.varint(p.maxSeq);
  w.varint(p.rawKeyBytes);
  w.varint(p.rawValueBytes);
  w.varint(p.dataBlockCount);
  w.varint(p.dataBytes);
  w.lengthPrefixed(p.smallest);
  w.lengthPrefixed(p.largest);
  return w.finish();
}

/** Decodes and sanity-checks a properties block; `fileOffset` locates it for error messages. */
export function decodeProperties(contents: Uint8Array, path: string, fileOffset: number): TableProperties {
  let p: TableProperties;
  try {
    const r = new ByteReader(contents);
    p = {
      entryCount: r.varint("entry count"),
      distinctKeyCount: r.varint("distinct key count"),
      tombstoneCount: r.varint("tombstone count"),
      minSeq: r.varint("min seq"),
      maxSeq: r.varint("max seq"),
      rawKeyBytes: r.varint("raw key bytes"),
      rawValueBytes: r.varint("raw value bytes"),
      dataBlockCount: r.varint("data block count"),
      dataBytes: r.varint("data bytes"),
      // Copies: these outlive the reader in version metadata and must not pin the file mapping.
      smallest: r.lengthPrefixed("smallest key").slice(),
      largest: r.lengthPrefixed("largest key").slice(),
    };
  } catch (e) {
    if (e instanceof DecodeError) throw corruption(path, `bad properties block: ${e.message}`, fileOffset);
    throw e;
  }
  const bad =
    p.distinctKeyCount > p.entryCount ||
    p.tombstoneCount > p.entryCount ||
    (p.entryCount > 0 && (p.distinctKeyCount === 0 || p.minSeq > p.maxSeq || compareBytes(p.smallest, p.largest) > 0)) ||
    (p.entryCount === 0 && p.dataBlockCount !== 0);
  if (bad) throw corruption(path, "inconsistent table properties", fileOffset);
  return p;
}
