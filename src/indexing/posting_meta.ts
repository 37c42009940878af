/**
 * @module
 * The meta record of one value of an equality index: where its posting list ends and how
 * many keys are live, so a write appends without reading the list and `count` is
 * answered without reading documents.
 *
 * ```
 * meta = version:u8 (1) | lastBlock:varint | lastBlockEntries:varint | lastBlockBytes:varint
 *        | live:varint | tombstones:varint
 * ```
 * Blocks are numbered from 1; lastBlock 0 means the list is empty.
 */
import { ByteReader, ByteWriter, DecodeError } from "../engine/coding.ts";
import { corruption } from "../engine/errors.ts";

export interface PostingMeta {
  lastBlock: number;
  lastBlockEntries: number;
  lastBlockBytes: number;
  /** Keys whose latest entry is an add. */
  live: number;
  /** Remove entries written since the list was built. */
  tombstones: number;
}

export const EMPTY_META: Readonly<PostingMeta> = { lastBlock: 0, lastBlockEntries: 0, lastBlockBytes: 0, live: 0, tombstones: 0 };

export function encodeMeta(m: PostingMeta): Uint8Array {
  const w = new ByteWriter(16);
  w.u8(1);
  w.varint(m.lastBlock);
  w.varint(m.lastBlockEntries);
  w.varint(m.lastBlockBytes);
  w.varint(m.live);
  w.varint(m.tombstones);
  return w.finish();
}

export function decodeMeta(bytes: Uint8Array, where: string): PostingMeta {
  const r = new ByteReader(bytes);
  try {
    const version = r.u8("meta version");
    if (version !== 1) throw new DecodeError(`unknown meta version ${version}`, 0);
    const m = {
      lastBlock: r.varint("last block"),
      lastBlockEntries: r.varint("last block entries"),
      lastBlockBytes: r.varint("last block bytes"),
      live: r.varint("live count"),
      tombstones: r.varint("tombstone count"),
    };
    if (r.remaining !== 0) throw new DecodeError("trailing bytes", r.pos);
    return m;
  } catch (e) {
    if (e instanceof DecodeError) throw corruption(where, `bad posting meta: ${e.what}`, e.offset);
    throw e;
  }
}
