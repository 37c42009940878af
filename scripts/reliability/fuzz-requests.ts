/**
 * @module
 * Generates the fuzzer's requests from the server's operations (read from its OpenAPI
 * document), in four families:
 *
 * - **valid**: well-formed requests for each operation, with the effect of a write on the
 *   keyspace model and, for reads, the answer the model predicts (GET bytes, listing pages);
 * - **mutated**: a valid request with one part made wrong by its schema: a wrong JSON type,
 *   a missing required field, an unknown field, a boundary length or count, a bad limit;
 * - **hostile**: broken JSON, bodies that are not UTF-8, filters nested thousands of levels
 *   deep, unknown operators, keys over 4096 bytes, bodies over the size limits, cursors the
 *   server never issued, random methods on random paths;
 * - **raw**: exchanges over a bare socket — path bytes that are not UTF-8, odd or missing
 *   Host headers, forbidden methods, broken framing.
 *
 * Each request says what must happen: `accept` (a 2xx), `reject` (a 4xx) or `any`; a
 * request malformed at the HTTP level (`protocolLevel`) may be answered by Bun itself
 * without the JSON error body.
 */
import type { Random } from "../../test/support/random.ts";
import {
  bogusCursor,
  badPercentEncoding,
  brokenJson,
  invalidUtf8,
  keyOfBytes,
  longString,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  nested,
  nestingDepth,
  unknownOperatorFilter,
  validFilter,
  wrongTypeValue,
  type NestingShape,
} from "./fuzz-inputs.ts";
import type { KeyspaceModel } from "./keyspace-model.ts";
import { fillPath, type JsonSchema, type Operation } from "./openapi-operations.ts";

export type Expectation = "accept" | "reject" | "any";

export interface FuzzRequest {
  /** Family and kind, e.g. `hostile.query_nested(and,12000)`: counted in the summary and quoted in reports. */
  label: string;
  method: string;
  /** Encoded path and query string. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string | (() => ReadableStream<Uint8Array>);
  /** Sent over a bare socket instead (a whole HTTP/1.1 request). */
  raw?: Uint8Array;
  protocolLevel?: boolean;
  expect: Expectation;
  /** The route can change data (PUT/DELETE /kv/*, POST /batch…). */
  writes: boolean;
  /** What an accepted request did to the keyspace; without it an accepted write resyncs the model. */
  effect?: (m: KeyspaceModel) => void;
  /** After an accepted write, compare the whole keyspace with the model (raw writes: the key may not be what was meant). */
  verifyAfter?: boolean;
  /** Checks a response against the model; returns what is wrong, if anything. */
  check?: (status: number, body: string, m: KeyspaceModel) => string | undefined;
}

export interface GeneratorState {
  r: Random;
  model: KeyspaceModel;
  /** Keys the fuzzer reads and writes. */
  pool: string[];
  indexNames: string[];
  /** Cursors seen in recent answers (real ones, to be reused and damaged). */
  listCursors: string[];
  queryCursors: Array<{ cursor: string; request: Record<string, unknown> }>;
  maxBodyBytes: number;
  /** Deepest JSON nesting to generate. */
  maxDepth: number;
}

const enc = encodeURIComponent;
const WRITE_ROUTES = new Set(["PUT /kv/{key}", "DELETE /kv/{key}", "POST /batch"]);
const routeOf = (op: Operation) => `${op.method} ${op.path}`;

/** The next request. */
export function nextRequest(ops: Operation[], s: GeneratorState): FuzzRequest {
  const roll = s.r.next();
  if (roll < 0.3) return validRequest(pickOperation(ops, s.r), s);
  if (roll < 0.6) return mutatedRequest(pickOperation(ops, s.r), s);
  if (roll < 0.9) return hostileRequest(ops, s);
  return rawRequestOf(s);
}

