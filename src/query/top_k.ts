/**
 * @module
 * The best `k` documents of a sorted query read in any order: a bounded binary heap
 * whose root is the worst document kept, so each further candidate costs one comparison
 * when it cannot enter and O(log k) when it replaces the root. Memory is `k` keys and
 * values (`k` ≤ the query limit, at most 1000), whatever the number of candidates.
 */
import { compareSortPositions, type SortDirection } from "./sort.ts";

export interface Ranked {
  /** Encoded sort value, null when the document has none. */
  readonly value: Uint8Array | null;
  /** The key's UTF-8 bytes (owned by the heap). */
  readonly key: Uint8Array;
  /** The stored bytes (owned by the heap). */
  readonly bytes: Uint8Array;
}

export class TopK {
  private readonly heap: Ranked[] = [];

  constructor(
    private readonly k: number,
    private readonly direction: SortDirection,
  ) {}

  /** Negative when `a` sorts before `b`. */
  private order(a: Ranked, b: { value: Uint8Array | null; key: Uint8Array }): number {
    return compareSortPositions(a.value, a.key, b.value, b.key, this.direction);
  }

  /** Whether a document at (`value`, `key`) would be kept now (so its bytes are worth copying). */
  wants(value: Uint8Array | null, key: Uint8Array): boolean {
    return this.heap.length < this.k || this.order(this.heap[0], { value, key }) > 0;
  }

  /** Adds a document that `wants` accepted, evicting the worst when full. */
  add(item: Ranked): void {
    const h = this.heap;
    if (h.length < this.k) {
      h.push(item);
      let i = h.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.order(h[parent], h[i]) >= 0) break;
        [h[parent], h[i]] = [h[i], h[parent]];
        i = parent;
      }
      return;
    }
    h[0] = item;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < h.length && this.order(h[l], h[worst]) > 0) worst = l;
      if (r < h.length && this.order(h[r], h[worst]) > 0) worst = r;
      if (worst === i) return;
      [h[worst], h[i]] = [h[i], h[worst]];
      i = worst;
    }
  }

  /** The documents kept, best first. */
  sorted(): Ranked[] {
    return [...this.heap].sort((a, b) => this.order(a, b));
  }
}
