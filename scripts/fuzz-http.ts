/**
 * @module
 * The HTTP fuzzer: starts its own `kvdb serve` (with the repository's indexes), reads the
 * operations from `/swagger/json` and sends valid, boundary and malformed requests one at
 * a time, checking that none gets a 5xx, the server never crashes or stalls, every 4xx
 * has the documented error body and no rejected request changes data. See
 * scripts/reliability/fuzz-run.ts for the details.
 *
 * Usage:
 *   bun scripts/fuzz-http.ts --requests N [--seed S] [--bin dist/kvdb] [--slow-ms 2000] [--json]
 *
 * Exits 1 on any violation (a reproduction of each is printed); 0 otherwise.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fuzzSummaryLines, runFuzz } from "./reliability/fuzz-run.ts";
import { REPO_INDEXES_FILE } from "./reliability/server-child.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    seed: { type: "string" },
    bin: { type: "string" },
    indexes: { type: "string" },
    "slow-ms": { type: "string", default: "2000" },
    json: { type: "boolean", default: false },
  },
  strict: true,
});

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-fuzz-"));
console.log(`fuzz: seed ${seed} (replay with --seed ${seed}), data dir ${dir}`);
let failed = true;
try {
  const summary = await runFuzz({
    requests: Number(values.requests),
    seed,
    dataDir: path.join(dir, "data"),
    bin: values.bin,
    indexesFile: path.resolve(values.indexes ?? REPO_INDEXES_FILE),
    slowMs: Number(values["slow-ms"]),
    log: (line) => console.log(line),
  });
  for (const line of fuzzSummaryLines(summary)) console.log(line);
  if (values.json) console.log(JSON.stringify(summary));
  failed = Object.keys(summary.violationsByKind).length > 0;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