/** Operations weighted so that data routes dominate and heavy admin calls stay rare. */
function pickOperation(ops: Operation[], r: Random): Operation {
  const weight = (op: Operation) => {
    const route = routeOf(op);
    if (route === "POST /compact" || route === "POST /indexes/rebuild/{name}" || route === "POST /indexes/reload") return 0.3;
    if (op.path === "/kv" || op.path === "/kv/{key}" || op.path === "/batch" || op.path === "/query") return 10;
    return 1;
  };
  const total = ops.reduce((t, op) => t + weight(op), 0);
  let x = r.next() * total;
  for (const op of ops) if ((x -= weight(op)) < 0) return op;
  return ops[ops.length - 1];
}

function randomValue(r: Random): Uint8Array | string {
  switch (r.int(6)) {
    case 0: return "";
    case 1: return new Uint8Array(Array.from({ length: r.int(64) }, () => r.int(256)));
    case 2: return JSON.stringify({ city: r.pick(["PortoAlegre", "Recife", "Zürich"]), age: r.int(90), tags: ["a", "b"].slice(0, r.int(3)) });
    case 3: return "ü😀\u0000".repeat(r.int(20));
    default: return `value ${r.int(1e6)} ${"x".repeat(r.int(2000))}`;
  }
}

/** Every JSON type a schema allows, through nested `anyOf`s. */
function schemaTypes(schema: JsonSchema, out = new Set<string>()): Set<string> {
  if (schema.type) out.add(schema.type);
  for (const alt of schema.anyOf ?? []) schemaTypes(alt, out);
  return out;
}

/** `GET /kv/{key}` must answer the model's value (compared as text when it is UTF-8), or 404 NOT_FOUND. */
function checkGet(key: string): NonNullable<FuzzRequest["check"]> {
  return (status, body, m) => {
    const want = m.get(key);
    if (!want) return status === 404 && body.includes('"NOT_FOUND"') ? undefined : `GET of absent ${JSON.stringify(key)} answered ${status} ${body.slice(0, 120)}`;
    if (status !== 200) return `GET of present ${JSON.stringify(key)} answered ${status} ${body.slice(0, 120)}`;
    const text = new TextDecoder().decode(want);
    const isText = Buffer.from(text).equals(Buffer.from(want));
    return isText && body !== text ? `GET of ${JSON.stringify(key)} returned other bytes than were written` : undefined;
  };
}

const bytesOf = (v: Uint8Array | string) => (typeof v === "string" ? new TextEncoder().encode(v) : v);

/** Keys in byte order (what listings return). */
function byteOrder(keys: string[]): string[] {
  return keys.map((k) => [k, Buffer.from(k)] as const).sort((a, b) => Buffer.compare(a[1], b[1])).map(([k]) => k);
}

