/**
 * @module
 * Builds the Elysia app: the request lifecycle shared by every route (bearer token,
 * error mapping, metrics), the route modules of `routes/index.ts` and the documentation. The app only handles requests; `serve.ts` binds it to a socket.
 *
 * Lifecycle of a request: `onRequest` rejects unauthenticated requests before any body
 * is read; routing; bodies are read only through body.ts, which enforces the size limit
 * (413) before reading; the route's schema validates; the handler calls the database;
 * any throw becomes `{"error":{"code","message"}}` in `onError`. A wrapper
 * around the whole handler times it and records the status for `/metrics`.
 */
import { Elysia } from "elysia";
import pkg from "../../package.json" with { type: "json" };
import type { Database } from "../types.ts";
import { bearerCheck } from "./auth.ts";
import type { ServerContext } from "./context.ts";
import { responseForError } from "./errors.ts";
import { HttpMetrics } from "./metrics.ts";
import { buildOpenApi } from "./openapi.ts";
import { ROUTE_MODULES, type RouteModule } from "./routes/index.ts";
import { COMPONENT_SCHEMAS } from "./schemas.ts";
import { swaggerRoutes } from "./swagger.ts";

/** Default largest request body: a maximal value (16 MiB) plus room for a batch's JSON. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface AppOptions {
  /** When set, every route except `/health` requires `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Largest request body, in bytes. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** Counters to record into (a fresh set by default). */
  metrics?: HttpMetrics;
  /** Route modules to mount instead of the standard {@link ROUTE_MODULES}. */
  routes?: RouteModule[];
  /** The index definitions file `POST /indexes/reload` re-reads (default: the source given to `openDatabase`). */
  indexesFile?: string;
  /** More Prometheus lines for `/metrics`. */
  extraMetrics?: () => string[];
}

/** The kvdb HTTP app over `db`. Test it with `app.handle(new Request("http://localhost/..."))`. */
export function createApp(db: Database, options: AppOptions = {}) {
  const ctx: ServerContext = {
    db,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    metrics: options.metrics ?? new HttpMetrics(),
    indexesFile: options.indexesFile,
    extraMetrics: options.extraMetrics,
  };
  const checkToken = options.authToken ? bearerCheck(options.authToken) : undefined;
  // The matched route pattern of each request, for metric labels (set after routing).
  const routeOf = new WeakMap<Request, string>();

  // normalize: false — unknown fields are rejected (400), not silently dropped.
  // strictPath — `/kv/` is the (invalid) empty key, not the listing `/kv`.
  const app = new Elysia({ name: "kvdb", normalize: false, strictPath: true })
    .wrap((handle) => async (request: Request) => {
      const started = performance.now();
      ctx.metrics.inFlight++;
      let response: Response;
      try {
        response = await (handle as unknown as (r: Request) => Promise<Response>)(request);
      } catch (e) {
        console.error(`kvdb: ${request.method} ${request.url}:`, e);
        response = responseForError(e, undefined, request);
      } finally {
        ctx.metrics.inFlight--;
      }
      const route = routeOf.get(request) ?? (response.status === 404 ? "(unmatched)" : "(rejected)");
      ctx.metrics.observe(route, request.method, response.status, (performance.now() - started) / 1000);
      return response;
    })
    .onTransform({ as: "global" }, ({ request, route }) => {
      routeOf.set(request, route);
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const response = responseForError(error, code, request);
      // Server-side failures (I/O, corruption, bugs) go to the operator's log as well.
      if (response.status >= 500) console.error(`kvdb: ${request.method} ${request.url}:`, error);
      return response;
    });

  // Before any body is read. (Bodies are read only by body.ts, which checks the size limit first.)
  if (checkToken) app.onRequest(({ request }) => checkToken(request));

  for (const module of options.routes ?? ROUTE_MODULES) app.use(module(ctx));

  const info = {
    title: "kvdb",
    version: pkg.version,
    description:
      "A key-value database over HTTP. Keys are strings, percent-encoded in paths; values are bytes. " +
      'Every error body is {"error":{"code","message"}}.',
  };
  app.use(swaggerRoutes(() => buildOpenApi(app, info, COMPONENT_SCHEMAS)));
  return app;
}

export type KvdbApp = ReturnType<typeof createApp>;

