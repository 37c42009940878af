/**
 * @module
 * `POST /backup`: a consistent checkpoint of the served database, written while it keeps
 * serving (`db.backup`: hard links for the immutable tables, a copy of the live WALs up
 * to the moment of the call, a fresh manifest). Every write acknowledged before the
 * request is in it; `kvdb serve --data-dir DEST` opens it.
 *
 * `dest` is a path on the **server's** file system, so it must be absolute: a relative
 * path would depend on the server's working directory, which the client cannot see. It
 * must be a new or empty directory other than the data directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Elysia, t } from "elysia";
import { KvdbError } from "../../engine/errors.ts";
import { readJsonBody } from "../body.ts";
import type { ServerContext } from "../context.ts";
import { doc } from "../openapi.ts";
import { errorResponses } from "../schemas.ts";

const Count = t.Integer({ minimum: 0 });

export const BackupRequestSchema = t.Object({
  dest: t.String({ minLength: 1, description: "Absolute path of a new or empty directory on the server's file system." }),
});

export const BackupResultSchema = t.Object({
  dir: t.String({ description: "The backup directory." }),
  tables: Count,
  wals: Count,
  bytes: Count,
  ms: t.Number(),
});

/**
 * Why `dest` cannot take a backup, checked before any work: not absolute, or an
 * existing path that is not a directory. (A non-empty directory and the data directory
 * itself are refused by `db.backup`.)
 */
export function backupDestinationProblem(dest: string): string | undefined {
  if (!path.isAbsolute(dest)) return `the backup destination must be an absolute path, got ${JSON.stringify(dest)}`;
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dest);
  } catch {
    return undefined; // does not exist yet: it will be created
  }
  return stat.isDirectory() ? undefined : `the backup destination ${dest} exists and is not a directory`;
}

export function backupRoutes(ctx: ServerContext) {
  return new Elysia({ name: "kvdb-backup" }).post(
    "/backup",
    async ({ body, server, request }) => {
      const problem = backupDestinationProblem(body.dest);
      if (problem) throw new KvdbError("INVALID_ARGUMENT", problem);
      // Copying the WALs of a large MemTable can outlast the idle timeout.
      server?.timeout(request, 0);
      return ctx.db.backup(body.dest);
    },
    {
      parse: ({ request }) => readJsonBody(request, ctx.maxBodyBytes),
      body: BackupRequestSchema,
      response: { 200: BackupResultSchema },
      detail: doc({
        summary: "Write a consistent backup while serving",
        description:
          "Writes a checkpoint of the database to `dest`, a directory **on the server's file system** (absolute path; " +
          "created if missing; must be empty and not the data directory). Tables are hard-linked (copied across file " +
          "systems), the WALs not yet in tables are copied up to the moment of the request, and a fresh manifest " +
          "describes the copy. Reads and writes continue meanwhile. The backup holds every write acknowledged before " +
          "the request; open it with `kvdb serve --data-dir DEST`.",
        tags: ["operations"],
        responses: errorResponses(400),
      }),
    },
  );
}
