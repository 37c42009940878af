import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { compareBytes, utf8 } from "../../src/engine/coding.ts";
import { decodeCursor, encodeCursor } from "../../src/server/listing.ts";
import { client, errorOf, FACTORIES, prng, type TestDatabase } from "./harness.ts";

interface Page {
  items: { key: string; value?: string; value_base64?: string }[];
  next_cursor: string | null;
}

const byteOrder = (a: string, b: string) => compareBytes(utf8(a), utf8(b));

test("cursors round-trip any key and reject anything else", () => {
  for (const key of ["a", "ünï/✓", "\u0000x", "k".repeat(300)]) expect(decodeCursor(encodeCursor(key))).toBe(key);
  for (const bad of ["", "!!", "a b", "YQ==", "_w"]) expect(() => decodeCursor(bad)).toThrow();
});

for (const factory of FACTORIES) {
  describe(`GET /kv over the ${factory.name}`, () => {
    let t: TestDatabase;
    let api: ReturnType<typeof client>;
    beforeEach(async () => {
      t = await factory.open();
      api = client(t.db);
    });
    afterEach(() => t.cleanup());

    async function page(query: string): Promise<Page> {
      const res = await api.get(`/kv?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as Page;
    }

    async function all(query: string, limit: number): Promise<string[]> {
      const keys: string[] = [];
      let cursor: string | null = null;
      do {
        const p = await page(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
        expect(p.items.length).toBeLessThanOrEqual(limit);
        keys.push(...p.items.map((i) => i.key));
        cursor = p.next_cursor;
      } while (cursor);
      return keys;
    }

    test("pagination over a few hundred keys: byte order, no duplicates, no gaps, null cursor at the end", async () => {
      const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
      console.log(`scan pagination seed=${seed}`);
      const rand = prng(seed);
      const alphabet = ["a", "b", "Z", "é", "✓", "/", "😀", "0", "~"];
      const keys = new Set<string>();
      while (keys.size < 300) {
        let k = "";
        const n = 1 + Math.floor(rand() * 6);
        for (let i = 0; i < n; i++) k += alphabet[Math.floor(rand() * alphabet.length)];
        keys.add(k);
      }
      await t.db.write([...keys].map((key) => ({ type: "put" as const, key, value: key })));
      const expected = [...keys].sort(byteOrder);
      for (const limit of [1, 7, 100, 1000]) expect(await all("", limit)).toEqual(expected);
      const first = await page("");
      expect(first.items.length).toBe(100); // the default limit
    });

    test("prefix, start, end and contains select the documented ranges", async () => {
      const keys = ["user:1", "user:2", "user:10", "users", "item:1", "item:22", "zzz"];
      await t.db.write(keys.map((key) => ({ type: "put" as const, key, value: "v" })));
      expect(await all("prefix=user:", 2)).toEqual(["user:1", "user:10", "user:2"]);
      expect(await all("start=item:22&end=user:2", 2)).toEqual(["item:22", "user:1", "user:10"]);
      expect(await all("contains=1", 1)).toEqual(["item:1", "user:1", "user:10"]);
      expect(await all("prefix=user&contains=rs", 3)).toEqual(["users"]);
      expect(await all("prefix=nothing", 3)).toEqual([]);
    });

    test("a cursor resumes strictly after its key while keys are added and removed around it", async () => {
      await t.db.write(["a", "b", "c", "d", "e"].map((key) => ({ type: "put" as const, key, value: key })));
      const p1 = await page("limit=2");
      expect(p1.items.map((i) => i.key)).toEqual(["a", "b"]);
      await t.db.delete("b");
      await t.db.put("b\u0000", "new right after b");
      await t.db.put("a2", "new before the cursor");
      const p2 = await page(`limit=10&cursor=${p1.next_cursor}`);
      expect(p2.items.map((i) => i.key)).toEqual(["b\u0000", "c", "d", "e"]);
      expect(p2.next_cursor).toBeNull();
    });

    test("UTF-8 values come as value, other bytes as value_base64", async () => {
      await t.db.put("text", "héllo");
      await t.db.put("binary", new Uint8Array([0xff, 0x00, 0xc3]));
      await t.db.put("empty", new Uint8Array(0));
      const p = await page("");
      expect(p.items).toEqual([
        { key: "binary", value_base64: "/wDD" },
        { key: "empty", value: "" },
        { key: "text", value: "héllo" },
      ]);
    });

    test("bad limit, cursor or unknown parameters are 400 INVALID_ARGUMENT", async () => {
      for (const query of ["limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=1.5", "cursor=%21%21", "prefx=a"]) {
        const res = await api.get(`/kv?${query}`);
        expect(res.status).toBe(400);
        expect((await errorOf(res)).code).toBe("INVALID_ARGUMENT");
      }
    });
  });
}
