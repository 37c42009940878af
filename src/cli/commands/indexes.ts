/**
 * @module
 * `kvdb index list | show NAME | reload | rebuild NAME`: the secondary index endpoints
 * from the command line. `--json` prints what the REST API answers (`{"indexes":[…]}`
 * for list and reload, the index for show and rebuild).
 *
 * `rebuild` waits for the new generation to be ready by polling the index (through the
 * server, or in this process, whose background worker does the build), drawing a
 * progress bar on a terminal, then prints one line; `--no-wait` returns once started.
 */
import { KvdbError } from "../../engine/errors.ts";
import type { IndexInfo } from "../../types.ts";
import { UsageError } from "../args.ts";
import type { Command } from "../command.ts";
import type { CliIO } from "../io.ts";
import { displayText, formatBytes, writeJson } from "../output.ts";
import { progress } from "../progress.ts";
import type { KvStore } from "../store.ts";
import { formatTable } from "../table.ts";
import { terminalWidth } from "./query.ts";

/** Time between two looks at a rebuilding index. */
export const REBUILD_POLL_MS = 200;

const SUBCOMMANDS: Record<string, { args: string[] }> = {
  list: { args: [] },
  show: { args: ["NAME"] },
  reload: { args: [] },
  rebuild: { args: ["NAME"] },
};

export const indexCommand: Command = {
  name: "index",
  summary: "List, show, reload or rebuild secondary indexes",
  usage: "list | show NAME | reload | rebuild NAME",
  description:
    "list: every index with its state and size. show NAME: one index in detail. reload: re-read the index " +
    "definitions file (the server's, or --indexes when the directory is opened here): new or changed indexes " +
    "build online, removed ones are dropped; a bad file changes nothing and prints the problem. rebuild NAME: " +
    "build a fresh generation online (queries use the current one meanwhile) and wait until it is ready, with a " +
    "progress bar on a terminal.",
  options: {
    "no-wait": { type: "boolean", description: "rebuild: return once the rebuild has started." },
  },
  args: { min: 1, max: 2 },
  async run({ args, flags, common, io, store }) {
    const [sub, name] = args;
    const spec = SUBCOMMANDS[sub];
    if (!spec) throw new UsageError(`index: unknown subcommand '${sub}'; expected list, show, reload or rebuild (see kvdb index --help)`);
    if (args.length - 1 !== spec.args.length) {
      throw new UsageError(`index ${sub}: expected ${spec.args.length ? spec.args.join(" ") : "no arguments"} (see kvdb index --help)`);
    }
    const db = await store();
    const width = terminalWidth(io);
    switch (sub) {
      case "list":
      case "reload": {
        const indexes = sub === "list" ? await db.listIndexes() : await db.reloadIndexes();
        if (common.json) writeJson(io.stdout, { indexes });
        else io.stdout.write(formatIndexList(indexes, width));
        return 0;
      }
      case "show": {
        const info = await db.getIndex(name);
        if (!info) throw new KvdbError("NOT_FOUND", `no index named ${JSON.stringify(name)}`);
        if (common.json) writeJson(io.stdout, info);
        else io.stdout.write(formatIndex(info));
        return 0;
      }
      default: {
        const started = performance.now();
        const begun = await db.rebuildIndex(name);
        if (flags["no-wait"]) {
          if (common.json) writeJson(io.stdout, begun);
          else io.stdout.write(`${name}: rebuild started (generation ${targetGeneration(begun)})\n`);
          return 0;
        }
        const done = await waitForRebuild(db, begun, io);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        if (common.json) writeJson(io.stdout, done);
        else {
          io.stdout.write(
            `${name}: rebuilt, generation ${done.generation} ready in ${seconds} s: ${done.live_entries} entries, ` +
              `${done.terms} terms, ${done.blocks} blocks, ${done.tombstones} tombstones, ${formatBytes(done.bytes)}\n`,
          );
        }
        return 0;
      }
    }
  },
};

