/**
 * @module
 * Running the server: open the database, bind, record the address in the data dir, log
 * one line; on SIGTERM/SIGINT stop accepting connections, let in-flight requests finish,
 * close the database and exit 0.
 */
import * as path from "node:path";
import type { Server } from "bun";
import pkg from "../../package.json" with { type: "json" };
import { openDatabase } from "../db.ts";
import { KvdbError } from "../engine/errors.ts";
import type { Database, SyncMode } from "../types.ts";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "./app.ts";
import { assertSafeBinding } from "./auth.ts";
import { removeServerRecord, writeServerRecord } from "./server-file.ts";

export interface ServeConfig {
  dataDir: string;
  host: string;
  /** 0 picks a free port (read it back from {@link RunningServer.port}). */
  port: number;
  sync: SyncMode;
  authToken?: string;
  /** Allow a non-loopback bind without a token. */
  insecure?: boolean;
  maxBodyBytes?: number;
  /** Index definitions loaded at start (a bad file refuses to start); undefined: none. */
  indexesPath?: string;
  /** The file `POST /indexes/reload` re-reads. Default {@link indexesPath}. */
  indexesReloadPath?: string;
  /** Seconds a connection may stay silent, including while a slow request computes. Default 255 (Bun's maximum). */
  idleTimeoutSeconds?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly db: Database;
  readonly server: Server<unknown>;
  /** Stops accepting, waits for in-flight requests, closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** `http://host:port`, with IPv6 literals in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

/** The URL a local client uses to reach a server bound to `host` (a wildcard bind is reached via loopback). */
export function localUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "") return httpUrl("127.0.0.1", port);
  if (host === "::" || host === "[::]") return httpUrl("::1", port);
  return httpUrl(host, port);
}

/** Opens the database and starts serving it. */
/**
 * Elysia finds the path in `request.url` by searching for "/" from character 11 on
 * ("http://" plus a host of at least 4 characters): with a shorter Host header ("db")
 * the first path segment would be skipped and `PUT /kv/kv/x` would write the key "x".
 * Such requests get a URL with a longer host; everything else passes through untouched.
 */
function routableRequest(request: Request): Request {
  const url = request.url;
  const hostEnd = url.indexOf("/", url.indexOf("//") + 2);
  if (hostEnd < 0 || hostEnd >= 11) return request;
  return new Request(`http://localhost${url.slice(hostEnd)}`, request);
}

export async function startServer(config: ServeConfig, log: (line: string) => void = console.log): Promise<RunningServer> {
  assertSafeBinding(config.host, Boolean(config.authToken), Boolean(config.insecure));
  const dataDir = path.resolve(config.dataDir);
  const db = await openDatabase(dataDir, { sync: config.sync, indexes: config.indexesPath });
  const app = createApp(db, {
    authToken: config.authToken,
    maxBodyBytes: config.maxBodyBytes,
    indexesFile: config.indexesReloadPath ?? config.indexesPath,
  });
  const maxBodyBytes = config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let server: Server<unknown>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      // Two servers on one port would each get half the connections: fail instead.
      reusePort: false,
      development: false,
      idleTimeout: config.idleTimeoutSeconds ?? 255,
      // Out of the way: the app answers 413 with a JSON body itself (see body.ts).
      maxRequestBodySize: Math.max(maxBodyBytes * 2, maxBodyBytes + 1024 * 1024),
      fetch: (request) => app.fetch(routableRequest(request)),
    });
  } catch (e) {
    await db.close();
    const reason = e instanceof Error ? e.message : String(e);
    throw new KvdbError("INVALID_ARGUMENT", `cannot listen on ${config.host}:${config.port}: ${reason}`);
  }
  const port = server.port as number;
  const url = localUrl(config.host, port);
  writeServerRecord(dataDir, { url, pid: process.pid, auth: Boolean(config.authToken), version: pkg.version });
  log(
    `kvdb ${pkg.version} listening on ${httpUrl(config.host, port)}, data dir ${dataDir} ` +
      `(sync ${config.sync}, auth ${config.authToken ? "on" : "off"}, indexes ${config.indexesPath ?? "none"}, docs ${url}/swagger)`,
  );

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    db,
    server,
    stop() {
      stopping ??= (async () => {
        await server.stop(false);
        removeServerRecord(dataDir);
        await db.close();
      })();
      return stopping;
    },
  };
}

/**
 * Serves until SIGTERM or SIGINT, then shuts down cleanly. Resolves with the exit code:
 * 0 after a clean shutdown, 1 if closing the database failed. A second signal exits at once.
 */
export async function runServer(config: ServeConfig, log: (line: string) => void = console.log): Promise<number> {
  const running = await startServer(config, log);
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(1);
      signalled = true;
      log(`kvdb: ${signal}: finishing in-flight requests and closing the database`);
      running.stop().then(
        () => resolve(0),
        (e) => {
          log(`kvdb: error while closing: ${e instanceof Error ? e.message : String(e)}`);
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