function validRequest(op: Operation, s: GeneratorState): FuzzRequest {
  const { r } = s;
  const route = routeOf(op);
  const base = { label: `valid.${route}`, method: op.method, writes: WRITE_ROUTES.has(route) };
  switch (route) {
    case "GET /kv/{key}": {
      const key = r.pick(s.pool);
      return { ...base, path: `/kv/${enc(key)}`, expect: "any", check: checkGet(key) };
    }
    case "PUT /kv/{key}": {
      const key = r.pick(s.pool);
      const value = randomValue(r);
      return { ...base, path: `/kv/${enc(key)}`, body: value, expect: "accept", effect: (m) => m.set(key, bytesOf(value)) };
    }
    case "DELETE /kv/{key}": {
      const key = r.pick(s.pool);
      return { ...base, path: `/kv/${enc(key)}`, expect: "accept", effect: (m) => m.delete(key) };
    }
    case "GET /kv": {
      const params: Record<string, string> = {};
      if (r.chance(0.5)) params.prefix = r.pick(["fz:", "user:", "fz:1", "", "ü"]);
      if (r.chance(0.2)) params.start = r.pick(["fz:2", "user:", "a"]);
      if (r.chance(0.2)) params.end = r.pick(["fz:5", "user:~", "z"]);
      if (r.chance(0.2)) params.contains = r.pick(["1", ":", "é", "/"]);
      const limit = r.chance(0.7) ? 1 + r.int(20) : 1000;
      params.limit = String(limit);
      let after: string | undefined;
      if (s.listCursors.length > 0 && r.chance(0.3)) {
        params.cursor = r.pick(s.listCursors);
        after = Buffer.from(params.cursor, "base64url").toString("utf8");
      }
      return {
        ...base, path: `/kv?${new URLSearchParams(params)}`, expect: "accept",
        check: (status, body, m) => {
          if (status !== 200) return undefined;
          const page = JSON.parse(body) as { items: { key: string }[]; next_cursor: string | null };
          if (page.next_cursor) s.listCursors.push(page.next_cursor), s.listCursors.splice(0, s.listCursors.length - 20);
          const inRange = (k: string) =>
            (!params.prefix || k.startsWith(params.prefix)) &&
            (!params.start || Buffer.compare(Buffer.from(k), Buffer.from(params.start)) >= 0) &&
            (!params.end || Buffer.compare(Buffer.from(k), Buffer.from(params.end)) < 0) &&
            (!params.contains || k.includes(params.contains)) &&
            (after === undefined || Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0);
          const expected = byteOrder(m.keys().filter(inRange)).slice(0, limit);
          const got = page.items.map((i) => i.key);
          return got.join("\n") === expected.join("\n") ? undefined : `listing ${JSON.stringify(params)} returned [${got.slice(0, 5).join(", ")}…] (${got.length}), the model [${expected.slice(0, 5).join(", ")}…] (${expected.length})`;
        },
      };
    }
    case "POST /batch": {
      const keys = new Set<string>();
      const n = 1 + r.int(8);
      while (keys.size < n) keys.add(r.pick(s.pool));
      const ops = [...keys].map((key) => {
        if (r.chance(0.25)) return { op: "delete", key };
        const value = randomValue(r);
        return typeof value === "string" && r.chance(0.7) ? { op: "set", key, value } : { op: "set", key, value_base64: Buffer.from(bytesOf(value)).toString("base64") };
      });
      return {
        ...base, path: "/batch", body: JSON.stringify({ ops }), headers: { "content-type": "application/json" }, expect: "accept",
        effect: (m) => {
          for (const op of ops) {
            if (op.op === "delete") m.delete(op.key);
            else m.set(op.key, "value" in op ? op.value! : new Uint8Array(Buffer.from(op.value_base64!, "base64")));
          }
        },
      };
    }
    case "POST /query": {
      let request: Record<string, unknown> = { filter: validFilter(r) };
      if (r.chance(0.7)) request.scope_prefix = r.pick(["user:", "fz:", "", "user:fz1"]);
      if (r.chance(0.5)) request.limit = 1 + r.int(r.chance(0.5) ? 5 : 1000);
      if (r.chance(0.15)) request.count = true;
      else if (r.chance(0.2) && s.queryCursors.length > 0) {
        // The next page of an earlier query: same scope and filter, its cursor.
        const prior = r.pick(s.queryCursors);
        request = { ...prior.request, cursor: prior.cursor };
      }
      if (r.chance(0.2)) request.explain = true;
      return {
        ...base, path: "/query", body: JSON.stringify(request), expect: "accept",
        check: (status, body) => {
          if (status !== 200) return undefined;
          const answer = JSON.parse(body) as { next_cursor?: string | null; plan?: unknown };
          if (!answer.plan) return "no plan in the answer";
          if (answer.next_cursor) {
            const { cursor: _, ...rest } = request;
            s.queryCursors.push({ cursor: answer.next_cursor, request: rest });
            s.queryCursors.splice(0, s.queryCursors.length - 20);
          }
          return undefined;
        },
      };
    }
    case "GET /indexes/{name}": {
      const known = r.chance(0.7);
      const name = known ? r.pick(s.indexNames) : r.pick(["nope", "users", "USERS_CITY", "ü"]);
      return { ...base, path: fillPath(op.path, { name: enc(name) }), expect: known ? "accept" : "reject" };
    }
    case "POST /indexes/rebuild/{name}":
      return { ...base, path: fillPath(op.path, { name: enc(r.pick(s.indexNames)) }), expect: "accept" };
    default: {
      // Operations without parameters or bodies (health, stats, metrics, indexes, compact, reload) and any new one.
      const values = Object.fromEntries(op.pathParams.map((p) => [p, enc(r.pick(s.pool))]));
      const simple = op.pathParams.length === 0 && op.queryParams.length === 0 && op.body === undefined;
      return { ...base, path: fillPath(op.path, values), expect: simple ? "accept" : "any", writes: base.writes || op.method !== "GET" };
    }
  }
}

