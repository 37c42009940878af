/**
 * @module
 * `kvdb stats`: the figures of `GET /stats` (engine and indexes).
 */
import type { Command } from "../command.ts";
import { writeJson } from "../output.ts";

/**
 * The stats as aligned lines for people, following the shape of `GET /stats` so that new
 * figures show up without changes here: a scalar is `name  value`, an object is
 * `name  key=value key=value`, an array (levels, indexes) is one indented line per
 * element, labelled by its `level` or `name`.
 */
export function formatStats(stats: object): string {
  const rows: [string, string][] = [];
  const inline = (value: unknown): string =>
    value !== null && typeof value === "object"
      ? Object.entries(value)
          .filter(([, v]) => !Array.isArray(v))
          .map(([k, v]) => (v !== null && typeof v === "object" ? `${k}={${inline(v)}}` : `${k}=${v}`))
          .join(" ")
      : String(value);
  const elements = (label: string, items: unknown[]) =>
    items.forEach((item, i) => {
      const { level, name, ...rest } = (item ?? {}) as { level?: number; name?: string };
      rows.push([`  ${label}[${level ?? name ?? i}]`, inline(rest)]);
    });
  for (const [name, value] of Object.entries(stats)) {
    if (Array.isArray(value)) {
      rows.push([name, String(value.length)]);
      elements(name, value);
      continue;
    }
    rows.push([name, inline(value)]);
    if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) if (Array.isArray(v)) elements(k, v);
    }
  }
  const width = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, v]) => `${n.padEnd(width)}  ${v}\n`).join("");
}

export const statsCommand: Command = {
  name: "stats",
  summary: "Show engine and index figures",
  usage: "",
  args: { min: 0, max: 0 },
  async run({ common, io, store }) {
    const stats = await (await store()).stats();
    if (common.json) writeJson(io.stdout, stats);
    else io.stdout.write(formatStats(stats));
    return 0;
  },
};
