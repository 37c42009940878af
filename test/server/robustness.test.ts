import { expect, test } from "bun:test";
import { client, errorOf, prng } from "./harness.ts";
import { MemoryDatabase } from "./memory-database.ts";

test("random requests never crash the app: every answer is 2xx or a 4xx with the JSON error body", async () => {
  const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`robustness seed=${seed}`);
  const rand = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const api = client(new MemoryDatabase(1024), { maxBodyBytes: 4096 });
  const methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"];
  const paths = [
    "/kv/a", "/kv/%", "/kv/%C3", "/kv/a%2F%2Fb", "/kv/", "/kv", "/kv?limit=", "/kv?limit=99999999999", "/kv?cursor=%00",
    "/kv?prefix=%FF", "/kv?start=b&end=a", "/batch", "/batch?x=1", "/stats", "/metrics", "/compact", "/health", "/swagger/json",
    "//kv/a", "/kv/a/../../etc", "/%", "/kv?contains=a&contains=b",
    "/query", "/query?limit=1", "/indexes", "/indexes/x", "/indexes/%", "/indexes/reload", "/indexes/rebuild/x", "/indexes/rebuild/",
  ];
  const bodies: (() => string | Uint8Array | undefined)[] = [
    () => undefined,
    () => "",
    () => "{",
    () => "null",
    () => "[]",
    () => JSON.stringify({ ops: null }),
    () => JSON.stringify({ ops: [{ op: "set", key: "k", value: "v" }] }),
    () => JSON.stringify({ ops: [{ op: "set", key: pick(["", "a", "\ud800"]), value_base64: pick(["", "=", "AA==", "A"]) }] }),
    () => JSON.stringify({ ops: Array.from({ length: 5 }, () => ({ op: pick(["set", "delete", "x"]), key: "k" })) }),
    () => new Uint8Array(Math.floor(rand() * 6000)).map(() => Math.floor(rand() * 256)),
    () => JSON.stringify({ scope_prefix: pick(["user:", "", null, 3]), filter: pick([{ a: 1 }, { a: { $gt: [] } }, { $or: [] }, "x", null]), limit: pick([1, 0, 5000, "1", null]) }),
    () => JSON.stringify({ cursor: pick(["", "eyJ2IjoxfQ", null, 7]), count: pick([true, "yes"]), explain: pick([true, 1]) }),
  ];
  for (let i = 0; i < 400; i++) {
    const method = pick(methods);
    const body = method === "GET" || method === "HEAD" ? undefined : pick(bodies)();
    const res = await api.call(method, pick(paths), body, { "content-type": pick(["application/json", "text/plain", "application/octet-stream", "x/y"]) });
    const where = `request ${i} (seed ${seed})`;
    expect([where, res.status < 500]).toEqual([where, true]);
    if (res.status >= 400 && method !== "HEAD") await errorOf(res);
    else await res.arrayBuffer();
  }
});
