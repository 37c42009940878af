import { describe, expect, test } from "bun:test";
import { assertSafeBinding, isLoopbackHost } from "../../src/server/auth.ts";
import { client, errorOf } from "./harness.ts";
import { MemoryDatabase } from "./memory-database.ts";

describe("bearer token", () => {
  const api = client(new MemoryDatabase(), { authToken: "s3cret" });
  const protectedRequests: [string, string][] = [
    ["GET", "/kv/a"],
    ["PUT", "/kv/a"],
    ["DELETE", "/kv/a"],
    ["GET", "/kv"],
    ["POST", "/batch"],
    ["GET", "/stats"],
    ["GET", "/metrics"],
    ["POST", "/compact"],
    ["GET", "/swagger"],
    ["GET", "/swagger/json"],
    ["GET", "/nowhere"],
  ];

  test("every endpoint but /health answers 401 with the JSON error without the token", async () => {
    for (const [method, path] of protectedRequests) {
      const res = await api.call(method, path, method === "PUT" || method === "POST" ? "x" : undefined);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("UNAUTHORIZED");
    }
    expect((await api.get("/health")).status).toBe(200);
  });

  test("a wrong token or scheme is 401; the right token is accepted", async () => {
    for (const header of ["Bearer wrong", "Bearer s3cret2", "Basic s3cret", "s3cret", "Bearer "]) {
      const res = await api.get("/stats", { authorization: header });
      expect(res.status).toBe(401);
    }
    expect((await api.put("/kv/a", "1", { authorization: "Bearer s3cret" })).status).toBe(204);
    const got = await api.get("/kv/a", { authorization: "bearer s3cret" });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe("1");
  });

  test("an unauthenticated oversized body is refused before it is read", async () => {
    const res = await api.call("PUT", "/kv/a", new Uint8Array(10), { "content-length": String(1 << 30) });
    expect([401, 413]).toContain(res.status);
  });
});

test("without a token no header is needed", async () => {
  const api = client(new MemoryDatabase());
  expect((await api.put("/kv/a", "1")).status).toBe(204);
  expect((await api.get("/kv/a")).status).toBe(200);
});

test("binding beyond loopback needs a token or --insecure", () => {
  for (const host of ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"]) {
    expect(isLoopbackHost(host)).toBe(true);
    expect(() => assertSafeBinding(host, false, false)).not.toThrow();
  }
  for (const host of ["0.0.0.0", "::", "192.168.1.5", "example.com"]) {
    expect(isLoopbackHost(host)).toBe(false);
    expect(() => assertSafeBinding(host, false, false)).toThrow(/--auth-token/);
    expect(() => assertSafeBinding(host, true, false)).not.toThrow();
    expect(() => assertSafeBinding(host, false, true)).not.toThrow();
  }
});
