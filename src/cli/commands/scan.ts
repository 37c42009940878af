/**
 * @module
 * `kvdb scan`: keys and values in key order, filtered like `GET /kv`.
 */
import { integerFlag } from "../args.ts";
import type { Command } from "../command.ts";
import { displayValue, entryJson } from "../output.ts";

export const DEFAULT_SCAN_LIMIT = 100;

export const scanCommand: Command = {
  name: "scan",
  summary: "List keys and values in key order",
  usage: "",
  description:
    `Prints "KEY<TAB>VALUE" lines (binary values as base64:…), at most --limit of them (default ${DEFAULT_SCAN_LIMIT}; 0 = all). ` +
    'With --json: one {"key","value"} JSON object per line. For a full dump use kvdb export.',
  options: {
    prefix: { type: "string", valueName: "P", description: "Only keys starting with P." },
    start: { type: "string", valueName: "S", description: "Only keys >= S." },
    end: { type: "string", valueName: "E", description: "Only keys < E." },
    contains: { type: "string", valueName: "C", description: "Only keys containing the substring C." },
    limit: { type: "string", valueName: "N", description: `At most N items (default ${DEFAULT_SCAN_LIMIT}; 0 = no limit).` },
  },
  args: { min: 0, max: 0 },
  async run({ flags, common, io, store }) {
    const limit = integerFlag("scan", "limit", flags.limit) ?? DEFAULT_SCAN_LIMIT;
    const range = {
      prefix: flags.prefix as string | undefined,
      start: flags.start as string | undefined,
      end: flags.end as string | undefined,
      contains: flags.contains as string | undefined,
    };
    let n = 0;
    let truncated = false;
    for await (const [key, value] of (await store()).scan(range)) {
      if (limit > 0 && n === limit) {
        truncated = true;
        break;
      }
      io.stdout.write(common.json ? entryJson(key, value) + "\n" : `${key}\t${displayValue(value)}\n`);
      if (++n % 1000 === 0) await io.stdout.flush();
    }
    if (truncated && !common.json) io.stderr.write(`kvdb: more keys follow; raise --limit (0 = all) or use kvdb export\n`);
    return 0;
  },
};
