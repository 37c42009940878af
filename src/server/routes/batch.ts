/**
 * @module
 * `POST /batch`: several sets and deletes applied atomically. Every op is checked before
 * any is applied; one bad op answers 400 and changes nothing.
 */
import { Elysia, t } from "elysia";
import { BatchBodySchema, decodeBatchOps } from "../batch-ops.ts";
import { readJsonBody } from "../body.ts";
import type { ServerContext } from "../context.ts";
import { doc } from "../openapi.ts";
import { errorResponses } from "../schemas.ts";

export const BatchResultSchema = t.Object({ applied: t.Integer({ description: "Number of ops applied." }) });

export function batchRoutes(ctx: ServerContext) {
  return new Elysia({ name: "kvdb-batch" }).post(
    "/batch",
    async ({ body }) => {
      const ops = decodeBatchOps(body.ops);
      await ctx.db.write(ops);
      return { applied: ops.length };
    },
    {
      // The body is JSON whatever its Content-Type, read under the size limit.
      parse: ({ request }) => readJsonBody(request, ctx.maxBodyBytes),
      body: BatchBodySchema,
      response: { 200: BatchResultSchema },
      detail: doc({
        summary: "Apply sets and deletes atomically",
        description:
          'Each op is `{"op":"set","key","value"}`, `{"op":"set","key","value_base64"}` or `{"op":"delete","key"}`. ' +
          "All ops are applied or none; durable when answered.",
        tags: ["keys"],
        responses: errorResponses(400, 413),
      }),
    },
  );
}