/** A valid request with one schema-level fault. */
function mutatedRequest(op: Operation, s: GeneratorState): FuzzRequest {
  const { r } = s;
  const route = routeOf(op);
  const writes = WRITE_ROUTES.has(route) || op.method !== "GET";
  if (op.body?.kind === "json") {
    const body = route === "POST /batch" ? validBatchBody(s) : { filter: validFilter(r), scope_prefix: "user:" };
    const props = op.body.schema.properties ?? {};
    const kind = r.int(6);
    let label: string;
    let expect: Expectation = "reject";
    if (kind === 0) {
      const field = r.pick(Object.keys(props));
      const bad = wrongTypeValue(r, schemaTypes(props[field] ?? {}));
      body[field] = bad;
      label = `wrong_type(${field})`;
      // null means "absent" for every optional query field.
      if (bad === null && !(op.body.schema.required ?? []).includes(field)) expect = "any";
    } else if (kind === 1) {
      body[r.pick(["bogus", "Filter", "ops2", "constructor", "scope"])] = 1;
      label = "unknown_field";
    } else if (kind === 2 && (op.body.schema.required ?? []).length > 0) {
      delete body[r.pick(op.body.schema.required!)];
      label = "missing_required";
    } else if (route === "POST /batch") {
      const ops = body.ops as Array<Record<string, unknown>>;
      const target = ops[0];
      const fault = r.int(9);
      label = `batch_op_fault(${fault})`;
      if (fault === 0) target.key = keyOfBytes(MAX_KEY_BYTES + 1 + r.int(5000), r.chance(0.5) ? "ascii" : "multibyte");
      else if (fault === 1) target.key = "";
      else if (fault === 2) target.op = r.pick(["upsert", "SET", "", 5, null]);
      else if (fault === 3) Object.assign(target, { op: "set", value: "a", value_base64: "YQ==" });
      else if (fault === 4) Object.assign(target, { op: "set", value_base64: r.pick(["!!!", "YQ=", "Y", "@@@@"]) }, { value: undefined });
      else if (fault === 5) Object.assign(target, { op: "delete", value: "x" });
      else if (fault === 6) target.key = r.pick(["\uD800", "a\uDC00b"]);
      else if (fault === 7) {
        target.op = "set";
        delete target.value;
        delete target.value_base64;
      } else target.value = wrongTypeValue(r, new Set(["string"]));
      for (const o of ops) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    } else {
      const fault = r.int(5);
      label = `query_fault(${fault})`;
      if (fault === 0) body.limit = r.pick([0, 1001, -1, 1.5, 1e308, 99999999999]);
      else if (fault === 1) Object.assign(body, { count: true, cursor: s.queryCursors[0]?.cursor ?? "abc" });
      else if (fault === 2) body.cursor = bogusCursor(r, s.queryCursors.length > 0 ? r.pick(s.queryCursors).cursor : undefined);
      else if (fault === 3) body.scope_prefix = r.pick(["\uD800", 5, ["user:"]]);
      else body.filter = unknownOperatorFilter(r);
    }
    return { label: `mutated.${route}.${label}`, method: op.method, path: op.path, body: JSON.stringify(body), headers: { "content-type": "application/json" }, expect, writes };
  }
  if (route === "GET /kv") {
    const fault = r.int(5);
    const params = new URLSearchParams({ prefix: "fz:" });
    if (fault === 0) params.set("limit", r.pick(["0", "1001", "-1", "abc", "1.5", "", "99999999999", "1e3", " 5", "0x10"]));
    else if (fault === 1) params.set("bogus", "1");
    else if (fault === 2) params.set("cursor", bogusCursor(r, s.listCursors.length > 0 ? r.pick(s.listCursors) : undefined));
    else if (fault === 3) params.append("limit", "5"), params.append("limit", "6");
    else params.set("prefix", longString(r, 5000 + r.int(100_000)));
    // A huge prefix is legal (it matches nothing); a listing cursor is the base64url of a key, so
    // many strings are legal cursors.
    const expect: Expectation = fault <= 1 ? "reject" : "any";
    return { label: `mutated.${route}.param_fault(${fault})`, method: "GET", path: `/kv?${params}`, expect, writes: false };
  }
  if (op.pathParams.length > 0) {
    const fault = r.int(5);
    const param =
      fault === 0 ? enc(keyOfBytes(MAX_KEY_BYTES + 1 + r.int(3000), r.chance(0.5) ? "ascii" : "multibyte"))
      : fault === 1 ? badPercentEncoding(r)
      : fault === 2 ? ""
      : fault === 3 ? "%ED%A0%80" // a lone surrogate, UTF-8 encoded
      : enc(longString(r, 100 + r.int(3000)));
    const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p, param])));
    // Under /kv/ the first three are invalid keys; a long legal key is still legal.
    const expect: Expectation = op.path === "/kv/{key}" && fault <= 3 ? "reject" : "any";
    const body = op.body?.kind === "binary" ? randomValue(r) : undefined;
    return { label: `mutated.${route}.path_fault(${fault})`, method: op.method, path, body, expect, writes };
  }
  // Nothing to mutate in the schema: send a body where none is expected.
  return { label: `mutated.${route}.unexpected_body`, method: op.method, path: op.path, body: '{"x":[1,2,3]}', headers: { "content-type": "application/json" }, expect: "any", writes };
}

