/**
 * @module
 * Builds the OpenAPI 3.0 document from the app's own routes: each route's `t.*` schemas
 * (query, params, body, response) — the same objects Elysia validates requests with —
 * become its parameters, request body and responses, and its `detail` adds the summary,
 * tags and anything a schema cannot say (raw-byte bodies).
 *
 * Why not `@elysiajs/swagger`'s generator: it drops wildcard routes (`/kv/*`, how keys
 * containing `/` are routed), labels JSON responses as multipart and text too, and its
 * pages load their scripts from a CDN. A route documents its wildcard as a named path
 * parameter with `detail: { "x-path": "/kv/{key}" }`.
 */
import type { AnyElysia, DocumentDecoration } from "elysia";

/** Route options read here, in addition to Elysia's standard `detail` fields. */
export interface RouteDoc {
  summary?: string;
  description?: string;
  tags?: string[];
  /** The OpenAPI path of a wildcard route, e.g. "/kv/{key}". */
  "x-path"?: string;
  /** Hidden from the document (the Swagger page and its assets). */
  hide?: boolean;
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  security?: unknown[];
}

/** A route's `detail`, typed as Elysia expects; our extra fields are read back by {@link buildOpenApi}. */
export function doc(detail: RouteDoc): DocumentDecoration {
  return detail as DocumentDecoration;
}

type Schema = Record<string, unknown>;

const METHODS = new Set(["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]);

/** The OpenAPI document for every visible route of `app`. */
export function buildOpenApi(app: AnyElysia, info: { title: string; version: string; description: string }, components: Record<string, Schema>): Schema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of app.routes) {
    if (!METHODS.has(route.method)) continue;
    const hooks = route.hooks as Record<string, unknown> & { detail?: RouteDoc };
    const detail = hooks.detail ?? {};
    if (detail.hide) continue;
    const path = detail["x-path"] ?? toOpenApiPath(route.path);
    const { "x-path": _path, hide: _hide, requestBody, responses, ...rest } = detail;
    const operation: Record<string, unknown> = {
      operationId: operationId(route.method, path),
      ...rest,
      parameters: [...parameters("path", hooks.params, path), ...parameters("query", hooks.query, path)],
    };
    const body = hooks.body as Schema | undefined;
    if (requestBody) operation.requestBody = requestBody;
    else if (body) operation.requestBody = { required: true, content: { "application/json": { schema: plain(body) } } };
    operation.responses = { ...responseSchemas(hooks.response), ...(responses ?? {}) };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.0.3",
    info,
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "Required when the server runs with --auth-token." } },
    },
    security: [{ bearer: [] }, {}],
  };
}

/** `/indexes/:name` → `/indexes/{name}`. */
function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)\??/g, "{$1}");
}

function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join("");
}

function parameters(where: "path" | "query", schema: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  const props = (schema as Schema | undefined)?.properties as Record<string, Schema> | undefined;
  const required = new Set(((schema as Schema | undefined)?.required as string[] | undefined) ?? []);
  for (const [name, prop] of Object.entries(props ?? {})) {
    const { description, ...rest } = plain(prop);
    out.push({ name, in: where, required: where === "path" || required.has(name), description, schema: rest });
  }
  // Path parameters the schema does not declare (e.g. a wildcard documented by x-path).
  if (where === "path") {
    for (const m of path.matchAll(/\{([^}]+)\}/g)) {
      if (!props?.[m[1]]) out.push({ name: m[1], in: "path", required: true, schema: { type: "string" } });
    }
  }
  return out;
}

function responseSchemas(response: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!response || typeof response !== "object") return out;
  const byStatus: Record<string, Schema> =
    "type" in response || "$ref" in response || "anyOf" in response ? { 200: response as Schema } : (response as Record<string, Schema>);
  for (const [status, schema] of Object.entries(byStatus)) {
    const s = plain(schema);
    const description = (s.description as string | undefined) ?? (Number(status) < 400 ? "Success" : "Error");
    out[status] = { description, content: { "application/json": { schema: s } } };
  }
  return out;
}

/**
 * A JSON-only copy of a TypeBox schema. Elysia rewrites numeric query fields into
 * `anyOf: [numeric string, number]` to coerce them; the document shows the number.
 */
function plain(schema: unknown): Schema {
  const copy = JSON.parse(JSON.stringify(schema ?? {})) as Schema;
  return uncoerce(copy);
}

function uncoerce(s: Schema): Schema {
  const anyOf = s.anyOf as Schema[] | undefined;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const coerced = anyOf.find((m) => m.type === "string" && typeof m.format === "string" && ["numeric", "integer", "boolean"].includes(m.format as string));
    const real = anyOf.find((m) => m !== coerced);
    if (coerced && real) {
      const { anyOf: _a, ...outer } = s;
      return { ...outer, ...real };
    }
  }
  for (const [k, v] of Object.entries(s)) {
    if (v && typeof v === "object" && !Array.isArray(v)) s[k] = uncoerce(v as Schema);
    else if (Array.isArray(v)) s[k] = v.map((x) => (x && typeof x === "object" ? uncoerce(x as Schema) : x));
  }
  return s;
}
