/**
 * @module
 * What the crash loop checks each time the server has restarted after a SIGKILL, before
 * any new load:
 *
 * 1. every index reaches `ready` (an interrupted rebuild resumes and finishes) with no
 *    build error;
 * 2. the whole keyspace, read through `GET /kv` pages, matches the expected state
 *    ({@link ExpectedState.verify}: nothing acknowledged lost, no torn batch, no value
 *    nobody wrote), and a point `GET` of every key returns what the listing showed;
 * 3. every indexed query equals the scan-mode answer and the reference matcher's answer:
 *    `{"city": X}` under scope `user:` must be answered by `users_city` (`plan.index`),
 *    and the same filter over the whole keyspace (scope `""`, outside the index, so a
 *    scan), restricted to `user:` keys, must return the same keys; counts too. Age ranges
 *    (`{"age": {"$gte": a, "$lt": b}}`) are compared the same way, answered by `users_age`.
 */
import type { Random } from "../../test/support/random.ts";
import type { ExpectedState, VerifyFigures } from "./expected-state.ts";
import { call, listAll, queryAll, queryCount, waitForIndexesReady } from "./http.ts";
import { CITIES, matchesAgeRange, matchesCity } from "./user-records.ts";

export interface RestartCheck {
  figures: VerifyFigures;
  /** Point reads compared with the listing. */
  pointReads: number;
  /** Index answers compared with scan and model answers (queries and counts). */
  queriesCompared: number;
  /** Failures of checks 1 and 3, and of point reads. */
  problems: { kind: "index_error" | "point_read" | "index_vs_scan"; text: string }[];
  indexWaitMs: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export async function checkAfterRestart(url: string, oracle: ExpectedState, r: Random): Promise<RestartCheck> {
  const problems: RestartCheck["problems"] = [];
  const problem = (kind: RestartCheck["problems"][number]["kind"], text: string) => problems.push({ kind, text });
  const indexWaitMs = await waitForIndexesReady(url);
  const indexes = JSON.parse((await call(`${url}/indexes`)).text) as { indexes: { name: string; error: unknown }[] };
  for (const i of indexes.indexes) if (i.error !== null && i.error !== undefined) problem("index_error", `index ${i.name} reports error ${JSON.stringify(i.error)}`);

  const listed = await listAll(url);
  const observed = new Map<string, string>();
  for (const [k, v] of listed) {
    try {
      observed.set(k, utf8.decode(v));
    } catch {
      observed.set(k, `<not UTF-8: ${Buffer.from(v).toString("base64")}>`); // the workload writes only text
    }
  }
  const figures = oracle.verify(observed);

  // Point reads take another path (memtable/bloom/block lookups) than the ordered scan.
  const keys = [...new Set([...observed.keys(), ...oracle.keyList()])];
  let pointReads = 0;
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(
      keys.slice(i, i + 16).map(async (key) => {
        const res = await call(`${url}/kv/${encodeURIComponent(key)}`, {}, 30_000);
        pointReads++;
        const got = res.status === 200 ? res.text : res.status === 404 ? null : `<status ${res.status}: ${res.text.slice(0, 200)}>`;
        if (got !== (observed.get(key) ?? null)) problem("point_read", `GET ${key} returned ${JSON.stringify(got?.slice(0, 100))} but the listing shows ${JSON.stringify(observed.get(key)?.slice(0, 100) ?? null)}`);
      }),
    );
  }

  let queriesCompared = 0;
  const users = [...observed].filter(([k]) => k.startsWith("user:"));
  const compare = async (filter: Record<string, unknown>, matches: (v: string) => boolean, requiredIndex: string | null) => {
    const model = users.filter(([, v]) => matches(v)).map(([k]) => k).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const indexed = await queryAll(url, { scope_prefix: "user:", filter });
    const scanned = await queryAll(url, { scope_prefix: "", filter });
    const counted = await queryCount(url, { scope_prefix: "user:", filter });
    const what = JSON.stringify(filter);
    if (requiredIndex !== null && indexed.index !== requiredIndex) problem("index_vs_scan", `${what} under user: used index ${indexed.index}, expected ${requiredIndex}`);
    if (scanned.index !== null) problem("index_vs_scan", `${what} over the whole keyspace used index ${scanned.index}; expected a scan`);
    const scannedUsers = scanned.keys.filter((k) => k.startsWith("user:"));
    const show = (ks: string[]) => (ks.length > 20 ? `${ks.length} keys [${ks.slice(0, 20).join(", ")}, …]` : `[${ks.join(", ")}]`);
    if (indexed.keys.join("\n") !== scannedUsers.join("\n")) problem("index_vs_scan", `${what}: index (${indexed.index}) answered ${show(indexed.keys)}, scan answered ${show(scannedUsers)}`);
    else if (indexed.keys.join("\n") !== model.join("\n")) problem("index_vs_scan", `${what}: index and scan answered ${show(indexed.keys)}, the reference matcher ${show(model)}`);
    if (counted.count !== model.length) problem("index_vs_scan", `${what}: count (${counted.index}) is ${counted.count}, expected ${model.length}`);
    queriesCompared += 2;
  };
  for (const city of [...CITIES, "NoSuchCity"]) await compare({ city }, (v) => matchesCity(v, city), "users_city");
  for (let i = 0; i < 3; i++) {
    const low = r.int(100) - 20;
    const high = low + 1 + r.int(50);
    await compare({ age: { $gte: low, $lt: high } }, (v) => matchesAgeRange(v, low, high), "users_age");
  }
  return { figures, pointReads, queriesCompared, problems, indexWaitMs };
}
