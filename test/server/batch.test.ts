import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { client, errorOf, FACTORIES, type TestDatabase } from "./harness.ts";

for (const factory of FACTORIES) {
  describe(`POST /batch over the ${factory.name}`, () => {
    let t: TestDatabase;
    let api: ReturnType<typeof client>;
    beforeEach(async () => {
      t = await factory.open();
      await t.db.put("existing", "old");
      await t.db.put("doomed", "x");
      api = client(t.db, { maxBodyBytes: 64 * 1024 });
    });
    afterEach(() => t.cleanup());

    const text = async (key: string) => {
      const v = await t.db.get(key);
      return v === undefined ? undefined : new TextDecoder().decode(v);
    };

    test("applies sets (text and base64) and deletes together", async () => {
      const res = await api.post("/batch", {
        ops: [
          { op: "set", key: "a", value: "1" },
          { op: "set", key: "bin", value_base64: "AP8=" },
          { op: "delete", key: "doomed" },
          { op: "set", key: "existing", value: "new" },
        ],
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ applied: 4 });
      expect(await text("a")).toBe("1");
      expect(await t.db.get("bin")).toEqual(new Uint8Array([0, 255]));
      expect(await t.db.get("doomed")).toBeUndefined();
      expect(await text("existing")).toBe("new");
    });

    test("the body is JSON whatever the Content-Type says", async () => {
      const res = await api.call("POST", "/batch", JSON.stringify({ ops: [{ op: "set", key: "a", value: "1" }] }), { "content-type": "text/plain" });
      expect(res.status).toBe(200);
      expect(await text("a")).toBe("1");
    });

    const bad: [string, unknown, string][] = [
      ["unknown op", { op: "frob", key: "k" }, "INVALID_ARGUMENT"],
      ["set without a value", { op: "set", key: "k" }, "INVALID_VALUE"],
      ["both value forms", { op: "set", key: "k", value: "a", value_base64: "YQ==" }, "INVALID_VALUE"],
      ["bad base64", { op: "set", key: "k", value_base64: "not base64!" }, "INVALID_VALUE"],
      ["unknown field", { op: "set", key: "k", value: "a", ttl: 5 }, "INVALID_ARGUMENT"],
      ["value on a delete", { op: "delete", key: "k", value: "a" }, "INVALID_ARGUMENT"],
      ["non-string value", { op: "set", key: "k", value: 5 }, "INVALID_ARGUMENT"],
      ["empty key", { op: "set", key: "", value: "a" }, "INVALID_ARGUMENT"],
      ["over-long key", { op: "set", key: "k".repeat(5000), value: "a" }, "INVALID_KEY"],
      ["not an object", "set k", "INVALID_ARGUMENT"],
    ];
    for (const [name, op, code] of bad) {
      test(`one bad op (${name}) is a 400 ${code} and nothing is applied`, async () => {
        const res = await api.post("/batch", {
          ops: [{ op: "set", key: "existing", value: "changed" }, { op: "delete", key: "doomed" }, op],
        });
        expect(res.status).toBe(400);
        expect((await errorOf(res)).code).toBe(code);
        expect(await text("existing")).toBe("old");
        expect(await text("doomed")).toBe("x");
      });
    }

    test("malformed JSON, a missing ops array and unknown top-level fields are 400", async () => {
      for (const [body, code] of [
        ["{bad json", "INVALID_JSON"],
        ["", "INVALID_JSON"],
        [JSON.stringify({}), "INVALID_ARGUMENT"],
        [JSON.stringify({ ops: {} }), "INVALID_ARGUMENT"],
        [JSON.stringify({ ops: [], extra: 1 }), "INVALID_ARGUMENT"],
        [JSON.stringify([{ op: "delete", key: "k" }]), "INVALID_ARGUMENT"],
      ]) {
        const res = await api.call("POST", "/batch", body, { "content-type": "application/json" });
        expect(res.status).toBe(400);
        expect((await errorOf(res)).code).toBe(code);
      }
      expect(await text("existing")).toBe("old");
    });

    test("a body over the limit is 413 and nothing is applied", async () => {
      const res = await api.post("/batch", { ops: [{ op: "set", key: "existing", value: "x".repeat(100 * 1024) }] });
      expect(res.status).toBe(413);
      expect((await errorOf(res)).code).toBe("TOO_LARGE");
      expect(await text("existing")).toBe("old");
    });
  });
}
