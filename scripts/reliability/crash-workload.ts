/**
 * @module
 * The crash loop's load: several concurrent HTTP clients doing a random mix of puts
 * (new records and updates of the indexed fields city and age), deletes, atomic batches,
 * reads, listings, indexed queries, manual compactions and index rebuilds, until the
 * server is killed.
 *
 * Each client owns a disjoint set of keys and has one request outstanding at a time, so
 * at most one write is in flight per key (what {@link ExpectedState} relies on) and the
 * client's own keys hold still while it reads. That makes online checks exact even under
 * concurrent load: a read of an own key must return its acknowledged value; a listing of
 * the client's own prefix must equal its acknowledged state; and an indexed query's
 * answer restricted to the client's own keys must be exactly the own keys that match —
 * while other clients write, compact and rebuild around it.
 */
import { seededRandom, type Random } from "../../test/support/random.ts";
import type { ExpectedState, PendingWrite } from "./expected-state.ts";
import { call, postJson, type HttpResult } from "./http.ts";
import { CITIES, matchesAgeRange, matchesCity, otherValue, userValue } from "./user-records.ts";

/** What kind of request a client is about to send (the crash loop can time a kill on it). */
export type RequestKind = "put" | "delete" | "batch" | "get" | "list" | "query" | "compact" | "rebuild";

export interface WorkloadOptions {
  clients: number;
  /** `user:` keys each client owns. */
  userKeysPerClient: number;
  /** Keys outside `user:` each client owns. */
  otherKeysPerClient: number;
}

export interface WorkloadCounters {
  requests: number;
  writesSent: number;
  reads: number;
  listings: number;
  queries: number;
  /** Queries answered from an index (plan.index non-null). */
  indexedQueries: number;
  compactions: number;
  rebuilds: number;
  /** Responses with a 5xx status. */
  serverErrors: number;
  /** Every failed online check: its kind and a description. */
  violations: OnlineViolation[];
}

/** Kinds of failed online checks. */
export type OnlineViolationKind =
  | "server_error"
  | "unexpected_status"
  | "connection_lost"
  | "read"
  | "listing"
  | "query_wrong_item"
  | "query_missing_or_extra"
  /** The same, within 500 ms of an index rebuild request (told apart to follow the rebuild-swap bug). */
  | "query_missing_or_extra_after_rebuild";

export interface OnlineViolation {
  kind: OnlineViolationKind;
  text: string;
}

export function emptyCounters(): WorkloadCounters {
  return { requests: 0, writesSent: 0, reads: 0, listings: 0, queries: 0, indexedQueries: 0, compactions: 0, rebuilds: 0, serverErrors: 0, violations: [] };
}

/** The keys client `c` owns. Some contain characters that need percent-encoding. */
export function ownedKeys(c: number, o: WorkloadOptions): { user: string[]; other: string[] } {
  const user = Array.from({ length: o.userKeysPerClient }, (_, i) => (i % 7 === 3 ? `user:c${c}:${i} ü/x?#%` : `user:c${c}:${String(i).padStart(3, "0")}`));
  const other = Array.from({ length: o.otherKeysPerClient }, (_, i) => `o:c${c}:${i}`);
  return { user, other };
}

export interface RunLoad {
  url: string;
  oracle: ExpectedState;
  /** Seeds the clients' choices (each client derives its own generator). */
  seed: number;
  /** Unique per load run, part of every write id. */
  runId: number;
  /** True once the kill is decided: connection failures after it are expected. */
  killed(): boolean;
  /** Called just before each request is sent. */
  onSend?(kind: RequestKind): void;
  counters: WorkloadCounters;
  /** Shared batch id counter (ids must be unique across runs). */
  nextBatchId(): number;
  /** When the last index rebuild was requested (performance.now()), quoted by failed query checks. */
  lastRebuildAt: number | undefined;
}

const enc = encodeURIComponent;

/** Runs every client until the server stops answering after `killed()`; resolves when all have stopped. */
export async function runLoad(o: WorkloadOptions, run: RunLoad): Promise<void> {
  await Promise.all(Array.from({ length: o.clients }, (_, c) => runClient(c, o, run)));
}

