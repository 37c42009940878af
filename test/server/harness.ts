/**
 * @module
 * Shared pieces of the HTTP tests: the databases every suite runs against (the
 * in-memory model and the real engine in a temp dir), and short request helpers over
 * `app.handle`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createApp, type AppOptions } from "../../src/server/app.ts";
import type { Database } from "../../src/types.ts";
import { MemoryDatabase } from "./memory-database.ts";

/** Anything `new Request(url, { body })` accepts. */
export type RequestBody = RequestInit["body"];

export interface TestDatabase {
  db: Database;
  cleanup(): Promise<void>;
}

export interface DatabaseFactory {
  name: string;
  open(options?: { maxValueBytes?: number }): Promise<TestDatabase>;
}

export const FACTORIES: DatabaseFactory[] = [
  {
    name: "memory model",
    async open(options) {
      const db = new MemoryDatabase(options?.maxValueBytes);
      return { db, cleanup: async () => db.close() };
    },
  },
  {
    name: "engine",
    async open(options) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
      const { openDatabase } = await import("../../src/db.ts");
      const db = await openDatabase(dir, { maxValueBytes: options?.maxValueBytes });
      return {
        db,
        async cleanup() {
          await db.close().catch(() => {});
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** An app over `db` with request helpers. */
export function client(db: Database, options: AppOptions = {}) {
  const app = createApp(db, options);
  const call = (method: string, url: string, body?: RequestBody | null, headers?: Record<string, string>) =>
    app.handle(new Request(`http://localhost${url}`, { method, body, headers }));
  return {
    app,
    call,
    get: (url: string, headers?: Record<string, string>) => call("GET", url, undefined, headers),
    put: (url: string, body: RequestBody, headers?: Record<string, string>) => call("PUT", url, body, headers),
    del: (url: string) => call("DELETE", url),
    post: (url: string, json: unknown) => call("POST", url, JSON.stringify(json), { "content-type": "application/json" }),
  };
}

/** The `{"error":{"code","message"}}` body of an error response, checked for shape. */
export async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  if (typeof body?.error?.code !== "string" || typeof body.error.message !== "string") {
    throw new Error(`not an error body: ${JSON.stringify(body)}`);
  }
  return body.error;
}

export const kvPath = (key: string) => `/kv/${encodeURIComponent(key)}`;

/** The shared seeded PRNG (mulberry32), so randomized tests can be replayed with SEED=…. */
export { mulberry32 as prng } from "../support/random.ts";
