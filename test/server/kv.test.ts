import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { client, errorOf, FACTORIES, kvPath, type TestDatabase } from "./harness.ts";

const SPECIAL_KEYS = ["/", "a/b/c", "/leading", "trailing/", "with space", "a:b", "what?", "hash#tag", "100%", "%2F", "ünïcödé ✓ 🎉", "a+b", "tab\tkey", "..x", "a/../b"];

for (const factory of FACTORIES) {
  describe(`/kv over the ${factory.name}`, () => {
    let t: TestDatabase;
    let api: ReturnType<typeof client>;
    beforeEach(async () => {
      t = await factory.open({ maxValueBytes: 64 * 1024 });
      api = client(t.db, { maxBodyBytes: 128 * 1024 });
    });
    afterEach(() => t.cleanup());

    test("PUT then GET returns the exact bytes as octet-stream; DELETE removes; DELETE again still succeeds", async () => {
      const bytes = new Uint8Array([0, 1, 2, 255, 254, 10, 13]);
      expect((await api.put("/kv/k1", bytes, { "content-type": "application/json" })).status).toBe(204);
      const got = await api.get("/kv/k1");
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("application/octet-stream");
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
      expect((await api.del("/kv/k1")).status).toBe(204);
      expect((await api.get("/kv/k1")).status).toBe(404);
      expect((await api.del("/kv/k1")).status).toBe(204);
    });

    test("an empty value is a value, not a delete", async () => {
      expect((await api.put("/kv/empty", new Uint8Array(0))).status).toBe(204);
      const got = await api.get("/kv/empty");
      expect(got.status).toBe(200);
      expect((await got.arrayBuffer()).byteLength).toBe(0);
    });

    test("keys with /, spaces, :, ?, #, %, unicode round-trip through percent-encoding", async () => {
      for (const [i, key] of SPECIAL_KEYS.entries()) {
        expect((await api.put(kvPath(key), `value ${i}`)).status).toBe(204);
      }
      for (const [i, key] of SPECIAL_KEYS.entries()) {
        const got = await api.get(kvPath(key));
        expect(got.status).toBe(200);
        expect(await got.text()).toBe(`value ${i}`);
      }
      const listed = (await (await api.get("/kv?limit=1000")).json()) as { items: { key: string }[] };
      expect(listed.items.map((i) => i.key).sort()).toEqual([...SPECIAL_KEYS].sort());
    });

    test("an unencoded / in the path is part of the key, the same key as %2F", async () => {
      await api.put("/kv/dir/file", "x");
      expect(await (await api.get("/kv/dir%2Ffile")).text()).toBe("x");
    });

    test("a missing key is 404 with the JSON error body", async () => {
      const res = await api.get("/kv/nope");
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(await errorOf(res)).toEqual({ code: "NOT_FOUND", message: 'key "nope" not found' });
    });

    test("empty keys, malformed percent-encoding, lone surrogates and over-long keys are 400 INVALID_KEY", async () => {
      for (const path of ["/kv/", "/kv/%E0%A4%A", "/kv/%ZZ", "/kv/%ED%A0%80", `/kv/${"k".repeat(5000)}`]) {
        for (const res of [await api.put(path, "v"), await api.get(path), await api.del(path)]) {
          expect(res.status).toBe(400);
          expect((await errorOf(res)).code).toBe("INVALID_KEY");
        }
      }
    });

    test("bodies over the server limit are 413 whether announced or streamed, and change nothing", async () => {
      const big = new Uint8Array(200 * 1024);
      const announced = await api.put("/kv/big", big);
      expect(announced.status).toBe(413);
      expect((await errorOf(announced)).code).toBe("TOO_LARGE");
      const stream = new ReadableStream({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(50 * 1024));
          c.close();
        },
      });
      const streamed = await api.put("/kv/big", stream);
      expect(streamed.status).toBe(413);
      expect((await errorOf(streamed)).code).toBe("TOO_LARGE");
      expect((await api.get("/kv/big")).status).toBe(404);
    });

    test("a value over the database's maximum is 413 TOO_LARGE", async () => {
      const res = await api.put("/kv/v", new Uint8Array(100 * 1024));
      expect(res.status).toBe(413);
      expect((await errorOf(res)).code).toBe("TOO_LARGE");
      expect((await api.get("/kv/v")).status).toBe(404);
    });
  });
}
