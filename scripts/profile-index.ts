/**
 * @module
 * A profiling harness for the index paths (not part of `npm test` or `npm run bench`):
 * loads the benchmark's user documents with the `users_city` equality index (and,
 * with PROFILE_RANGE=1, the `users_age` range index), then runs the benchmark's
 * queries. Run under `bun --cpu-prof-md` to see where the time goes:
 *
 *     PROFILE_DOCS=300000 bun --cpu-prof-md --cpu-prof-dir=/tmp/prof scripts/profile-index.ts
 *     PROFILE_ONLY=load bun scripts/profile-index.ts      # only the load
 *     PROFILE_RANGE=1 PROFILE_PHASES=top PROFILE_ROUNDS=50 bun scripts/profile-index.ts   # one phase, more rounds
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase } from "../src/db.ts";
import type { IndexDefinition } from "../src/types.ts";
import { buildWorkload } from "./bench/workload.ts";

const env = process.env;
const N = Number(env.PROFILE_DOCS ?? 300_000);
const ONLY = env.PROFILE_ONLY;
const ROUNDS = Number(env.PROFILE_ROUNDS ?? 5);
const PHASES = (env.PROFILE_PHASES ?? "all,limit100,age").split(",");
const indexes: IndexDefinition[] = [{ name: "users_city", scope_prefix: "user:", type: "equality", extractor: { kind: "json_path", path: "$.city" } }];
if (env.PROFILE_RANGE === "1") indexes.push({ name: "users_age", scope_prefix: "user:", type: "range", extractor: { kind: "json_path", path: "$.age" } });

const w = buildWorkload(N, 42);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-profile-index-"));
try {
  const db = await openDatabase(dir, { sync: "none", indexes: env.PROFILE_NOINDEX === "1" ? [] : indexes });
  await db.waitForIndexes();
  let t0 = performance.now();
  for (let s = 0; s < w.n; s += 1000) {
    const ops = [];
    for (let j = s; j < Math.min(w.n, s + 1000); j++) ops.push({ type: "put" as const, key: w.keys[w.order[j]], value: w.value(w.order[j]) });
    await db.write(ops);
  }
  console.log(`load ${N}: ${(performance.now() - t0).toFixed(0)} ms`);
  if (ONLY !== "load") {
    await db.flush();
    const cities = ["Paris", "London", "Helsinki", "Melbourne", "Bangkok"];
    for (const phase of PHASES) {
      if ((phase === "age" || phase === "top") && env.PROFILE_RANGE !== "1") continue;
      t0 = performance.now();
      let docs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        for (const city of cities) {
          if (phase === "limit100" || phase === "top") {
            for (let i = 0; i < 20; i++) {
              const request = phase === "top" ? { scope_prefix: "user:", sort: { age: -1 as const }, limit: 100 } : { scope_prefix: "user:", filter: { city }, limit: 100 };
              const r = await db.query(request);
              if ("items" in r) docs += r.items.length;
            }
            continue;
          }
          let cursor: string | null = null;
          do {
            const filter = phase === "all" ? { city } : { age: { $gte: 30, $lte: 35 } };
            const r = await db.query({ scope_prefix: "user:", filter, limit: 1000, cursor });
            if (!("items" in r)) throw new Error("items");
            docs += r.items.length;
            cursor = r.next_cursor;
          } while (cursor !== null);
        }
      }
      console.log(`${phase}: ${(performance.now() - t0).toFixed(0)} ms, ${docs} docs`);
    }
  }
  await db.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
