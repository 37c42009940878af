/**
 * @module
 * The fuzzer's model of the whole keyspace: exact, because the fuzzer sends one request
 * at a time and applies the effect of every accepted write. Comparing it with a full
 * `GET /kv` listing right after a rejected request shows whether that request changed
 * anything.
 */
import { listAll } from "./http.ts";

export class KeyspaceModel {
  private readonly entries = new Map<string, Uint8Array>();

  set(key: string, value: Uint8Array | string): void {
    this.entries.set(key, typeof value === "string" ? new TextEncoder().encode(value) : value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get(key: string): Uint8Array | undefined {
    return this.entries.get(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** Replaces the model with what the server holds (after an accepted request whose effect is not modelled). */
  async resync(url: string): Promise<void> {
    const actual = await listAll(url);
    this.entries.clear();
    for (const [k, v] of actual) this.entries.set(k, v);
  }

  /** Differences between the model and the server's keyspace, described (empty when equal). */
  async diff(url: string): Promise<string[]> {
    const actual = await listAll(url);
    const out: string[] = [];
    const short = (k: string) => JSON.stringify(k.length > 60 ? k.slice(0, 60) + "…" : k);
    for (const [k, v] of this.entries) {
      const got = actual.get(k);
      if (!got) out.push(`${short(k)} disappeared`);
      else if (Buffer.compare(got, v) !== 0) out.push(`${short(k)} changed (${v.length} → ${got.length} bytes)`);
    }
    for (const k of actual.keys()) if (!this.entries.has(k)) out.push(`${short(k)} appeared`);
    return out;
  }
}
