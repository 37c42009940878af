/**
 * Child process for the posting re-pack crash test: 4 concurrent writers, each owning
 * 10 `user:` keys, move their records between 3 cities (and sometimes delete them)
 * durably, with 4-entry posting blocks so lists re-pack often. Prints `begin <key>
 * <city|->` before and `ack <key> <city|->` after each write, until it is killed.
 * Usage: bun index_move_writer.ts <dir> <seed>
 */
import { openDatabase } from "../../src/db.ts";
import { seededRandom } from "./random.ts";

export const MOVE_WRITER_OPTIONS = {
  sync: "always" as const,
  memtableBytes: 8192,
  indexBlockEntries: 4,
  indexes: [{ name: "users_city", scope_prefix: "user:", type: "equality" as const, extractor: { kind: "json_path" as const, path: "$.city" } }],
};

if (import.meta.main) {
  const [dir, seed] = process.argv.slice(2);
  const r = seededRandom(Number(seed));
  const db = await openDatabase(dir, MOVE_WRITER_OPTIONS);
  await db.waitForIndexes();
  process.stdout.write("ready\n");
  const writer = async (w: number): Promise<never> => {
    for (;;) {
      const key = `user:${w}:${r.int(10)}`;
      const city = r.chance(0.15) ? null : r.pick(["A", "B", "C"]);
      process.stdout.write(`begin ${key} ${city ?? "-"}\n`);
      if (city === null) await db.delete(key);
      else await db.put(key, JSON.stringify({ city }));
      process.stdout.write(`ack ${key} ${city ?? "-"}\n`);
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
}
