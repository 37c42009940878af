/**
 * @module
 * `kvdb serve`: runs the REST server on the data directory until SIGTERM/SIGINT.
 */
import { DEFAULT_MAX_BODY_BYTES } from "../../server/app.ts";
import { chooseIndexesFile } from "../../server/indexes-file.ts";
import { runServer } from "../../server/serve.ts";
import type { SyncMode } from "../../types.ts";
import { integerFlag, UsageError } from "../args.ts";
import type { Command } from "../command.ts";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 7070;

export const serveCommand: Command = {
  name: "serve",
  summary: "Run the REST server (Swagger UI at /swagger)",
  usage: "",
  description:
    "Serves the data directory over HTTP until SIGTERM or SIGINT, then finishes in-flight requests and closes the " +
    "database. Binding a non-loopback host requires --auth-token unless --insecure is given. While it runs, CLI " +
    "commands on the same directory go through it. Secondary indexes are declared in --indexes FILE (default " +
    "./indexes.toml when it exists); a bad file stops the server from starting, with the validation message.",
  options: {
    host: { type: "string", valueName: "HOST", env: "KVDB_HOST", description: `Address to bind (default ${DEFAULT_HOST}).` },
    port: { type: "string", valueName: "PORT", env: "KVDB_PORT", description: `Port (default ${DEFAULT_PORT}; 0 = any free port).` },
    sync: { type: "string", valueName: "always|none", env: "KVDB_SYNC", description: "always (default): a 2xx write survives a crash; none: faster, may lose recent writes." },
    insecure: { type: "boolean", env: "KVDB_INSECURE", description: "Allow a non-loopback bind without a token." },
    "max-body-bytes": { type: "string", valueName: "N", env: "KVDB_MAX_BODY_BYTES", description: `Largest request body (default ${DEFAULT_MAX_BODY_BYTES}).` },
  },
  args: { min: 0, max: 0 },
  async run({ flags, common, io }) {
    const sync = (flags.sync as string | undefined) ?? "always";
    if (sync !== "always" && sync !== "none") throw new UsageError(`serve: --sync must be "always" or "none", got ${JSON.stringify(sync)}`);
    const port = integerFlag("serve", "port", flags.port) ?? DEFAULT_PORT;
    if (port > 65535) throw new UsageError(`serve: --port must be at most 65535, got ${port}`);
    const indexes = chooseIndexesFile(common.indexes);
    const log = (line: string) => {
      io.stdout.write(line + "\n");
      void io.stdout.flush();
    };
    return runServer(
      {
        dataDir: common.dataDir,
        host: (flags.host as string | undefined) ?? DEFAULT_HOST,
        port,
        sync,
        authToken: common.authToken,
        insecure: Boolean(flags.insecure),
        maxBodyBytes: integerFlag("serve", "max-body-bytes", flags["max-body-bytes"], 1),
        indexesPath: indexes.open,
        indexesReloadPath: indexes.reload,
      },
      log,
    );
  },
};
