/**
 * @module
 * Where index records live: the internal namespace of keys that start with 0xFF, which
 * no user key can reach (user keys are UTF-8, and UTF-8 never contains 0xFF).
 *
 * ```
 * registry record   FF "reg:" esc(name) gen:u32be                     → JSON (definition, state, progress)
 * index data        FF "idx:" esc(name) gen:u32be ...
 *   equality meta     ... enc(value) "meta"                             → PostingMeta
 *   equality block    ... enc(value) "block:" n:u32be                   → PostingBlock
 *   range entry       ... enc(value) esc(primary key)                   → (empty)
 * ```
 * `esc` escapes 0x00 as 0x00 0xFF and ends with 0x00 0x01, and `enc` is the
 * order-preserving value encoding (value_codec.ts); both are self-delimiting, so a name
 * or value containing ':' or any other byte cannot run into its neighbour's records.
 * The generation lets a rebuilt or redefined index be written beside the old one and
 * swapped in atomically.
 */
import { concatBytes, utf8 } from "../engine/coding.ts";
import { encodeEscaped } from "./value_codec.ts";

/** The first byte of the internal namespace: every user key sorts below it. Read-only. */
export const USER_KEYSPACE_END = Uint8Array.of(0xff);

const REG = utf8("reg:");
const IDX = utf8("idx:");
const META = utf8("meta");
const BLOCK = utf8("block:");

function withNamespace(tag: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + tag.length);
  out[0] = 0xff;
  out.set(tag, 1);
  return out;
}

/** Prefix of every registry record. */
export const REGISTRY_PREFIX = withNamespace(REG);
/** Prefix of every index's data. */
export const INDEX_DATA_PREFIX = withNamespace(IDX);

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function registryKey(name: string, generation: number): Uint8Array {
  return concatBytes([REGISTRY_PREFIX, encodeEscaped(utf8(name)), u32be(generation)]);
}

/** The prefix under which one generation of one index keeps all its data. */
export function indexPrefix(name: string, generation: number): Uint8Array {
  return concatBytes([INDEX_DATA_PREFIX, encodeEscaped(utf8(name)), u32be(generation)]);
}

/** The records of one value of an index: `prefix + enc(value)`. */
export function termPrefix(prefix: Uint8Array, encodedValue: Uint8Array): Uint8Array {
  return concatBytes([prefix, encodedValue]);
}

export function metaKey(term: Uint8Array): Uint8Array {
  return concatBytes([term, META]);
}

export function blockKey(term: Uint8Array, n: number): Uint8Array {
  return concatBytes([term, BLOCK, u32be(n)]);
}

/** The first block key of a term: blocks sort before the meta record ("b" < "m"). */
export function firstBlockKey(term: Uint8Array): Uint8Array {
  return blockKey(term, 0);
}

export function rangeEntryKey(term: Uint8Array, primaryKey: Uint8Array): Uint8Array {
  return concatBytes([term, encodeEscaped(primaryKey)]);
}

/** The block number of a block key of `term`, or undefined for its meta record. */
export function blockNumberOf(term: Uint8Array, key: Uint8Array): number | undefined {
  const at = term.length;
  if (key.length !== at + BLOCK.length + 4 || key[at] !== BLOCK[0]) return undefined;
  return new DataView(key.buffer, key.byteOffset + at + BLOCK.length, 4).getUint32(0);
}