/** The generation a rebuild started: the successor of a ready index, or the index itself while it builds. */
function targetGeneration(info: IndexInfo): number {
  return info.rebuilding?.generation ?? info.generation;
}

/**
 * Polls the index until the generation the rebuild started (or a newer one) is ready and
 * no other build is pending, showing progress; resolves with the final figures.
 */
export async function waitForRebuild(db: KvStore, begun: IndexInfo, io: CliIO, pollMs = REBUILD_POLL_MS): Promise<IndexInfo> {
  const target = targetGeneration(begun);
  // The previous build's record count estimates this one's (0 when it was built over an empty scope).
  const estimate = begun.state === "ready" && begun.progress.scanned > 0 ? begun.progress.scanned : undefined;
  const bar = progress(io, `rebuild ${begun.name}`, { estimatedItems: estimate, unit: "records" });
  try {
    for (;;) {
      const info = await db.getIndex(begun.name);
      if (!info) throw new KvdbError("NOT_FOUND", `index ${JSON.stringify(begun.name)} was removed while it was rebuilding`);
      if (info.error) throw new KvdbError("IO_ERROR", `index ${JSON.stringify(begun.name)}: the build failed: ${info.error}`);
      if (info.state === "ready" && info.generation >= target && info.rebuilding === null) return info;
      bar.update(info.rebuilding?.scanned ?? info.progress.scanned);
      await Bun.sleep(pollMs);
    }
  } finally {
    bar.finish();
  }
}

/** One row per index. */
export function formatIndexList(indexes: readonly IndexInfo[], width?: number): string {
  if (indexes.length === 0) return "no indexes declared\n";
  const rows = indexes.map((i) => [
    i.name,
    i.type,
    scopeText(i.scope_prefix),
    extractorText(i),
    stateText(i),
    String(i.live_entries),
    String(i.terms),
    String(i.blocks),
    String(i.tombstones),
    formatBytes(i.bytes),
  ]);
  return formatTable(["NAME", "TYPE", "SCOPE", "EXTRACTOR", "STATE", "ENTRIES", "TERMS", "BLOCKS", "TOMBSTONES", "SIZE"], rows, {
    width,
    maxCell: 40,
    alignRight: [5, 6, 7, 8, 9],
  });
}

/** One index as aligned `name  value` lines. */
export function formatIndex(i: IndexInfo): string {
  const rows: [string, string][] = [
    ["name", i.name],
    ["type", i.type],
    ["scope", scopeText(i.scope_prefix)],
    ["extractor", extractorText(i)],
    ["state", stateText(i)],
    ["generation", String(i.generation)],
    [
      "progress",
      `${i.progress.scanned} records scanned, started ${i.progress.started_at}` +
        (i.progress.ready_at ? `, ready ${i.progress.ready_at}` : "") +
        (i.progress.cursor ? `, at ${JSON.stringify(i.progress.cursor)}` : ""),
    ],
    ["rebuilding", i.rebuilding ? `generation ${i.rebuilding.generation}, ${i.rebuilding.scanned} records scanned` : "no"],
    ["entries", `${i.live_entries} live, ${i.tombstones} tombstones`],
    ["terms", String(i.terms)],
    ["blocks", String(i.blocks)],
    ["size", formatBytes(i.bytes)],
  ];
  if (i.error) rows.push(["error", i.error]);
  const w = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, v]) => `${n.padEnd(w)}  ${displayText(v)}\n`).join("");
}

function scopeText(scope: string): string {
  return scope === "" ? "(all keys)" : scope;
}

function extractorText(i: IndexInfo): string {
  const e = i.extractor;
  return e.kind === "json_path" ? e.path : `regex /${e.pattern}/${e.flags ?? ""} on the ${e.target}`;
}

function stateText(i: IndexInfo): string {
  if (i.state === "building") return `building (${i.progress.scanned} scanned)`;
  if (i.rebuilding) return `${i.state}, rebuilding (${i.rebuilding.scanned} scanned)`;
  return i.state;
}
