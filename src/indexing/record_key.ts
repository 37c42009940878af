/**
 * @module
 * Parses the key of an index data record back into its parts (see keys.ts), for the
 * compaction hook and the index figures.
 */
import { decodeEscaped, decodeIndexValue } from "./value_codec.ts";
import { INDEX_DATA_PREFIX } from "./keys.ts";

export type IndexRecordKind = "meta" | "block" | "range";

export interface ParsedIndexKey {
  /** Offset where the encoded value starts (end of the generation's prefix). */
  valueStart: number;
  /** Offset just after the encoded value. */
  valueEnd: number;
  kind: IndexRecordKind;
}

const META = "meta";
const BLOCK = "block:";

function startsWithAscii(key: Uint8Array, at: number, s: string): boolean {
  if (key.length < at + s.length) return false;
  for (let i = 0; i < s.length; i++) if (key[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Undefined for keys outside the index data namespace. Malformed keys throw CORRUPTION. */
export function parseIndexKey(key: Uint8Array): ParsedIndexKey | undefined {
  const p = INDEX_DATA_PREFIX;
  if (key.length < p.length) return undefined;
  for (let i = 0; i < p.length; i++) if (key[i] !== p[i]) return undefined;
  const name = decodeEscaped(key, p.length);
  const valueStart = name.end + 4;
  const valueEnd = decodeIndexValue(key, valueStart).end;
  let kind: IndexRecordKind = "range";
  if (key.length === valueEnd + META.length && startsWithAscii(key, valueEnd, META)) kind = "meta";
  else if (key.length === valueEnd + BLOCK.length + 4 && startsWithAscii(key, valueEnd, BLOCK)) kind = "block";
  return { valueStart, valueEnd, kind };
}
