/**
 * @module
 * Aligned text tables for people (`kvdb query`, `kvdb index list`): a header row, columns
 * padded to their widest cell and separated by two spaces, cells escaped to one line,
 * and — when the terminal width is known — long cells cut with "…" so every row fits on
 * one line of the terminal. Machines use `--json` instead.
 */
import { displayText } from "./output.ts";

export interface TableOptions {
  /** Terminal width: each row is cut to it (the last column gives way). */
  width?: number;
  /** Longest cell in any column but the last, in characters (cut with "…"). */
  maxCell?: number;
  /** Columns (by position) whose cells are right-aligned, e.g. numbers. */
  alignRight?: readonly number[];
}

/** The table as lines, each ending in "\n". */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = [header, ...rows].map((row) => row.map(displayText));
  const last = header.length - 1;
  const widths = header.map((_, c) => {
    const widest = Math.max(...all.map((row) => length(row[c] ?? "")));
    return c < last && options.maxCell !== undefined ? Math.min(widest, options.maxCell) : widest;
  });
  const right = new Set(options.alignRight ?? []);
  const lines = all.map((row) => {
    const cells = row.map((cell, c) => {
      if (c === last) return right.has(c) ? cell.padStart(widths[c]) : cell;
      const cut = truncate(cell, widths[c]);
      return right.has(c) ? cut.padStart(widths[c]) : cut + " ".repeat(widths[c] - length(cut));
    });
    const line = cells.join("  ").trimEnd();
    return options.width !== undefined ? truncate(line, options.width) : line;
  });
  return lines.map((l) => l + "\n").join("");
}

/** `text` cut to at most `max` characters (code points), ending in "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return max <= 1 ? "…".slice(0, Math.max(max, 0)) : chars.slice(0, max - 1).join("") + "…";
}

function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
