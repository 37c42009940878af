/**
 * @module
 * Secondary index endpoints: `GET /indexes`, `GET /indexes/{name}`,
 * `POST /indexes/reload` and `POST /indexes/rebuild/{name}`.
 *
 * Reload re-reads the definitions file the server was started with (`--indexes`, or
 * `./indexes.toml`, also when it did not exist at start); a client cannot point the
 * server at another file. A bad file answers 400 with the validation message and the
 * current indexes stay in place. Rebuild answers 202 as soon as the new generation is
 * registered; the build runs in the background while the current generation keeps
 * answering queries, and `GET /indexes/{name}` shows its progress (`rebuilding`).
 */
import { Elysia, t } from "elysia";
import { KvdbError } from "../../engine/errors.ts";
import type { IndexInfo } from "../../types.ts";
import type { ServerContext } from "../context.ts";
import { IndexInfoSchema, IndexListSchema } from "../index-schemas.ts";
import { doc } from "../openapi.ts";
import { documented, errorResponses } from "../schemas.ts";

const NameParams = t.Object({ name: t.String({ description: "The index name, as declared in indexes.toml." }) });

export function indexRoutes(ctx: ServerContext) {
  const { db } = ctx;
  const named = (name: string): IndexInfo => {
    const info = db.getIndex(name);
    if (!info) throw new KvdbError("NOT_FOUND", `no index named ${JSON.stringify(name)}`);
    return info;
  };
  return new Elysia({ name: "kvdb-indexes" })
    .get("/indexes", () => ({ indexes: db.listIndexes() }), {
      detail: doc({
        summary: "List the secondary indexes",
        description: "Every declared index with its definition, state, build progress and size figures.",
        tags: ["indexes"],
        responses: { ...documented(200, "The indexes", IndexListSchema), ...errorResponses() },
      }),
    })
    .get("/indexes/:name", ({ params }) => named(params.name), {
      params: NameParams,
      detail: doc({
        summary: "One index: state, progress and figures",
        description: "Poll it to follow a build: `progress.scanned` while building, `rebuilding.scanned` while a new generation replaces a ready one.",
        tags: ["indexes"],
        responses: { ...documented(200, "The index", IndexInfoSchema), ...errorResponses(404) },
      }),
    })
    .post(
      "/indexes/reload",
      async () => ({ indexes: await db.reloadIndexes(ctx.indexesFile) }),
      {
        detail: doc({
          summary: "Re-read the index definitions file",
          description:
            "New or changed indexes are built online (a changed one keeps answering from its previous generation until " +
            "the new one is ready), removed ones are dropped in the background, unchanged ones are untouched. A bad " +
            "file is a 400 with the validation message (naming the index and the problem) and changes nothing.",
          tags: ["indexes"],
          responses: { ...documented(200, "The indexes after the reload", IndexListSchema), ...errorResponses(400) },
        }),
      },
    )
    .post(
      "/indexes/rebuild/:name",
      async ({ params, set }) => {
        const info = await db.rebuildIndex(params.name);
        set.status = 202;
        return info;
      },
      {
        params: NameParams,
        detail: doc({
          summary: "Rebuild an index online",
          description:
            "Starts building a fresh generation (re-packing sparse blocks, dropping tombstones) and answers 202 at once. " +
            "Reads and writes continue; the current generation answers queries until the new one is ready. Follow " +
            "`GET /indexes/{name}`: done when `rebuilding` is null and `state` is ready.",
          tags: ["indexes"],
          responses: { ...documented(202, "Rebuild started: the index as it is now", IndexInfoSchema), ...errorResponses(404) },
        }),
      },
    );
}