async function runClient(c: number, o: WorkloadOptions, run: RunLoad): Promise<void> {
  const r = seededRandom((run.seed ^ Math.imul(run.runId + 1, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b)) >>> 0);
  const keys = ownedKeys(c, o);
  const ownPrefix = `user:c${c}:`;
  let seq = 0;
  const writeId = () => `${run.runId}.${c}.${seq++}`;
  const { counters, oracle } = run;
  const violation = (kind: OnlineViolationKind, what: string) => counters.violations.push({ kind, text: `client ${c}: ${what}` });
  const send = async (kind: RequestKind, go: () => Promise<HttpResult>): Promise<HttpResult | undefined> => {
    run.onSend?.(kind);
    counters.requests++;
    try {
      const res = await go();
      if (res.status >= 500) {
        counters.serverErrors++;
        violation("server_error", `${kind} answered ${res.status}: ${res.text.slice(0, 300)}`);
      }
      return res;
    } catch (e) {
      if (!run.killed()) violation("connection_lost", `${kind} failed before the kill (did the server crash?): ${(e as Error).message}`);
      return undefined;
    }
  };
  const write = async (kind: RequestKind, w: PendingWrite, go: () => Promise<HttpResult>): Promise<boolean> => {
    oracle.begin(w);
    counters.writesSent++;
    const res = await send(kind, go);
    if (!res) return false; // in flight at the crash: the oracle keeps it pending
    if (res.status >= 200 && res.status < 300) oracle.ack(w);
    else {
      oracle.reject(w);
      if (res.status < 500) violation("unexpected_status", `${kind} of ${w.ops.map((op) => op.key).join(", ")} answered ${res.status}: ${res.text.slice(0, 300)}`);
    }
    return true;
  };

  while (!run.killed()) {
    const roll = r.next();
    let ok: boolean;
    if (roll < 0.3) {
      const key = r.pick(keys.user);
      const value = userValue(r, writeId());
      ok = await write("put", { ops: [{ key, value }] }, () => call(`${run.url}/kv/${enc(key)}`, { method: "PUT", body: value }));
    } else if (roll < 0.38) {
      const key = r.pick(keys.other);
      const value = otherValue(r, writeId());
      ok = await write("put", { ops: [{ key, value }] }, () => call(`${run.url}/kv/${enc(key)}`, { method: "PUT", body: value }));
    } else if (roll < 0.46) {
      const key = r.chance(0.7) ? r.pick(keys.user) : r.pick(keys.other);
      ok = await write("delete", { ops: [{ key, value: null }] }, () => call(`${run.url}/kv/${enc(key)}`, { method: "DELETE" }));
    } else if (roll < 0.61) {
      ok = await batch(r, keys, run, write, writeId);
    } else if (roll < 0.72) {
      const key = r.chance(0.7) ? r.pick(keys.user) : r.pick(keys.other);
      const res = await send("get", () => call(`${run.url}/kv/${enc(key)}`));
      ok = res !== undefined;
      if (res && res.status < 500) {
        counters.reads++;
        const expected = oracle.acked(key);
        const got = res.status === 404 ? null : res.status === 200 ? res.text : `<status ${res.status}>`;
        if (got !== expected) violation("read", `GET ${key} returned ${JSON.stringify(got?.slice(0, 100))}, acknowledged ${JSON.stringify(expected?.slice(0, 100))}`);
      }
    } else if (roll < 0.76) {
      const res = await send("list", () => call(`${run.url}/kv?prefix=${enc(ownPrefix)}&limit=1000`));
      ok = res !== undefined;
      if (res && res.status < 500) {
        counters.listings++;
        checkOwnListing(res, keys.user, oracle, violation);
      }
    } else if (roll < 0.94) {
      ok = await query(r, keys.user, run, send, violation);
    } else if (roll < 0.97) {
      const res = await send("compact", () => call(`${run.url}/compact`, { method: "POST" }));
      ok = res !== undefined;
      if (res) {
        counters.compactions++;
        if (res.status !== 200 && res.status < 500) violation("unexpected_status", `POST /compact answered ${res.status}: ${res.text.slice(0, 300)}`);
      }
    } else {
      const name = r.chance(0.7) ? "users_city" : "users_age";
      run.lastRebuildAt = performance.now();
      const res = await send("rebuild", () => call(`${run.url}/indexes/rebuild/${name}`, { method: "POST" }));
      ok = res !== undefined;
      if (res) {
        counters.rebuilds++;
        if (res.status !== 202 && res.status < 500) violation("unexpected_status", `POST /indexes/rebuild/${name} answered ${res.status}: ${res.text.slice(0, 300)}`);
      }
    }
    if (!ok) return;
  }
}

type Write = (kind: RequestKind, w: PendingWrite, go: () => Promise<HttpResult>) => Promise<boolean>;
type Violate = (kind: OnlineViolationKind, what: string) => void;
type Send = (kind: RequestKind, go: () => Promise<HttpResult>) => Promise<HttpResult | undefined>;

