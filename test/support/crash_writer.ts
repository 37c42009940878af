/**
 * Child process for crash tests: writes durably from several concurrent writers and
 * prints `ack <key> <value>` after each write resolves, until it is killed.
 * Usage: bun crash_writer.ts <dir> <cycle> [options as JSON]
 */
import { openDatabase } from "../../src/db.ts";

const [dir, cycle, options] = process.argv.slice(2);
const db = await openDatabase(dir, { sync: "always", memtableBytes: 16384, ...JSON.parse(options ?? "{}") });
process.stdout.write("ready\n");

let n = 0;
async function writer(id: number): Promise<never> {
  for (;;) {
    const i = n++;
    const key = `c${cycle}:w${id}:${i}`;
    const value = `${key}:${"x".repeat(i % 50)}`;
    if (i % 5 === 0) {
      // A batch: both keys or neither.
      await db.write([
        { type: "put", key, value },
        { type: "put", key: `${key}:pair`, value },
      ]);
    } else {
      await db.put(key, value);
    }
    process.stdout.write(`ack ${key} ${value}\n`);
  }
}

await Promise.all(Array.from({ length: 8 }, (_, id) => writer(id)));
