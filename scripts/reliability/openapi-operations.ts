/**
 * @module
 * The operations of a kvdb server, read from its OpenAPI document (`GET /swagger/json`):
 * method, path template, path and query parameters with their schemas, and the kind of
 * request body (JSON with a schema, or raw bytes). The fuzzer generates its requests from
 * this list, so a new endpoint is fuzzed as soon as it is documented.
 */

/** The subset of JSON Schema the fuzzer reads. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  minLength?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

export interface Operation {
  method: string;
  /** The template, e.g. `/kv/{key}`. */
  path: string;
  pathParams: string[];
  queryParams: Array<{ name: string; schema: JsonSchema }>;
  body: { kind: "json"; schema: JsonSchema } | { kind: "binary" } | undefined;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, {
    parameters?: Array<{ name: string; in: string; schema?: JsonSchema }>;
    requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  }>>;
}

/** Every operation in `doc`. */
export function operationsOf(doc: unknown): Operation[] {
  const paths = (doc as OpenApiDocument).paths;
  if (!paths || typeof paths !== "object") throw new Error("the OpenAPI document has no paths");
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const content = op.requestBody?.content ?? {};
      const json = content["application/json"]?.schema;
      out.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        queryParams: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: json ? { kind: "json", schema: json } : Object.keys(content).length > 0 ? { kind: "binary" } : undefined,
      });
    }
  }
  return out;
}

/** The path with its `{param}` placeholders replaced by already-encoded values. */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? "x");
}
