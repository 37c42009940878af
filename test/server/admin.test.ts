import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { client, FACTORIES, type TestDatabase } from "./harness.ts";

for (const factory of FACTORIES) {
  describe(`operations endpoints over the ${factory.name}`, () => {
    let t: TestDatabase;
    let api: ReturnType<typeof client>;
    beforeEach(async () => {
      t = await factory.open();
      api = client(t.db);
    });
    afterEach(() => t.cleanup());

    test("GET /health is 200", async () => {
      const res = await api.get("/health");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    });

    test("GET /stats returns db.stats() and the indexes as JSON", async () => {
      await api.put("/kv/a", "1");
      const res = await api.get("/stats");
      expect(res.status).toBe(200);
      const body = (await res.json()) as { sequence: number };
      expect(body).toEqual(JSON.parse(JSON.stringify({ ...t.db.stats(), indexes: t.db.listIndexes() })));
      expect(body.sequence).toBeGreaterThan(0);
    });

    test("GET /metrics has the engine figures and per-route request counts and latency histograms", async () => {
      await api.put("/kv/a", "1");
      await api.put("/kv/b", "2");
      await api.get("/kv/a");
      await api.get("/kv/missing");
      await api.get("/no/such/route");
      const res = await api.get("/metrics");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      const stats = t.db.stats();
      expect(text).toContain(`\nkvdb_sequence ${stats.sequence}\n`);
      expect(text).toContain(`\nkvdb_wal_syncs ${stats.wal.syncs}\n`);
      expect(text).toContain(`\nkvdb_compaction_running ${stats.compaction.running ? 1 : 0}\n`);
      expect(text).toContain(`\nkvdb_stall_state{value="${stats.stall.state}"} 1\n`);
      expect(text).toContain(`\nkvdb_sstables_levels_files{level="0"} ${stats.sstables.levels[0]?.files ?? 0}\n`);
      expect(text).toContain("# TYPE kvdb_http_request_duration_seconds histogram");
      expect(text).toContain('kvdb_http_requests_total{route="/kv/*",method="PUT",status="204"} 2');
      expect(text).toContain('kvdb_http_requests_total{route="/kv/*",method="GET",status="200"} 1');
      expect(text).toContain('kvdb_http_requests_total{route="/kv/*",method="GET",status="404"} 1');
      expect(text).toContain('kvdb_http_requests_total{route="(unmatched)",method="GET",status="404"} 1');
      expect(text).toContain('kvdb_http_request_duration_seconds_bucket{route="/kv/*",method="PUT",le="+Inf"} 2');
      expect(text).toContain('kvdb_http_request_duration_seconds_count{route="/kv/*",method="PUT"} 2');
      // Every sample line is "name{labels} number" or "name number".
      for (const line of text.trim().split("\n")) {
        if (!line.startsWith("#")) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
      }
    });

    test("POST /compact compacts and answers when done", async () => {
      await api.put("/kv/a", "1");
      const before = t.db.stats().compaction.compactions + t.db.stats().flushes;
      const res = await api.call("POST", "/compact");
      expect(res.status).toBe(200);
      const body = (await res.json()) as { compacted: boolean };
      expect(body.compacted).toBe(true);
      const after = t.db.stats().compaction.compactions + t.db.stats().flushes;
      expect(after).toBeGreaterThan(before);
      expect(await (await api.get("/kv/a")).text()).toBe("1");
    });
  });
}
