/**
 * @module
 * The soak's mixed load: `connections` concurrent loops, each sending one request at a
 * time over a bounded keyspace (`user:0` … `user:<keys-1>`, JSON user records under the
 * `users_city` and `users_age` indexes), so the data set stays the same size and any
 * growth of memory or descriptors over time is the server's, not the data's.
 *
 * The mix: 50% point reads, 20% updates (new city and age: index maintenance), 5%
 * deletes, 10% batches of 10 sets, 10% indexed queries (a page, sometimes a count),
 * 5% listings. A deleted key is written again by later updates.
 */
import { seededRandom, type Random } from "../../test/support/random.ts";
import type { LatencyWindows } from "./latency-window.ts";

export const SOAK_CITIES = ["PortoAlegre", "Recife", "Lisboa", "Zürich", "Kraków", "東京", "Nairobi", "Lima"];

/** A user record of ~150 bytes. */
export function soakRecord(r: Random, i: number): string {
  return JSON.stringify({ name: `user ${i}`, email: `u${i}@example.com`, city: r.pick(SOAK_CITIES), age: r.int(90), ts: Date.now(), active: r.chance(0.5) });
}

export interface SoakCounters {
  /** Non-2xx answers other than a 404 for a deleted key, and failed requests. */
  errors: number;
  serverErrors: number;
  /** The first few failures, described. */
  samples: string[];
}

/** Runs the load until `stop()` is true; every request's latency goes to `windows`. */
export async function runSoakLoad(url: string, connections: number, keys: number, seed: number, windows: LatencyWindows, stop: () => boolean, counters: SoakCounters): Promise<void> {
  await Promise.all(Array.from({ length: connections }, (_, c) => connection(url, keys, seededRandom((seed + c * 7919) >>> 0), windows, stop, counters)));
}

async function connection(url: string, keys: number, r: Random, windows: LatencyWindows, stop: () => boolean, counters: SoakCounters): Promise<void> {
  const key = () => `user:${r.int(keys)}`;
  while (!stop()) {
    const roll = r.next();
    let request: Request;
    if (roll < 0.5) request = new Request(`${url}/kv/${encodeURIComponent(key())}`);
    else if (roll < 0.7) {
      const i = r.int(keys);
      request = new Request(`${url}/kv/${encodeURIComponent(`user:${i}`)}`, { method: "PUT", body: soakRecord(r, i) });
    } else if (roll < 0.75) request = new Request(`${url}/kv/${encodeURIComponent(key())}`, { method: "DELETE" });
    else if (roll < 0.85) {
      const ops = Array.from({ length: 10 }, () => {
        const i = r.int(keys);
        return { op: "set", key: `user:${i}`, value: soakRecord(r, i) };
      });
      request = new Request(`${url}/batch`, { method: "POST", body: JSON.stringify({ ops }) });
    } else if (roll < 0.95) {
      const low = r.int(80);
      const filter = r.chance(0.7) ? { city: r.pick(SOAK_CITIES) } : { age: { $gte: low, $lt: low + 2 } };
      const query = r.chance(0.2) ? { scope_prefix: "user:", filter, count: true } : { scope_prefix: "user:", filter, limit: 20 };
      request = new Request(`${url}/query`, { method: "POST", body: JSON.stringify(query) });
    } else request = new Request(`${url}/kv?${new URLSearchParams({ start: key(), limit: "50" })}`);
    const started = performance.now();
    let failed = false;
    try {
      const res = await fetch(request);
      await res.arrayBuffer();
      failed = !res.ok && !(res.status === 404 && request.method === "GET");
      if (res.status >= 500) counters.serverErrors++;
      if (failed && counters.samples.length < 10) counters.samples.push(`${request.method} ${new URL(request.url).pathname} → ${res.status}`);
    } catch (e) {
      failed = true;
      if (counters.samples.length < 10) counters.samples.push(`${request.method} ${new URL(request.url).pathname} → ${(e as Error).message}`);
    }
    if (failed) counters.errors++;
    windows.record(performance.now() - started, failed);
  }
}
