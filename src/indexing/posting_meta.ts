/**
 * @module
 * The meta record of one value of an equality index: where its posting list ends and how
 * many keys are live, so a write appends without reading the list and `count` is
 * answered without reading documents.
 *
 * ```
 * meta = version:u8 (1) | lastBlock:varint | lastBlockEntries:varint | lastBlockBytes:varint
 *        | live:varint | tombstones:varint
 *      | version:u8 (2) | the same five varints | packedAt:varint
 * ```
 * Blocks are numbered from 1; lastBlock 0 means the list is empty. `tombstones` counts
 * every remove ever appended and `packedAt` its value when the list was last re-packed
 * (removes dropped): the removes still in the blocks are `tombstones - packedAt`.
 * Version 1 is written while the list was never re-packed (packedAt 0).
 *
 * Why cumulative: readers cache a decoded list under its meta record's bytes, which is
 * sound only if a list's meta never repeats. Appends grow every field; a re-pack shrinks
 * the block fields but keeps `tombstones`, and adds after it raise `live` past anything
 * seen with that tombstone count before (see index_writer.ts).
 */
import { ByteReader, ByteWriter, DecodeError } from "../engine/coding.ts";
import { corruption } from "../engine/errors.ts";

export interface PostingMeta {
  lastBlock: number;
  lastBlockEntries: number;
  lastBlockBytes: number;
  /** Keys whose latest entry is an add. */
  live: number;
  /** Remove entries appended since the list was built (re-packs included). */
  tombstones: number;
  /** `tombstones` at the last re-pack; 0 if never re-packed. */
  packedAt: number;
}

export const EMPTY_META: Readonly<PostingMeta> = { lastBlock: 0, lastBlockEntries: 0, lastBlockBytes: 0, live: 0, tombstones: 0, packedAt: 0 };

/** Removes still present in the list's blocks. */
export function pendingTombstones(m: PostingMeta): number {
  return m.tombstones - m.packedAt;
}

export function encodeMeta(m: PostingMeta): Uint8Array {
  const w = new ByteWriter(20);
  w.u8(m.packedAt === 0 ? 1 : 2);
  w.varint(m.lastBlock);
  w.varint(m.lastBlockEntries);
  w.varint(m.lastBlockBytes);
  w.varint(m.live);
  w.varint(m.tombstones);
  if (m.packedAt !== 0) w.varint(m.packedAt);
  return w.finish();
}

export function decodeMeta(bytes: Uint8Array, where: string): PostingMeta {
  const r = new ByteReader(bytes);
  try {
    const version = r.u8("meta version");
    if (version !== 1 && version !== 2) throw new DecodeError(`unknown meta version ${version}`, 0);
    const m = {
      lastBlock: r.varint("last block"),
      lastBlockEntries: r.varint("last block entries"),
      lastBlockBytes: r.varint("last block bytes"),
      live: r.varint("live count"),
      tombstones: r.varint("tombstone count"),
      packedAt: 0,
    };
    if (version === 2) {
      const at = r.pos;
      m.packedAt = r.varint("packed-at count");
      if (m.packedAt === 0 || m.packedAt > m.tombstones) throw new DecodeError(`packed-at count ${m.packedAt} out of range`, at);
    }
    if (r.remaining !== 0) throw new DecodeError("trailing bytes", r.pos);
    return m;
  } catch (e) {
    if (e instanceof DecodeError) throw corruption(where, `bad posting meta: ${e.what}`, e.offset);
    throw e;
  }
}
