/**
 * @module
 * Record framing shared by the WAL and the manifest: an append-only file is a sequence
 * of records, each
 *
 * ```
 * +-----------------+-----------------+------------------+
 * | crc: u32 LE     | length: u32 LE  | payload (length) |
 * +-----------------+-----------------+------------------+
 * ```
 *
 * `crc` is CRC-32 (IEEE) over the 4 length bytes followed by the payload. Covering the
 * length means a header of zeros never validates (crc32 of 4 zero bytes is 0x2144df1c),
 * so a tail of zeros left by a crash reads as torn, not as empty records.
 *
 * Reading (after LevelDB `db/log_reader.cc`) stops at the first bad record: a header
 * cut short, a length past the end of the file or above the caller's bound, or a CRC
 * mismatch. If some *valid* record can be found later in the file, the damage is in the
 * middle of the log and records that were acknowledged would be lost: that is
 * corruption and is reported. Otherwise it is a torn tail (an interrupted append, or
 * garbage appended by a crash) and reading ends there.
 */
import { corruption } from "./errors.ts";

/** Bytes of the crc + length header in front of every payload. */
export const RECORD_HEADER_BYTES = 8;

export interface LogRecord {
  /** File offset of the record's header. */
  offset: number;
  /** A view into the data passed to {@link readRecords}. */
  payload: Uint8Array;
}

export interface ReadRecordsResult {
  records: LogRecord[];
  /** Length of the prefix made of whole, valid records. */
  validBytes: number;
  /** Bytes after `validBytes`: a torn tail to be truncated away. */
  tornBytes: number;
}

function crcOf(data: Uint8Array, start: number, end: number): number {
  return Bun.hash.crc32(data.subarray(start, end)) >>> 0;
}

/** Frames one payload as a record. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const out = new Uint8Array(RECORD_HEADER_BYTES + n);
  // Bytes by hand, and the CRC chained over (length, payload): a DataView or a subarray of
  // a small fresh array makes JSC materialize its ArrayBuffer, ~1 µs per record.
  LENGTH[0] = out[4] = n;
  LENGTH[1] = out[5] = n >>> 8;
  LENGTH[2] = out[6] = n >>> 16;
  LENGTH[3] = out[7] = n >>> 24;
  out.set(payload, RECORD_HEADER_BYTES);
  const crc = Bun.hash.crc32(payload, Bun.hash.crc32(LENGTH)) >>> 0;
  out[0] = crc;
  out[1] = crc >>> 8;
  out[2] = crc >>> 16;
  out[3] = crc >>> 24;
  return out;
}

/** Scratch for the CRC of a record's length field (encodeRecord is synchronous). */
const LENGTH = new Uint8Array(4);

/** The payload length of a valid record starting at `pos`, or -1 if there is none. */
function validRecordAt(data: Uint8Array, view: DataView, pos: number, maxRecordBytes: number): number {
  if (data.length - pos < RECORD_HEADER_BYTES) return -1;
  const length = view.getUint32(pos + 4, true);
  if (length > maxRecordBytes || length > data.length - pos - RECORD_HEADER_BYTES) return -1;
  const stored = view.getUint32(pos, true);
  return crcOf(data, pos + 4, pos + RECORD_HEADER_BYTES + length) === stored ? length : -1;
}

/**
 * Splits a whole log file into records. Returns the valid prefix and the size of a torn
 * tail; throws CORRUPTION naming `fileName` and the offset of the first bad record when
 * a valid record follows it.
 */
export function readRecords(data: Uint8Array, fileName: string, maxRecordBytes: number): ReadRecordsResult {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: LogRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    const length = validRecordAt(data, view, pos, maxRecordBytes);
    if (length < 0) break;
    const start = pos + RECORD_HEADER_BYTES;
    records.push({ offset: pos, payload: data.subarray(start, start + length) });
    pos = start + length;
  }
  if (pos < data.length) {
    // Scan byte by byte: a record that validates anywhere later proves the log went on
    // past the damage, so dropping the rest would lose acknowledged data.
    for (let later = pos + 1; later + RECORD_HEADER_BYTES <= data.length; later++) {
      if (validRecordAt(data, view, later, maxRecordBytes) >= 0) throw corruption(fileName, "bad record", pos);
    }
  }
  return { records, validBytes: pos, tornBytes: data.length - pos };
}
