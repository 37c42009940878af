/**
 * @module
 * Deciding how the CLI reaches the database:
 *
 * 1. `--url` (or KVDB_URL): that server.
 * 2. The data directory is held by a running `kvdb serve` that recorded its address
 *    (`<dir>/SERVER`): through that server.
 * 3. Otherwise: open the directory in this process. Its writes maintain the indexes
 *    recorded in the directory exactly as the server would; `--indexes FILE` also
 *    reconciles them with FILE first (`kvdb index reload` reads `./indexes.toml` by
 *    default). If another process holds it without a recorded address, say so (LOCKED)
 *    rather than wait.
 *
 * With `--verbose` the path taken is reported on stderr.
 */
import * as path from "node:path";
import { openDatabase } from "../db.ts";
import { isKvdbError, KvdbError } from "../engine/errors.ts";
import { readLockHolder } from "../engine/lock.ts";
import { chooseIndexesFile } from "../server/indexes-file.ts";
import { findRunningServer } from "../server/server-file.ts";
import type { CommonFlags } from "./args.ts";
import { HttpStore } from "./client.ts";
import type { CliIO } from "./io.ts";
import { localStore, type KvStore } from "./store.ts";

export async function openStore(common: CommonFlags, io: CliIO): Promise<KvStore> {
  const say = (line: string) => {
    if (common.verbose) io.stderr.write(`kvdb: ${line}\n`);
  };
  if (common.url) {
    say(`using the server at ${common.url} (--url)`);
    return new HttpStore(common.url, common.authToken);
  }
  const dir = path.resolve(common.dataDir);
  const server = findRunningServer(dir);
  if (server) {
    if (server.auth && !common.authToken) {
      throw new KvdbError(
        "LOCKED",
        `${dir} is served by kvdb (pid ${server.pid}) at ${server.url}, which requires a token: set KVDB_AUTH_TOKEN or --auth-token`,
      );
    }
    say(`${dir} is held by a kvdb server (pid ${server.pid}); going through ${server.url}`);
    return new HttpStore(server.url, common.authToken);
  }
  try {
    const indexes = chooseIndexesFile(common.indexes);
    // A one-off command changes the registry only when --indexes names a file: the
    // indexes recorded in the data directory are maintained by its writes either way, and
    // a stray ./indexes.toml in the current folder must not drop or rebuild them.
    const declared = common.indexes ? indexes.open : undefined;
    const db = await openDatabase(dir, { indexes: declared });
    say(`opened ${dir} directly (no server holds it)${declared ? `, indexes from ${declared}` : ""}`);
    return localStore(db, { indexesFile: indexes.reload });
  } catch (e) {
    if (!isKvdbError(e, "LOCKED")) throw e;
    // A server may have started between our look and our open: look once more.
    const late = findRunningServer(dir);
    if (late && (!late.auth || common.authToken)) {
      say(`${dir} is held by a kvdb server (pid ${late.pid}); going through ${late.url}`);
      return new HttpStore(late.url, common.authToken);
    }
    const holder = readLockHolder(dir);
    throw new KvdbError(
      "LOCKED",
      `${dir} is in use by process ${holder ?? "?"}, which recorded no server address; stop it or pass --url`,
    );
  }
}