/** 2–8 distinct own keys; every value carries the batch id; at least one set so the batch is visible. */
function batch(r: Random, keys: { user: string[]; other: string[] }, run: RunLoad, write: Write, writeId: () => string): Promise<boolean> {
  const id = run.nextBatchId();
  const size = 2 + r.int(7);
  const chosen = new Set<string>();
  while (chosen.size < size) chosen.add(r.chance(0.75) ? r.pick(keys.user) : r.pick(keys.other));
  const ops: { key: string; value: string | null }[] = [];
  let i = 0;
  for (const key of chosen) {
    const isDelete = i > 0 && r.chance(0.2);
    const wid = `b${id}.${i++}.${writeId()}`;
    ops.push({ key, value: isDelete ? null : key.startsWith("user:") ? userValue(r, wid) : otherValue(r, wid) });
  }
  const body = { ops: ops.map(({ key, value }) => (value === null ? { op: "delete", key } : { op: "set", key, value })) };
  return write("batch", { ops, batch: id }, () => postJson(`${run.url}/batch`, body));
}

/** An indexed query; its answer, restricted to this client's keys, must be exactly its matching keys. */
async function query(r: Random, ownUserKeys: string[], run: RunLoad, send: Send, violation: Violate): Promise<boolean> {
  let filter: Record<string, unknown>;
  let matches: (value: string) => boolean;
  if (r.chance(0.65)) {
    const city = r.pick(CITIES);
    filter = { city };
    matches = (v) => matchesCity(v, city);
  } else {
    const low = r.int(100) - 20;
    const high = low + 1 + r.int(40);
    filter = { age: { $gte: low, $lt: high } };
    matches = (v) => matchesAgeRange(v, low, high);
  }
  const request = { scope_prefix: "user:", filter, limit: 1000 };
  const sentAt = performance.now();
  const res = await send("query", () => postJson(`${run.url}/query`, request));
  if (!res) return false;
  if (res.status >= 500) return true;
  run.counters.queries++;
  if (res.status !== 200) {
    violation("unexpected_status", `POST /query ${JSON.stringify(request)} answered ${res.status}: ${res.text.slice(0, 300)}`);
    return true;
  }
  const body = JSON.parse(res.text) as { items: { key: string; value: unknown }[]; next_cursor: string | null; plan: { index: string | null } };
  if (body.plan.index !== null) run.counters.indexedQueries++;
  for (const item of body.items) {
    if (!matches(JSON.stringify(item.value))) violation("query_wrong_item", `query ${JSON.stringify(filter)} returned ${item.key} = ${JSON.stringify(item.value).slice(0, 200)}, which does not match`);
  }
  if (body.next_cursor !== null) return true; // more than a page: the own-key check needs the whole answer
  const own = new Set(ownUserKeys);
  const got = body.items.map((i) => i.key).filter((k) => own.has(k)).sort();
  const expected = ownUserKeys.filter((k) => {
    const v = run.oracle.acked(k);
    return v !== null && matches(v);
  }).sort();
  if (got.join("\n") !== expected.join("\n")) {
    const sinceRebuild = run.lastRebuildAt === undefined ? Infinity : sentAt - run.lastRebuildAt;
    const rebuild = sinceRebuild === Infinity ? "no index rebuild requested yet" : `last index rebuild requested ${Math.round(sinceRebuild)} ms before the query`;
    violation(sinceRebuild <= 500 ? "query_missing_or_extra_after_rebuild" : "query_missing_or_extra", `query ${JSON.stringify(filter)} (plan.index ${body.plan.index}; ${rebuild}) returned own keys [${got.join(", ")}], expected [${expected.join(", ")}]`);
  }
  return true;
}

function checkOwnListing(res: HttpResult, ownUserKeys: string[], oracle: ExpectedState, violation: Violate): void {
  if (res.status !== 200) {
    violation("unexpected_status", `GET /kv (own prefix) answered ${res.status}: ${res.text.slice(0, 300)}`);
    return;
  }
  const page = JSON.parse(res.text) as { items: { key: string; value?: string }[] };
  const got = new Map(page.items.map((i) => [i.key, i.value ?? "<binary>"]));
  for (const key of ownUserKeys) {
    const expected = oracle.acked(key);
    if ((got.get(key) ?? null) !== expected) {
      violation("listing", `listing shows ${key} = ${JSON.stringify(got.get(key)?.slice(0, 100) ?? null)}, acknowledged ${JSON.stringify(expected?.slice(0, 100))}`);
    }
    got.delete(key);
  }
  if (got.size > 0) violation("listing", `listing of own prefix shows keys never written: ${[...got.keys()].join(", ")}`);
}
