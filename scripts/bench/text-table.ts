/**
 * @module
 * A plain-text table with aligned columns, as the benchmarks print their results:
 * a header row, a rule of dashes, then the body; each column left- or right-aligned.
 */

/** Renders `body` under `header`; `rightAlign[c]` right-aligns column c (numbers). */
export function renderTable(header: string[], body: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? "").length)));
  const line = (cells: string[]): string =>
    cells.map((cell = "", c) => (rightAlign[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
