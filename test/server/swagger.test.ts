import { expect, test } from "bun:test";
import { client } from "./harness.ts";
import { MemoryDatabase } from "./memory-database.ts";

const api = client(new MemoryDatabase());

test("/swagger is an HTML page with no external URL whose scripts and styles are served here", async () => {
  const res = await api.get("/swagger");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(assets.sort()).toEqual(["/swagger/assets/swagger-ui-bundle.js", "/swagger/assets/swagger-ui.css"]);
  for (const asset of assets) {
    const a = await api.get(asset);
    expect(a.status).toBe(200);
    expect((await a.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
  }
  expect(html).toContain('url: "/swagger/json"');
});

test("/swagger/json documents every route with its parameters, bodies and error shapes", async () => {
  const res = await api.get("/swagger/json");
  expect(res.status).toBe(200);
  const doc = (await res.json()) as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string; in: string }[]; requestBody?: unknown }>>;
    components: { schemas: Record<string, unknown> };
  };
  expect(doc.openapi).toBe("3.0.3");
  const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect(listed.sort()).toEqual(
    [
      "GET /health",
      "GET /stats",
      "GET /metrics",
      "POST /compact",
      "POST /backup",
      "POST /check",
      "GET /kv",
      "GET /kv/{key}",
      "PUT /kv/{key}",
      "DELETE /kv/{key}",
      "POST /batch",
      "POST /query",
      "GET /indexes",
      "GET /indexes/{name}",
      "POST /indexes/reload",
      "POST /indexes/rebuild/{name}",
    ].sort(),
  );
  // Every route the app serves (except the documentation itself) is in the document.
  const served = api.app.routes.filter((r) => !r.path.startsWith("/swagger")).length;
  expect(listed.length).toBe(served);

  const key = doc.paths["/kv/{key}"];
  expect(key.get.parameters).toContainEqual(expect.objectContaining({ name: "key", in: "path" }));
  expect(key.put.requestBody).toBeDefined();
  expect(Object.keys(key.get.responses)).toEqual(expect.arrayContaining(["200", "400", "404"]));
  const scan = doc.paths["/kv"].get;
  expect(scan.parameters!.map((p) => p.name).sort()).toEqual(["contains", "cursor", "end", "limit", "prefix", "start"]);
  expect(JSON.stringify(doc.paths["/batch"].post.requestBody)).toContain("value_base64");
  expect(Object.keys(doc.paths["/batch"].post.responses)).toEqual(expect.arrayContaining(["200", "400", "413"]));
  expect(JSON.stringify(doc.components.schemas.Error)).toContain("message");
});

test("/swagger/json describes POST /query (request fields, filter language, both response variants) and the index endpoints", async () => {
  type Schema = { properties?: Record<string, Schema>; anyOf?: Schema[]; description?: string; example?: unknown };
  type Operation = { requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, { schema: Schema }> }>; parameters?: { name: string; in: string }[] };
  const doc = (await (await api.get("/swagger/json")).json()) as { paths: Record<string, Record<string, Operation>> };
  const query = doc.paths["/query"].post;
  const request = query.requestBody!.content["application/json"].schema;
  expect(Object.keys(request.properties!).sort()).toEqual(["count", "cursor", "explain", "filter", "limit", "scope_prefix", "sort"]);
  expect(request.properties!.filter.description).toContain("$gte");
  expect(request.properties!.filter.example).toBeDefined();
  const variants = query.responses["200"].content!["application/json"].schema.anyOf!;
  expect(variants.map((v) => Object.keys(v.properties!).sort())).toEqual([
    ["items", "next_cursor", "plan"],
    ["count", "plan"],
  ]);
  expect(Object.keys(variants[0].properties!.plan.properties!)).toEqual(
    expect.arrayContaining(["kind", "index", "keys_examined", "docs_examined", "returned", "skipped_not_json", "ms", "candidates"]),
  );
  expect(Object.keys(query.responses)).toEqual(expect.arrayContaining(["200", "400"]));
  const info = doc.paths["/indexes/{name}"].get;
  expect(info.parameters).toContainEqual(expect.objectContaining({ name: "name", in: "path" }));
  expect(Object.keys(info.responses)).toEqual(expect.arrayContaining(["200", "404"]));
  expect(Object.keys(info.responses["200"].content!["application/json"].schema.properties!)).toEqual(
    expect.arrayContaining(["name", "state", "progress", "rebuilding", "live_entries", "tombstones", "terms", "blocks", "bytes"]),
  );
  expect(Object.keys(doc.paths["/indexes/rebuild/{name}"].post.responses)).toEqual(expect.arrayContaining(["202", "404"]));
  expect(Object.keys(doc.paths["/indexes/reload"].post.responses)).toEqual(expect.arrayContaining(["200", "400"]));
  expect(doc.paths["/stats"].get.responses["200"].content!["application/json"].schema.properties!.indexes).toBeDefined();
});
