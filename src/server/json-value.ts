/**
 * @module
 * Values inside JSON documents (scan listings, batch ops, NDJSON import/export). Values
 * are bytes; JSON carries text. A value that is valid UTF-8 travels as `"value": "<text>"`,
 * anything else as `"value_base64": "<standard base64>"`, so every value round-trips
 * exactly. Writers may use either form; readers accept both.
 */
import { KvdbError } from "../engine/errors.ts";

/** One of the two JSON forms of a value. */
export type JsonValue = { value: string } | { value_base64: string };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `{value}` when `bytes` is valid UTF-8, else `{value_base64}`. */
export function toJsonValue(bytes: Uint8Array): JsonValue {
  try {
    return { value: strictUtf8.decode(bytes) };
  } catch {
    return { value_base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") };
  }
}

// Standard alphabet with padding, or unpadded: Buffer's decoder alone would skip garbage silently.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Decodes strict base64; INVALID_VALUE naming `at` otherwise. */
export function decodeBase64(text: string, at: string): Uint8Array {
  if (!BASE64.test(text)) throw new KvdbError("INVALID_VALUE", `${at}: value_base64 is not valid base64`);
  return new Uint8Array(Buffer.from(text, "base64"));
}

/**
 * The bytes of a JSON object holding exactly one of `value` (a string) or `value_base64`.
 * A string value is returned as is (the database stores its UTF-8).
 */
export function fromJsonValue(record: Record<string, unknown>, at: string): string | Uint8Array {
  const hasText = "value" in record;
  const hasBase64 = "value_base64" in record;
  if (hasText === hasBase64) {
    throw new KvdbError("INVALID_VALUE", `${at}: give exactly one of "value" or "value_base64"`);
  }
  if (hasText) {
    if (typeof record.value !== "string") throw new KvdbError("INVALID_VALUE", `${at}: "value" must be a string`);
    return record.value;
  }
  if (typeof record.value_base64 !== "string") throw new KvdbError("INVALID_VALUE", `${at}: "value_base64" must be a string`);
  return decodeBase64(record.value_base64, at);
}
