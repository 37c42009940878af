/**
 * @module
 * Single keys and ordered listings:
 * `GET|PUT|DELETE /kv/{key}` and `GET /kv?prefix=&start=&end=&contains=&limit=&cursor=`.
 *
 * Keys are percent-encoded in the path (`encodeURIComponent`); a key may contain `/`,
 * so the route is a wildcard and the key is decoded here, once. Values are raw bytes
 * in both directions, whatever the Content-Type.
 */
import { Elysia, t } from "elysia";
import { KvdbError } from "../../engine/errors.ts";
import { readBody } from "../body.ts";
import type { ServerContext } from "../context.ts";
import { doc } from "../openapi.ts";
import { DEFAULT_LIST_LIMIT, listPage, MAX_LIST_LIMIT } from "../listing.ts";
import { documented, errorResponses } from "../schemas.ts";

const KEY_DOC = "/kv/{key}";

/** The key in a `/kv/*` path: everything after `/kv/`, percent-decoded. */
export function decodeKeyParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new KvdbError("INVALID_KEY", "the key in the path is not valid percent-encoding (encode keys with encodeURIComponent)");
  }
}

export const ListQuerySchema = t.Object({
  prefix: t.Optional(t.String({ description: "Only keys starting with this." })),
  start: t.Optional(t.String({ description: "Inclusive lower bound." })),
  end: t.Optional(t.String({ description: "Exclusive upper bound." })),
  contains: t.Optional(t.String({ description: "Only keys containing this substring." })),
  // A string on the wire, checked by listPage: Elysia's numeric coercion loses the field
  // name in its validation errors.
  limit: t.Optional(
    t.String({
      pattern: "^[0-9]{1,9}$",
      description: `Items per page, an integer from 1 to ${MAX_LIST_LIMIT}; default ${DEFAULT_LIST_LIMIT}.`,
      error: `query.limit: must be an integer from 1 to ${MAX_LIST_LIMIT}`,
    }),
  ),
  cursor: t.Optional(t.String({ description: "`next_cursor` of the previous page: resumes strictly after its last key." })),
}, { additionalProperties: false });

export const ListPageSchema = t.Object({
  items: t.Array(
    t.Object({
      key: t.String(),
      value: t.Optional(t.String({ description: "The value, when it is valid UTF-8." })),
      value_base64: t.Optional(t.String({ description: "The value in base64, when it is not valid UTF-8." })),
    }),
  ),
  next_cursor: t.Union([t.String(), t.Null()], { description: "null on the last page." }),
});

const rawValue = {
  description: "The value's exact bytes (any content type).",
  content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
};

export function kvRoutes(ctx: ServerContext) {
  const { db } = ctx;
  return new Elysia({ name: "kvdb-kv" })
    .get(
      "/kv/*",
      async ({ params }) => {
        const key = decodeKeyParam(params["*"]);
        const value = await db.get(key);
        if (value === undefined) throw new KvdbError("NOT_FOUND", `key ${JSON.stringify(key)} not found`);
        return new Response(value, { headers: { "content-type": "application/octet-stream" } });
      },
      {
        detail: doc({
          "x-path": KEY_DOC,
          summary: "Read a key",
          tags: ["keys"],
          responses: { 200: rawValue, ...errorResponses(400, 404) },
        }),
      },
    )
    .put(
      "/kv/*",
      async ({ params, request }) => {
        const key = decodeKeyParam(params["*"]);
        const value = await readBody(request, ctx.maxBodyBytes);
        await db.put(key, value);
        return new Response(null, { status: 204 });
      },
      {
        parse: "none",
        detail: doc({
          "x-path": KEY_DOC,
          summary: "Write a key",
          description: "The body is the value's raw bytes. Answers once the write is durable (with --sync always).",
          tags: ["keys"],
          requestBody: { required: true, ...rawValue },
          responses: { 204: { description: "Written" }, ...errorResponses(400, 413) },
        }),
      },
    )
    .delete(
      "/kv/*",
      async ({ params }) => {
        await db.delete(decodeKeyParam(params["*"]));
        return new Response(null, { status: 204 });
      },
      {
        detail: doc({
          "x-path": KEY_DOC,
          summary: "Delete a key",
          description: "Idempotent: deleting a missing key succeeds.",
          tags: ["keys"],
          responses: { 204: { description: "Deleted (or was absent)" }, ...errorResponses(400) },
        }),
      },
    )
    .get(
      "/kv",
      ({ query }) => {
        const { limit, cursor, ...range } = query;
        return listPage(db, range, limit === undefined ? DEFAULT_LIST_LIMIT : Number(limit), cursor);
      },
      {
        query: ListQuerySchema,
        detail: doc({
          summary: "List keys in order",
          description: "Ordered by the UTF-8 bytes of the key. Page with `cursor`.",
          tags: ["keys"],
          responses: { ...documented(200, "A page of items", ListPageSchema), ...errorResponses(400) },
        }),
      },
    );
}