function validBatchBody(s: GeneratorState): Record<string, unknown> {
  const n = 1 + s.r.int(3);
  return { ops: Array.from({ length: n }, () => ({ op: "set", key: s.r.pick(s.pool), value: `v${s.r.int(1000)}` })) };
}

function hostileRequest(ops: Operation[], s: GeneratorState): FuzzRequest {
  const { r } = s;
  const json = (label: string, path: string, body: Uint8Array | string, expect: Expectation = "reject"): FuzzRequest => ({
    label: `hostile.${label}`, method: "POST", path, body, headers: { "content-type": r.pick(["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) },
    expect, writes: path === "/batch",
  });
  const target = r.chance(0.5) ? "/query" : "/batch";
  const validText = target === "/query" ? JSON.stringify({ scope_prefix: "user:", filter: validFilter(r) }) : JSON.stringify(validBatchBody(s));
  switch (r.int(11)) {
    case 0: {
      const broken = brokenJson(r, validText);
      // Some damage leaves valid JSON (a truncation at the very end is rare but possible), and a
      // leading byte order mark may be ignored (RFC 8259 §8.1 allows it).
      let parses = true;
      try { JSON.parse(broken.replace(/^\uFEFF/, "")); } catch { parses = false; }
      return json(`broken_json(${target})`, target, broken, parses ? "any" : "reject");
    }
    case 1:
      return json(`invalid_utf8(${target})`, target, invalidUtf8(r, validText));
    case 2: {
      const depth = Math.min(nestingDepth(r), s.maxDepth);
      if (target === "/query") {
        const shape = r.pick<NestingShape>(["and", "or", "not", "field", "operand_array", "operand_object", "array"]);
        const filter = shape === "operand_array" ? `{"city":{"$in":[${nested("operand_array", depth, "1")}]}}`
          : shape === "operand_object" ? `{"city":{"$eq":${nested("operand_object", depth, "1")}}}`
          : shape === "array" ? nested("array", depth, "1")
          : nested(shape, depth, '{"city":"A"}');
        const body = shape === "array" && r.chance(0.5) ? filter : `{"scope_prefix":"user:","filter":${filter}}`;
        // Shallow nestings of some shapes fit the documented limit (32 levels).
        return json(`query_nested(${shape},${depth})`, "/query", body, depth >= 64 ? "reject" : "any");
      }
      const shape = r.int(3);
      const body = shape === 0 ? `{"ops":${nested("array", depth, "")}}`
        : shape === 1 ? nested("array", depth, "")
        : `{"ops":[{"op":"set","key":"fz:deep","value":${nested("field", depth, '"x"')}}]}`;
      return json(`batch_nested(${shape},${depth})`, "/batch", body);
    }
    case 3:
      return json("unknown_operator", "/query", JSON.stringify({ scope_prefix: r.pick(["user:", ""]), filter: unknownOperatorFilter(r) }));
    case 4: {
      const key = keyOfBytes(MAX_KEY_BYTES + 1 + r.int(10_000), r.chance(0.5) ? "ascii" : "multibyte");
      if (r.chance(0.5)) return { label: "hostile.huge_key(put)", method: "PUT", path: `/kv/${enc(key)}`, body: "v", expect: "reject", writes: true };
      return json("huge_key(batch)", "/batch", JSON.stringify({ ops: [{ op: "set", key: "fz:ok", value: "1" }, { op: "set", key, value: "v" }] }));
    }
    case 5: {
      // Bodies over the limits: rare, they are big.
      if (!r.chance(0.15)) return hostileRequest(ops, s);
      const kind = r.int(4);
      if (kind === 0) return { label: "hostile.value_over_16MiB", method: "PUT", path: "/kv/fz%3Abig", body: new Uint8Array(MAX_VALUE_BYTES + 1), expect: "reject", writes: true };
      if (kind === 1) return { label: "hostile.body_over_max(content-length)", method: "PUT", path: "/kv/fz%3Abig", body: new Uint8Array(s.maxBodyBytes + 1 + r.int(1024)), expect: "reject", writes: true };
      if (kind === 2) {
        const total = s.maxBodyBytes + 1 + r.int(1024);
        return { label: "hostile.body_over_max(chunked)", method: "PUT", path: "/kv/fz%3Abig", body: () => chunkedStream(total), expect: "reject", writes: true };
      }
      return json("body_over_max(batch)", "/batch", `{"ops":[{"op":"set","key":"fz:big","value":"${"x".repeat(s.maxBodyBytes + 10)}"}]}`);
    }
    case 6: {
      const real = s.queryCursors.length > 0 ? r.pick(s.queryCursors) : undefined;
      if (real && r.chance(0.5)) {
        // A real cursor with another filter or scope than the query that issued it.
        const request = { ...real.request, cursor: real.cursor, scope_prefix: "fz:", filter: { other: 1 } };
        return json("cursor_other_query", "/query", JSON.stringify(request));
      }
      return json("bogus_cursor(query)", "/query", JSON.stringify({ scope_prefix: "user:", filter: {}, cursor: bogusCursor(r, real?.cursor) }));
    }
    case 7:
      return { label: "hostile.bogus_cursor(list)", method: "GET", path: `/kv?cursor=${enc(bogusCursor(r, s.listCursors[0]))}`, expect: "any", writes: false };
    case 8: {
      const method = r.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]);
      const path = r.pick([
        "/", "/kv/", "//kv//a", "/kv/..%2F..%2Fetc", "/indexes/rebuild/", "/swagger/json/x", "/%00", "/kv%2Fa", "/KV/a", "/kv/a/",
        "/indexes/users_city/extra", "/query/", "/batch?x=1", "/health/", "/metrics.json", `/${longString(r, 1 + r.int(3000))}`,
        fillPath(r.pick(ops).path, { key: enc(r.pick(s.pool)), name: "users_city" }),
      ]);
      const body = method === "GET" || method === "HEAD" ? undefined : r.chance(0.5) ? "garbage" : undefined;
      return { label: `hostile.random_route(${method})`, method, path, body, expect: "any", writes: method !== "GET" && method !== "HEAD" };
    }
    case 9:
      return json(`json_scalar(${target})`, target, r.pick(["null", "[]", '"text"', "123", "true", "{}", '{"ops":null}', '{"ops":{}}']), "any");
    default: {
      // Big but legal: many $in values, many conditions — near the documented limits.
      const n = r.pick([1000, 1001, 10_001]);
      const filter = r.chance(0.5) ? { city: { $in: Array.from({ length: n }, (_, i) => `c${i}`) } } : Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
      return json(`wide_filter(${n})`, "/query", JSON.stringify({ scope_prefix: "user:", filter }), "any");
    }
  }
}

function chunkedStream(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(1024 * 1024);
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk.length, total - sent);
      controller.enqueue(chunk.subarray(0, n));
      sent += n;
    },
  });
}

