/**
 * @module
 * The crash loop: a child `kvdb serve` with the repository's indexes declared takes a
 * random mixed workload from concurrent clients and is SIGKILLed at random moments,
 * restarted and checked against an expected-state oracle (every acknowledged write
 * present with its value, batches all-or-nothing, every indexed query equal to the
 * scan-mode answer). See scripts/reliability/crash-loop-run.ts for the details.
 *
 * Usage:
 *   bun scripts/crash-loop.ts --cycles N [--seed S] [--data-dir D] [--bin dist/kvdb]
 *       [--clients 6] [--kill-min-ms 50] [--kill-max-ms 300] [--startup-kill-chance 0.05]
 *       [--keep-going] [--json]
 *
 * Exits 1 on any violation (and keeps the data directory); 0 otherwise.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runCrashLoop, summaryLines } from "./reliability/crash-loop-run.ts";
import { REPO_INDEXES_FILE } from "./reliability/server-child.ts";

const { values } = parseArgs({
  options: {
    cycles: { type: "string", default: "20" },
    seed: { type: "string" },
    "data-dir": { type: "string" },
    bin: { type: "string" },
    indexes: { type: "string" },
    clients: { type: "string", default: "6" },
    "kill-min-ms": { type: "string", default: "50" },
    "kill-max-ms": { type: "string", default: "300" },
    "startup-kill-chance": { type: "string", default: "0.05" },
    "keep-going": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
  strict: true,
});

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const ownDir = values["data-dir"] === undefined;
const dataDir = path.resolve(values["data-dir"] ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-crash-loop-")), "data"));
console.log(`crash loop: seed ${seed} (replay the choices with --seed ${seed}), data dir ${dataDir}`);

const summary = await runCrashLoop({
  cycles: Number(values.cycles),
  seed,
  dataDir,
  bin: values.bin,
  indexesFile: path.resolve(values.indexes ?? REPO_INDEXES_FILE),
  clients: Number(values.clients),
  userKeysPerClient: 40,
  otherKeysPerClient: 15,
  killMinMs: Number(values["kill-min-ms"]),
  killMaxMs: Number(values["kill-max-ms"]),
  startupKillChance: Number(values["startup-kill-chance"]),
  stopOnViolation: !values["keep-going"],
  log: (line) => console.log(line),
});

for (const line of summaryLines(summary)) console.log(line);
if (values.json) console.log(JSON.stringify(summary));
const failed = summary.writesLost > 0 || summary.mismatches > 0;
if (failed) console.log(`FAILED: the data directory is kept at ${dataDir}`);
else if (ownDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
process.exit(failed ? 1 : 0);
