/**
 * @module
 * Request latencies collected into consecutive time windows (10 s by default in the
 * soak): each closed window gives its throughput, error count and p50/p99/max latency.
 */

export interface WindowStats {
  /** Seconds from the start of the run to the end of the window. */
  endSeconds: number;
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

/** The value at quantile `q` (0..1) of ascending `sorted`; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export class LatencyWindows {
  private latencies: number[] = [];
  private errors = 0;
  private windowStarted: number;
  readonly closed: WindowStats[] = [];

  constructor(private readonly runStarted: number) {
    this.windowStarted = runStarted;
  }

  /** One finished request: its latency (ms) and whether it failed. */
  record(ms: number, failed: boolean): void {
    this.latencies.push(ms);
    if (failed) this.errors++;
  }

  /** Closes the current window at `now` (performance.now()) and returns its figures. */
  roll(now: number): WindowStats {
    const sorted = Float64Array.from(this.latencies).sort();
    const seconds = (now - this.windowStarted) / 1000;
    const stats: WindowStats = {
      endSeconds: Math.round((now - this.runStarted) / 100) / 10,
      requests: sorted.length,
      errors: this.errors,
      perSecond: seconds > 0 ? Math.round(sorted.length / seconds) : 0,
      p50: round(quantile(sorted, 0.5)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted.length > 0 ? sorted[sorted.length - 1] : NaN),
    };
    this.closed.push(stats);
    this.latencies = [];
    this.errors = 0;
    this.windowStarted = now;
    return stats;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
