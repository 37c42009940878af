/**
 * Child process for the index crash test: opens a database with the users_city index
 * declared (which starts or resumes its online build), prints `open` and the build
 * progress, and keeps going until it is killed.
 * Usage: bun index_build_child.ts <dir>
 */
import { openDatabase } from "../../src/db.ts";

const [dir] = process.argv.slice(2);
const db = await openDatabase(dir, {
  indexes: [{ name: "users_city", scope_prefix: "user:", type: "equality", extractor: { kind: "json_path", path: "$.city" } }],
});
process.stdout.write(`open ${JSON.stringify(db.getIndex("users_city")?.progress)}\n`);
let i = 0;
// Writers keep changing indexed fields while the build runs.
for (;;) {
  await db.put(`user:${(i * 7919) % 20000}`, JSON.stringify({ city: `c${i % 9}` }));
  i++;
  if (i % 500 === 0) process.stdout.write(`progress ${db.getIndex("users_city")?.progress.scanned}\n`);
}
