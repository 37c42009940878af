/**
 * @module
 * An issue's performance target checked against a measured figure, printed as one line
 * marked ✓ or ✗ (or ? when the figure is missing), with how far a missed target is off.
 */

export interface Target {
  label: string;
  /** The measured figure (a ratio, usually); undefined when it could not be measured. */
  value: number | undefined;
  /** The bound the figure must reach. */
  bound: number;
  /** "min": value ≥ bound passes (speed ratios); "max": value ≤ bound passes (amplification, latency ratios). */
  kind: "min" | "max";
  /** Appended to numbers, e.g. "×". */
  unit?: string;
}

/** Whether the target is met (false when unmeasured). */
export function targetMet(t: Target): boolean {
  if (t.value === undefined || !Number.isFinite(t.value)) return false;
  return t.kind === "min" ? t.value >= t.bound : t.value <= t.bound;
}

/** `✓ label: 1.23× (target ≥ 2×)`, with `missed by N%` on a miss. */
export function formatTarget(t: Target): string {
  const unit = t.unit ?? "×";
  const sign = t.kind === "min" ? "≥" : "≤";
  if (t.value === undefined || !Number.isFinite(t.value)) return `  ? ${t.label}: not measured (target ${sign} ${t.bound}${unit})`;
  const met = targetMet(t);
  // A miss says by how much the figure falls short of (or exceeds) the bound.
  const off = t.kind === "min" ? (1 - t.value / t.bound) * 100 : (t.value / t.bound - 1) * 100;
  const miss = met ? "" : `, missed by ${off.toFixed(0)}%`;
  return `  ${met ? "✓" : "✗"} ${t.label}: ${t.value.toFixed(2)}${unit} (target ${sign} ${t.bound}${unit}${miss})`;
}
