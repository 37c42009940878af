/**
 * @module
 * The benchmark's data set, generated identically in every process from a seed so that
 * kvdb and bun:sqlite (each measured in its own child process) see the same bytes.
 *
 * Keys are `user:BB:IIIIIIII` (16 ASCII bytes): `BB` is a pseudo-random bucket 00–99, so
 * the prefix `user:BB:` selects about 1% of the keys; `IIIIIIII` is the zero-padded key
 * number. Values are JSON documents of about 150 bytes
 * (`{"name","email","phone","city","age","ts","active"}`, 50 cities), stored back to back in one
 * buffer so the data set costs the same memory in both processes and no encoding work
 * happens inside a timed loop. Keys are inserted in a seeded random order.
 */

/** A small, fast, seeded PRNG (mulberry32); the bench must be reproducible, not secure. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CITIES = [
  "Amsterdam", "Athens", "Auckland", "Bangkok", "Barcelona", "Berlin", "Bogota", "Boston",
  "Brussels", "Buenos Aires", "Cairo", "Cape Town", "Chicago", "Copenhagen", "Dallas",
  "Dublin", "Edinburgh", "Helsinki", "Hong Kong", "Istanbul", "Jakarta", "Lagos", "Lima",
  "Lisbon", "London", "Los Angeles", "Madrid", "Manila", "Melbourne", "Mexico City",
  "Miami", "Milan", "Montreal", "Mumbai", "Munich", "Nairobi", "New York", "Oslo", "Paris",
  "Prague", "Rio de Janeiro", "Rome", "San Francisco", "Santiago", "Seoul", "Singapore",
  "Stockholm", "Sydney", "Tokyo", "Toronto",
];
const FIRST = [
  "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Isabella",
  "Lucas", "Mia", "Mateo", "Charlotte", "Levi", "Harper", "Ezra", "Evelyn", "Asher",
  "Luna", "James",
];
const LAST = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
  "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
  "Thomas", "Taylor", "Moore", "Jackson", "Martin",
];

const FIRST_LOWER = FIRST.map((s) => s.toLowerCase());
const LAST_LOWER = LAST.map((s) => s.toLowerCase());

/** Appends ASCII text and decimal integers to one growing byte buffer. */
class DocWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 256));
  }

  ascii(s: string): this {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
    return this;
  }

  /** A non-negative integer, left-padded with zeros to `width` digits. */
  int(v: number, width: number): this {
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    const w = Math.max(digits, width);
    this.reserve(w);
    for (let p = this.length + w - 1; p >= this.length; p--) {
      this.buf[p] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.length += w;
    return this;
  }

  /** The bytes written, in a buffer of exactly that size. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/** Number of prefix buckets; each `user:BB:` prefix holds about 1/BUCKETS of the keys. */
export const BUCKETS = 100;

export interface Workload {
  readonly n: number;
  readonly seed: number;
  /** Key of record i (i in 0..n-1). */
  readonly keys: string[];
  /** Insertion order: a random permutation of 0..n-1. */
  readonly order: Uint32Array;
  /** Record numbers in ascending key order (for range-scan bounds). */
  readonly sorted: Uint32Array;
  /** Total bytes of all values. */
  readonly valueBytes: number;
  /** The value of record i, a view into one shared buffer (no copy). */
  value(i: number): Uint8Array;
}

/** Builds the data set for `n` records from `seed`; same inputs give the same bytes. */
export function buildWorkload(n: number, seed: number): Workload {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const keys = new Array<string>(n);
  const bucketOf = new Uint8Array(n);
  const doc = new DocWriter(n * 190);
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const bucket = Math.floor(rand() * BUCKETS);
    bucketOf[i] = bucket;
    keys[i] = `user:${String(bucket).padStart(2, "0")}:${String(i).padStart(8, "0")}`;
    const first = Math.floor(rand() * FIRST.length);
    const last = Math.floor(rand() * LAST.length);
    // Written byte by byte (all ASCII) so that generating a million documents leaves no
    // garbage strings behind to inflate the baseline RSS both engines are measured on.
    doc.ascii('{"name":"').ascii(FIRST[first]).ascii(" ").ascii(LAST[last]);
    doc.ascii('","email":"').ascii(FIRST_LOWER[first]).ascii(".").ascii(LAST_LOWER[last]).ascii(".").int(i, 0);
    doc.ascii('@example.com","phone":"+1-555-').int(Math.floor(rand() * 10_000_000), 7);
    doc.ascii('","city":"').ascii(pick(CITIES));
    doc.ascii('","age":').int(18 + Math.floor(rand() * 70), 0);
    doc.ascii(',"ts":').int(1_700_000_000_000 + Math.floor(rand() * 100_000_000_000), 0);
    doc.ascii(',"active":').ascii(rand() < 0.5 ? "true}" : "false}");
    offsets[i + 1] = doc.length;
  }
  const buf = doc.finish();
  const at = doc.length;

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }

  // Keys sort by bucket, then by the zero-padded number: a counting sort gives the order.
  const counts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < n; i++) counts[bucketOf[i] + 1]++;
  for (let b = 0; b < BUCKETS; b++) counts[b + 1] += counts[b];
  const sorted = new Uint32Array(n);
  for (let i = 0; i < n; i++) sorted[counts[bucketOf[i]]++] = i;

  return {
    n,
    seed,
    keys,
    order,
    sorted,
    valueBytes: at,
    value: (i) => buf.subarray(offsets[i], offsets[i + 1]),
  };
}

/** The prefix of bucket `b`, e.g. `user:07:`. */
export function bucketPrefix(b: number): string {
  return `user:${String(b).padStart(2, "0")}:`;
}

/** The smallest string greater than every string starting with `prefix` (ASCII prefixes). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * `count` seeded [start, end) key ranges, each holding exactly `span` keys (end is the key
 * just past the range, or undefined at the end of the key space).
 */
export function randomRanges(w: Workload, count: number, span: number, seed: number): Array<{ start: string; end: string | undefined }> {
  const rand = mulberry32(seed);
  const out: Array<{ start: string; end: string | undefined }> = [];
  const room = Math.max(1, w.n - span + 1);
  for (let i = 0; i < count; i++) {
    const s = Math.floor(rand() * room);
    const e = s + span;
    out.push({ start: w.keys[w.sorted[s]], end: e < w.n ? w.keys[w.sorted[e]] : undefined });
  }
  return out;
}

/** `count` seeded record numbers to read (existing keys, repeats allowed). */
export function randomReads(n: number, count: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(rand() * n);
  return out;
}
