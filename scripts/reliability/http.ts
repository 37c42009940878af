/**
 * @module
 * The few HTTP calls the reliability scripts make against a kvdb server: a timed request
 * that never throws on a status, the whole keyspace through `GET /kv` pages, a query
 * followed through all its pages, and the check that an error body has the documented
 * `{"error":{"code","message"}}` shape.
 */

export interface HttpResult {
  status: number;
  text: string;
  /** Wall-clock milliseconds from sending to the whole body read. */
  ms: number;
  contentType: string;
}

/** Sends one request; rejects only when no response arrives (connection refused or reset, timeout). */
export async function call(url: string, init: RequestInit = {}, timeoutMs?: number): Promise<HttpResult> {
  const started = performance.now();
  const res = await fetch(url, timeoutMs === undefined ? init : { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started, contentType: res.headers.get("content-type") ?? "" };
}

/** POSTs `body` as JSON. */
export function postJson(url: string, body: unknown, timeoutMs?: number): Promise<HttpResult> {
  return call(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }, timeoutMs);
}

/** True when `text` is exactly the documented error body: `{"error":{"code":string,"message":string}}`. */
export function isErrorBody(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return (
      typeof body === "object" &&
      body !== null &&
      typeof body.error === "object" &&
      body.error !== null &&
      typeof body.error.code === "string" &&
      body.error.code.length > 0 &&
      typeof body.error.message === "string"
    );
  } catch {
    return false;
  }
}

/** Every key and value under `prefix` (all keys for ""), read through `GET /kv` pages of 1000. */
export async function listAll(baseUrl: string, prefix = "", timeoutMs = 60_000): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ limit: "1000" });
    if (prefix) params.set("prefix", prefix);
    if (cursor) params.set("cursor", cursor);
    const res = await call(`${baseUrl}/kv?${params}`, {}, timeoutMs);
    if (res.status !== 200) throw new Error(`GET /kv answered ${res.status}: ${res.text.slice(0, 500)}`);
    const page = JSON.parse(res.text) as { items: { key: string; value?: string; value_base64?: string }[]; next_cursor: string | null };
    for (const item of page.items) {
      out.set(item.key, item.value !== undefined ? new TextEncoder().encode(item.value) : new Uint8Array(Buffer.from(item.value_base64 ?? "", "base64")));
    }
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

export interface QueryAnswer {
  keys: string[];
  /** `plan.index` of the first page. */
  index: string | null;
  pages: number;
}

/** Runs `POST /query` with `request`, following `next_cursor` to the end; throws on any non-200. */
export async function queryAll(baseUrl: string, request: Record<string, unknown>, timeoutMs = 60_000): Promise<QueryAnswer> {
  const keys: string[] = [];
  let cursor: string | null = null;
  let index: string | null = null;
  let pages = 0;
  do {
    const res = await postJson(`${baseUrl}/query`, { ...request, limit: 1000, cursor }, timeoutMs);
    if (res.status !== 200) throw new Error(`POST /query ${JSON.stringify(request)} answered ${res.status}: ${res.text.slice(0, 500)}`);
    const page = JSON.parse(res.text) as { items: { key: string }[]; next_cursor: string | null; plan: { index: string | null } };
    if (pages === 0) index = page.plan.index;
    pages++;
    for (const item of page.items) keys.push(item.key);
    cursor = page.next_cursor;
  } while (cursor);
  return { keys, index, pages };
}

/** `POST /query` with `count: true`: the count and `plan.index`. */
export async function queryCount(baseUrl: string, request: Record<string, unknown>, timeoutMs = 60_000): Promise<{ count: number; index: string | null }> {
  const res = await postJson(`${baseUrl}/query`, { ...request, count: true }, timeoutMs);
  if (res.status !== 200) throw new Error(`POST /query (count) ${JSON.stringify(request)} answered ${res.status}: ${res.text.slice(0, 500)}`);
  const body = JSON.parse(res.text) as { count: number; plan: { index: string | null } };
  return { count: body.count, index: body.plan.index };
}

/** Waits until every index is `ready` with no rebuild running; returns the time waited (ms). */
export async function waitForIndexesReady(baseUrl: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await call(`${baseUrl}/indexes`, {}, timeoutMs);
    if (res.status !== 200) throw new Error(`GET /indexes answered ${res.status}: ${res.text.slice(0, 500)}`);
    const { indexes } = JSON.parse(res.text) as { indexes: { name: string; state: string; rebuilding: unknown }[] };
    if (indexes.every((i) => i.state === "ready" && (i.rebuilding === null || i.rebuilding === undefined))) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`indexes not ready after ${timeoutMs} ms: ${res.text.slice(0, 500)}`);
    await Bun.sleep(10);
  }
}
