import { expect, test } from "bun:test";
import { KvdbError } from "../../src/engine/errors.ts";
import { STATUS_OF_CODE } from "../../src/server/errors.ts";
import { client, errorOf } from "./harness.ts";
import { MemoryDatabase } from "./memory-database.ts";

test("every database error code maps to its documented status with the JSON body", async () => {
  const db = new MemoryDatabase();
  const api = client(db);
  for (const [code, status] of Object.entries(STATUS_OF_CODE)) {
    if (!["NOT_FOUND", "INVALID_KEY", "INVALID_VALUE", "INVALID_ARGUMENT", "TOO_LARGE", "CORRUPTION", "LOCKED", "IO_ERROR", "CLOSED"].includes(code)) continue;
    db.get = async () => {
      throw new KvdbError(code as KvdbError["code"], `simulated ${code}`);
    };
    const res = await api.get("/kv/k");
    expect([code, res.status]).toEqual([code, status]);
    expect(await errorOf(res)).toEqual({ code, message: `simulated ${code}` });
  }
});

test("a closed database answers 503 CLOSED; an unexpected exception 500 INTERNAL, and the server keeps serving", async () => {
  const db = new MemoryDatabase();
  const api = client(db);
  db.stats = () => {
    throw new Error("bug");
  };
  const bug = await api.get("/stats");
  expect(bug.status).toBe(500);
  expect((await errorOf(bug)).code).toBe("INTERNAL");
  await db.close();
  const closed = await api.put("/kv/k", "v");
  expect(closed.status).toBe(503);
  expect((await errorOf(closed)).code).toBe("CLOSED");
  expect((await api.get("/health")).status).toBe(200);
});
