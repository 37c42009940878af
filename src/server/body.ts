/**
 * @module
 * Reading request bodies under the configured size limit. Bun's own `maxRequestBodySize`
 * answers an empty 413, so the server sets Bun's limit out of the way and enforces its
 * own here: a declared Content-Length is checked before any byte is read, and a chunked
 * body is counted while it streams and abandoned as soon as it passes the limit, so an
 * oversized body is never buffered whole.
 */
import { HttpError } from "./errors.ts";

/** The 413 for a body over `maxBytes`. */
export function bodyTooLarge(maxBytes: number): HttpError {
  return new HttpError("TOO_LARGE", `the request body is larger than the maximum of ${maxBytes} bytes`);
}

/** The whole body as bytes, or a 413 {@link HttpError} once it passes `maxBytes`. */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > maxBytes) throw bodyTooLarge(maxBytes);
    // A declared length is enforced by Bun itself: read it in one piece (the fast path).
    return new Uint8Array(await request.arrayBuffer());
  }
  const body = request.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The body parsed as JSON whatever its Content-Type; a 400 INVALID_JSON when it is not JSON. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const bytes = await readBody(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError("INVALID_JSON", "the request body is not valid UTF-8");
  }
  // Checked before parsing: a deeply nested body would make the validators (and their
  // error messages) recurse once per level.
  const depth = jsonNestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new HttpError("INVALID_JSON", `the request body nests ${depth > 10 * MAX_JSON_DEPTH ? "far " : ""}deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError("INVALID_JSON", `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Deepest array/object nesting any request body may have (a query filter needs far less). */
export const MAX_JSON_DEPTH = 128;

/** The maximum nesting of `[`/`{` outside strings, stopping early once past the limit. */
function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > 10 * MAX_JSON_DEPTH) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
