/**
 * @module
 * The soak: mixed load (reads, updates of indexed fields, deletes, batches, indexed
 * queries, listings) at N connections for M minutes against `kvdb serve --sync always`,
 * reporting throughput and p99 latency per 10 s window and the server's RSS and open file
 * descriptors every 2 s; at the end, whether throughput stayed steady, RSS bounded and
 * descriptors flat. See scripts/reliability/soak-run.ts for the verdict rules.
 *
 * Usage:
 *   bun scripts/soak.ts [--minutes 10] [--connections 64] [--keys 50000] [--seed S] [--bin dist/kvdb] [--json]
 *
 * Exits 1 when a request failed or a verdict is negative; 0 otherwise.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runSoak, soakSummaryLines } from "./reliability/soak-run.ts";
import { REPO_INDEXES_FILE } from "./reliability/server-child.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    keys: { type: "string", default: "50000" },
    seed: { type: "string" },
    bin: { type: "string" },
    indexes: { type: "string" },
    json: { type: "boolean", default: false },
  },
  strict: true,
});

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-soak-"));
let failed = true;
try {
  const summary = await runSoak({
    minutes: Number(values.minutes),
    connections: Number(values.connections),
    keys: Number(values.keys),
    seed,
    dataDir: path.join(dir, "data"),
    bin: values.bin,
    indexesFile: path.resolve(values.indexes ?? REPO_INDEXES_FILE),
    log: (line) => console.log(line),
  });
  for (const line of soakSummaryLines(summary)) console.log(line);
  if (values.json) console.log(JSON.stringify({ ...summary, samples: undefined, windows: undefined }));
  failed = summary.errors > 0 || !summary.throughput.steady || !summary.rss.bounded || summary.fds.leaking;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
