/**
 * @module
 * `POST /query`: a query over values, answered by `db.query()` — from a secondary index
 * when one applies, by scanning the scope otherwise; the response is the same either way.
 *
 * The body goes to the query layer as parsed JSON: it validates every field and answers
 * 400 INVALID_ARGUMENT with a message that starts with where the problem is
 * (`filter.age.$gt: …`, `cursor: …`, `limit: …`), the same message `db.query()` and
 * `kvdb query` give. The schemas in query-schemas.ts document the contract.
 */
import { Elysia } from "elysia";
import { readJsonBody } from "../body.ts";
import type { ServerContext } from "../context.ts";
import { doc } from "../openapi.ts";
import { QueryRequestSchema, QueryResponseSchema } from "../query-schemas.ts";
import { documented, errorResponses } from "../schemas.ts";
import type { QueryRequest } from "../../types.ts";

export function queryRoutes(ctx: ServerContext) {
  return new Elysia({ name: "kvdb-query" }).post(
    "/query",
    ({ body, server, request }) => {
      // A count or a filter that matches little can read a whole large scope: no idle cut-off.
      server?.timeout(request, 0);
      return ctx.db.query(body as QueryRequest);
    },
    {
      parse: ({ request }) => readJsonBody(request, ctx.maxBodyBytes),
      detail: doc({
        summary: "Query values with a filter",
        description:
          "Returns the JSON-object values in `scope_prefix` that match `filter`, in key order, a page of at most " +
          "`limit` items with `next_cursor` for the next; or `{count, plan}` with `count: true`. Answered from a " +
          "ready secondary index when one covers the filter (`plan.index` names it), otherwise by scanning the " +
          "scope; results are identical. Values that are not JSON objects never match (`plan.skipped_not_json`). " +
          "Any invalid field, operator, operand, path or cursor is a 400 saying what and where.",
        tags: ["queries"],
        requestBody: { required: true, content: { "application/json": { schema: JSON.parse(JSON.stringify(QueryRequestSchema)) } } },
        responses: { ...documented(200, "A page of matches, or the count", QueryResponseSchema), ...errorResponses(400, 413) },
      }),
    },
  );
}