function rawRequestOf(s: GeneratorState): FuzzRequest {
  const { r } = s;
  const key = r.pick(s.pool);
  const crlf = (lines: string[], body = "") => lines.join("\r\n") + "\r\n\r\n" + body;
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));
  switch (r.int(6)) {
    case 0: {
      // Path bytes that are not UTF-8. Bun decodes them as U+FFFD before the app sees them.
      const method = r.pick(["GET", "PUT", "DELETE"]);
      const body = method === "PUT" ? "raw" : "";
      const head = `${method} /kv/fz:raw`;
      const raw = bytes(head, r.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0x80, 0x80]]), ` HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return { label: `raw.non_utf8_path(${method})`, method, path: "(raw)", raw, expect: "any", writes: method !== "GET" };
    }
    case 1: {
      // Host headers a client may legally send: a short name, a name without a port, an IPv6 literal.
      const host = r.pick(["x", "db", "kv", "a:1", "kvdb", "localhost", "[::1]:7070", "127.0.0.1:1"]);
      const value = `host-test ${r.int(1e6)}`;
      const put = r.chance(0.5);
      // Sometimes a key with an unencoded "/" (documented as part of the key).
      const slashKey = r.chance(0.5) ? "kv/fz:host" : key;
      const path = `/kv/${slashKey.split("/").map(enc).join("/")}`;
      if (put) {
        const raw = bytes(crlf([`PUT ${path} HTTP/1.1`, `Host: ${host}`, `Content-Length: ${value.length}`, "Connection: close"], value));
        return { label: `raw.host(${host},PUT)`, method: "PUT", path, raw, expect: "accept", writes: true, effect: (m) => m.set(slashKey, value), verifyAfter: true };
      }
      const raw = bytes(crlf([`GET ${path} HTTP/1.1`, `Host: ${host}`, "Connection: close"]));
      return {
        label: `raw.host(${host},GET)`, method: "GET", path, raw, expect: "any", writes: false,
        check: checkGet(slashKey),
      };
    }
    case 2: {
      const method = r.pick(["TRACE", "CONNECT", "FOO", "get", "PROPFIND", "M-SEARCH"]);
      return { label: `raw.method(${method})`, method, path: "(raw)", raw: bytes(crlf([`${method} /kv/${enc(key)} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"])), expect: "any", writes: false, protocolLevel: true };
    }
    case 3: {
      const garbage = r.pick([
        "GARBAGE\r\n\r\n",
        "GET /health\r\n\r\n",
        "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /health HTTP/1.1\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost 127.0.0.1\r\nConnection: close\r\n\r\n",
        "PUT /kv/fz:cl HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde",
        "PUT /kv/fz:te HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "PUT /kv/fz:te HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"h".repeat(100_000)}\r\nConnection: close\r\n\r\n`,
        "\r\n\r\n\r\n",
      ]);
      return { label: "raw.malformed_http", method: "?", path: "(raw)", raw: bytes(garbage), expect: "any", writes: true, protocolLevel: true };
    }
    case 4: {
      // Declared shorter than sent: the extra bytes are a second (garbage) request on the connection.
      const raw = bytes(crlf([`PUT /kv/${enc(key)} HTTP/1.1`, "Host: 127.0.0.1", "Content-Length: 2", "Connection: close"], "okEXTRA GARBAGE"));
      return { label: "raw.body_longer_than_length", method: "PUT", path: `/kv/${enc(key)}`, raw, expect: "any", writes: true, protocolLevel: true };
    }
    default: {
      const path = `/kv/${enc(key)}`;
      const raw = bytes(crlf([`GET ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"]));
      return { label: "raw.get", method: "GET", path, raw, expect: "any", writes: false, check: checkGet(key) };
    }
  }
}
