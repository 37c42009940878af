/**
 * @module
 * The REST API as a {@link KvStore}: what the CLI uses when a server holds the data
 * directory (or `--url` is given). Each call is one request, except `scan`, which
 * follows `next_cursor` page by page. Error bodies become {@link RemoteError}s with the
 * server's code and message.
 */
import { utf8 } from "../engine/coding.ts";
import { KvdbError } from "../engine/errors.ts";
import { MAX_LIST_LIMIT, type KeyRange, type ListPage } from "../server/listing.ts";
import { decodeBase64, toJsonValue } from "../server/json-value.ts";
import type { ServerStats } from "../server/stats.ts";
import type { BackupResult, CheckReport, IndexInfo, QueryRequest, QueryResponse, WriteOp } from "../types.ts";
import type { KvStore } from "./store.ts";

/** An error answered by the server: its code (e.g. NOT_FOUND, UNAUTHORIZED) and message. */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "RemoteError";
  }
}

/** Path segments "." and ".." are normalised away by URL parsers even when percent-encoded. */
function isDotSegment(key: string): boolean {
  return key === "." || key === "..";
}

export class HttpStore implements KvStore {
  readonly description: string;
  private readonly base: string;

  constructor(
    url: string,
    private readonly token?: string,
  ) {
    this.base = url.replace(/\/+$/, "");
    this.description = `server ${this.base}`;
  }

  private async request(method: string, path: string, body?: string | Uint8Array, type?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (type) headers["content-type"] = type;
    let response: Response;
    try {
      response = await fetch(this.base + path, { method, headers, body });
    } catch (e) {
      throw new KvdbError("IO_ERROR", `cannot reach the server at ${this.base}: ${(e as Error).message}`);
    }
    if (response.ok) return response;
    let code = `HTTP_${response.status}`;
    let message = `${method} ${path} answered ${response.status}`;
    try {
      const parsed = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      if (typeof parsed.error?.code === "string") code = parsed.error.code;
      if (typeof parsed.error?.message === "string") message = parsed.error.message;
    } catch {
      // Not our JSON error (a proxy?): keep the status line.
    }
    throw new RemoteError(code, message, response.status);
  }

  private keyPath(key: string): string {
    return `/kv/${encodeURIComponent(key)}`;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    if (isDotSegment(key)) {
      for await (const [k, v] of this.scan({ start: key })) return k === key ? v : undefined;
      return undefined;
    }
    try {
      const response = await this.request("GET", this.keyPath(key));
      return new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      if (e instanceof RemoteError && e.code === "NOT_FOUND") return undefined;
      throw e;
    }
  }

  async put(key: string, value: Uint8Array | string): Promise<void> {
    if (isDotSegment(key)) return this.write([{ type: "put", key, value }]);
    const bytes = typeof value === "string" ? utf8(value) : value;
    await this.request("PUT", this.keyPath(key), bytes, "application/octet-stream");
  }

  async delete(key: string): Promise<void> {
    if (isDotSegment(key)) return this.write([{ type: "delete", key }]);
    await this.request("DELETE", this.keyPath(key));
  }

  async write(ops: WriteOp[]): Promise<void> {
    const json = ops.map((op) =>
      op.type === "delete"
        ? { op: "delete", key: op.key }
        : { op: "set", key: op.key, ...(typeof op.value === "string" ? { value: op.value } : toJsonValue(op.value)) },
    );
    await this.request("POST", "/batch", JSON.stringify({ ops: json }), "application/json");
  }

  async *scan(range: KeyRange): AsyncGenerator<[string, Uint8Array]> {
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams({ limit: String(MAX_LIST_LIMIT) });
      for (const [name, value] of Object.entries(range)) if (value !== undefined) params.set(name, value);
      if (cursor) params.set("cursor", cursor);
      const page = (await (await this.request("GET", `/kv?${params}`)).json()) as ListPage;
      for (const item of page.items) {
        const value = "value" in item ? utf8(item.value) : decodeBase64(item.value_base64, item.key);
        yield [item.key, value];
      }
      cursor = page.next_cursor;
    } while (cursor);
  }

  async stats(): Promise<ServerStats> {
    return (await (await this.request("GET", "/stats")).json()) as ServerStats;
  }

  async compact(): Promise<void> {
    await this.request("POST", "/compact");
  }

  async query(request: QueryRequest): Promise<QueryResponse> {
    return (await (await this.request("POST", "/query", JSON.stringify(request), "application/json")).json()) as QueryResponse;
  }

  async listIndexes(): Promise<IndexInfo[]> {
    return ((await (await this.request("GET", "/indexes")).json()) as { indexes: IndexInfo[] }).indexes;
  }

  async getIndex(name: string): Promise<IndexInfo | undefined> {
    if (isDotSegment(name)) return (await this.listIndexes()).find((i) => i.name === name);
    try {
      return (await (await this.request("GET", `/indexes/${encodeURIComponent(name)}`)).json()) as IndexInfo;
    } catch (e) {
      if (e instanceof RemoteError && e.code === "NOT_FOUND") return undefined;
      throw e;
    }
  }

  async reloadIndexes(): Promise<IndexInfo[]> {
    return ((await (await this.request("POST", "/indexes/reload")).json()) as { indexes: IndexInfo[] }).indexes;
  }

  async rebuildIndex(name: string): Promise<IndexInfo> {
    if (isDotSegment(name)) throw new KvdbError("INVALID_ARGUMENT", `an index named ${JSON.stringify(name)} cannot be addressed in a URL; rename it`);
    return (await (await this.request("POST", `/indexes/rebuild/${encodeURIComponent(name)}`)).json()) as IndexInfo;
  }

  async backup(dest: string): Promise<BackupResult> {
    return (await (await this.request("POST", "/backup", JSON.stringify({ dest }), "application/json")).json()) as BackupResult;
  }

  async check(): Promise<CheckReport> {
    return (await (await this.request("POST", "/check")).json()) as CheckReport;
  }

  async close(): Promise<void> {}
}

