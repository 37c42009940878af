/**
 * @module
 * `kvdb query [--prefix P] [--filter JSON] [--sort FIELD[:asc|desc]] [--limit N] [--cursor C] [--explain] [--count]`:
 * the request of `POST /query` from flags. People get a table (key, then the value as
 * compact JSON cut to the terminal width), the next cursor and a one-line plan summary;
 * `--json` prints exactly the REST response, one line.
 */
import type { JsonValue, QueryPlan, QueryRequest, QueryResponse } from "../../query/types.ts";
import { integerFlag, UsageError } from "../args.ts";
import type { Command } from "../command.ts";
import type { CliIO } from "../io.ts";
import { writeJson } from "../output.ts";
import { formatTable } from "../table.ts";

export const queryCommand: Command = {
  name: "query",
  summary: "Query values with a filter (uses an index when one applies)",
  usage: "",
  description:
    'The filter is a JSON object, e.g. --filter \'{"city":"PortoAlegre","age":{"$gte":30}}\' (see the README, ' +
    '"Filter language"). Prints a table of KEY and VALUE (cut to the terminal width), then the cursor of the next ' +
    "page (pass it back with --cursor, with the same --prefix and --filter) and how the query was answered. " +
    "With --json: the REST response of POST /query, unchanged.",
  options: {
    prefix: { type: "string", valueName: "P", description: "Only keys starting with P (the query's scope_prefix)." },
    filter: { type: "string", valueName: "JSON", description: "The filter, a JSON object (default: every JSON object in scope)." },
    limit: { type: "string", valueName: "N", description: "Items per page (default 100, at most 1000)." },
    cursor: { type: "string", valueName: "C", description: "Resume after the previous page (its next cursor)." },
    explain: { type: "boolean", description: "Also show the indexes considered and why each was not used." },
    count: { type: "boolean", description: "Print only the number of matches." },
    sort: { type: "string", valueName: "FIELD[:asc|desc]", description: "Order the items by one field (default ascending), e.g. --sort age:desc." },
  },
  args: { min: 0, max: 0 },
  async run({ flags, common, io, store }) {
    const request = buildRequest(flags);
    const response = await (await store()).query(request);
    if (common.json) writeJson(io.stdout, response);
    else io.stdout.write(formatQueryResponse(response, terminalWidth(io)));
    return 0;
  },
};

/** The `POST /query` body the flags describe; only the flags given are set. */
export function buildRequest(flags: Record<string, string | boolean | undefined>): QueryRequest {
  const request: QueryRequest = {};
  if (flags.prefix !== undefined) request.scope_prefix = flags.prefix as string;
  if (flags.filter !== undefined) {
    try {
      request.filter = JSON.parse(flags.filter as string);
    } catch (e) {
      throw new UsageError(`query: --filter is not valid JSON: ${(e as Error).message}`);
    }
  }
  const limit = integerFlag("query", "limit", flags.limit);
  if (limit !== undefined) request.limit = limit;
  if (flags.cursor !== undefined) request.cursor = flags.cursor as string;
  if (flags.explain) request.explain = true;
  if (flags.count) request.count = true;
  if (flags.sort !== undefined) request.sort = sortFlag(flags.sort as string);
  return request;
}

/** `age`, `age:asc`, `age:desc` → `{"age": 1|-1}`; the direction is after the last ":" so paths may contain ":". */
function sortFlag(text: string): Record<string, 1 | -1> {
  const at = text.lastIndexOf(":");
  const suffix = at < 0 ? "" : text.slice(at + 1);
  if (suffix === "asc" || suffix === "desc") return { [text.slice(0, at)]: suffix === "desc" ? -1 : 1 };
  if (text === "") throw new UsageError("query: --sort needs a field, e.g. --sort age:desc");
  return { [text]: 1 };
}

/** The terminal's width, or `$COLUMNS`; undefined when output goes to a pipe or file. */
export function terminalWidth(io: CliIO): number | undefined {
  if (io.columns) return io.columns;
  const env = Number(io.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

/** The response for people: table, cursor, plan summary (and explain details). */
export function formatQueryResponse(response: QueryResponse, width?: number): string {
  let out = "";
  if ("count" in response) {
    out += `${response.count} ${response.count === 1 ? "match" : "matches"}\n`;
  } else if (response.items.length === 0) {
    out += "no matches\n";
  } else {
    const rows = response.items.map((item) => [item.key, JSON.stringify(item.value)]);
    // Keys get up to 40% of a known width, so values stay readable.
    const maxCell = width === undefined ? undefined : Math.max(12, Math.floor(width * 0.4));
    out += formatTable(["KEY", "VALUE"], rows, { width, maxCell });
    const n = response.items.length;
    out += response.next_cursor
      ? `${n} ${n === 1 ? "item" : "items"}; next page: --cursor ${response.next_cursor}\n`
      : `${n} ${n === 1 ? "item" : "items"}; end of results\n`;
  }
  return out + planSummary(response.plan) + "\n" + explainLines(response.plan);
}

/** "plan: index users_city (index_equality): 20 keys examined, 20 docs examined, 20 returned, 1.2 ms". */
export function planSummary(plan: QueryPlan): string {
  const how = plan.index === null ? plan.kind : `index ${plan.index} (${plan.kind})`;
  const parts = [`${plan.keys_examined} keys examined`, `${plan.docs_examined} docs examined`, `${plan.returned} returned`];
  if (plan.counted_from_index) parts.push("counted from the index");
  if (plan.sort) parts.push(`sorted by ${plan.sort.field} ${plan.sort.direction < 0 ? "desc" : "asc"} (${plan.sort.method})`);
  if (plan.skipped_not_json > 0) parts.push(`${plan.skipped_not_json} not JSON objects`);
  parts.push(`${plan.ms} ms`);
  return `plan: ${how}: ${parts.join(", ")}`;
}

function explainLines(plan: QueryPlan): string {
  const lines: string[] = [];
  for (const c of plan.candidates ?? []) lines.push(`  not used: ${c.index}: ${c.reason}`);
  if (plan.filter !== undefined) lines.push(`  filter: ${JSON.stringify(plan.filter as JsonValue)}`);
  if (plan.prefilter !== undefined) {
    lines.push(`  prefilter: ${plan.prefilter.length === 0 ? "(none)" : plan.prefilter.map((p) => JSON.stringify(p)).join(", ")}`);
  }
  return lines.map((l) => l + "\n").join("");
}
