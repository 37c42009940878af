/**
 * @module
 * The SSTable's framing: block handles, the block trailer and the fixed-size footer.
 * (The full byte-level description is in docs/FORMAT.md, "SSTable".)
 *
 * File layout:
 *
 *     [data block 0][trailer] ... [data block N-1][trailer]
 *     [filter block][trailer]
 *     [properties block][trailer]
 *     [index block][trailer]
 *     [footer]                      (FOOTER_SIZE bytes, ends the file)
 *
 * Block handle: varint offset, varint size (the size excludes the trailer).
 * Trailer (5 bytes): u8 compression type (0 = none, the only one) +
 * u32 LE CRC-32 (IEEE) of the block contents followed by the type byte.
 *
 * Footer (60 bytes):
 *
 *     0   filter handle, properties handle, index handle (varint pairs),
 *         zero-padded to 48 bytes (3 handles of at most 16 bytes each)
 *     48  u32 LE format version (1)
 *     52  8 bytes magic "kvdb-sst" (6B 76 64 62 2D 73 73 74)
 */
import { ByteReader, ByteWriter, DecodeError } from "../coding.ts";
import { corruption } from "../errors.ts";

export const COMPRESSION_NONE = 0;
export const BLOCK_TRAILER_SIZE = 5;
export const FORMAT_VERSION = 1;
/** Varints are capped at 2^53 - 1, which takes at most 8 bytes, so a handle takes at most 16. */
export const MAX_HANDLE_SIZE = 16;
const HANDLES_AREA = 3 * MAX_HANDLE_SIZE;
export const FOOTER_SIZE = HANDLES_AREA + 4 + 8;
/** "kvdb-sst": a hexdump of any table ends with this text. */
export const TABLE_MAGIC = new Uint8Array([0x6b, 0x76, 0x64, 0x62, 0x2d, 0x73, 0x73, 0x74]);

/** Where a block lives in the file: `size` counts its contents, not its trailer. */
export interface BlockHandle {
  offset: number;
  size: number;
}

export interface Footer {
  filter: BlockHandle;
  properties: BlockHandle;
  index: BlockHandle;
}

export function encodeHandle(w: ByteWriter, h: BlockHandle): void {
  w.varint(h.offset);
  w.varint(h.size);
}

const TYPE_NONE = new Uint8Array([COMPRESSION_NONE]);

/** Computes the trailer CRC the same way for writer and reader: contents, then the type byte. */
export function blockChecksum(contents: Uint8Array, type: number): number {
  return Bun.hash.crc32(type === COMPRESSION_NONE ? TYPE_NONE : new Uint8Array([type]), Bun.hash.crc32(contents));
}

/** Appends `contents` and its trailer to `out`. */
export function writeBlock(out: ByteWriter, contents: Uint8Array): void {
  out.bytes(contents);
  out.u8(COMPRESSION_NONE);
  out.u32(blockChecksum(contents, COMPRESSION_NONE));
}

/**
 * Returns the contents of the block at `h` after checking its bounds, CRC and type.
 * `end` is where blocks must stop (the footer's offset).
 */
export function readBlock(file: Uint8Array, path: string, h: BlockHandle, end: number, what: string): Uint8Array {
  if (h.offset + h.size + BLOCK_TRAILER_SIZE > end) {
    throw corruption(path, `${what} block handle out of range (size ${h.size})`, h.offset);
  }
  const trailerAt = h.offset + h.size;
  // The CRC covers the contents and the type byte, which sit next to each other in the file.
  const expected = Bun.hash.crc32(file.subarray(h.offset, trailerAt + 1));
  const stored =
    (file[trailerAt + 1] | (file[trailerAt + 2] << 8) | (file[trailerAt + 3] << 16) | (file[trailerAt + 4] << 24)) >>> 0;
  if (expected !== stored) throw corruption(path, `${what} block checksum mismatch`, h.offset);
  const type = file[trailerAt];
  if (type !== COMPRESSION_NONE) throw corruption(path, `${what} block has unknown compression type ${type}`, h.offset);
  return file.subarray(h.offset, trailerAt);
}

export function encodeFooter(f: Footer): Uint8Array {
  const w = new ByteWriter(FOOTER_SIZE);
  encodeHandle(w, f.filter);
  encodeHandle(w, f.properties);
  encodeHandle(w, f.index);
  while (w.length < HANDLES_AREA) w.u8(0);
  w.u32(FORMAT_VERSION);
  w.bytes(TABLE_MAGIC);
  return w.finish();
}

/** Reads and checks the footer at the end of `file`; throws CORRUPTION naming `path`. */
export function decodeFooter(file: Uint8Array, path: string): Footer {
  if (file.length < FOOTER_SIZE) {
    throw corruption(path, `file of ${file.length} bytes is shorter than the ${FOOTER_SIZE}-byte table footer`, 0);
  }
  const at = file.length - FOOTER_SIZE;
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (file[at + HANDLES_AREA + 4 + i] !== TABLE_MAGIC[i]) throw corruption(path, "bad table magic number", at + HANDLES_AREA + 4);
  }
  const version = new ByteReader(file, at + HANDLES_AREA).u32("format version");
  if (version !== FORMAT_VERSION) throw corruption(path, `unsupported table format version ${version}`, at + HANDLES_AREA);
  try {
    const handles = new ByteReader(file, at, at + HANDLES_AREA);
    const filter = { offset: handles.varint("filter offset"), size: handles.varint("filter size") };
    const properties = { offset: handles.varint("properties offset"), size: handles.varint("properties size") };
    const index = { offset: handles.varint("index offset"), size: handles.varint("index size") };
    return { filter, properties, index };
  } catch (e) {
    if (e instanceof DecodeError) throw corruption(path, `bad table footer: ${e.message}`, at);
    throw e;
  }
}
