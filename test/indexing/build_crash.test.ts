import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/db.ts";
import { seededRandom, testSeed } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex, expectedPostings, postings } from "./support.ts";

const CHILD = join(import.meta.dir, "../support/index_build_child.ts");

test("kill -9 during an online build: after restart the build resumes and ends exact", async () => {
  const seed = testSeed("index build crash");
  const r = seededRandom(seed);
  const dir = tempDir();
  const db = await openDatabase(dir, { sync: "none" });
  for (let b = 0; b < 20000; b += 1000) {
    await db.write(Array.from({ length: 1000 }, (_, i) => ({ type: "put" as const, key: `user:${b + i}`, value: JSON.stringify({ city: `c${(b + i) % 9}` }) })));
  }
  await db.close();

  const resumedFrom: number[] = [];
  for (let cycle = 0; cycle < 3; cycle++) {
    const child = Bun.spawn([process.execPath, CHILD, dir], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("open ")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const progress = JSON.parse(text.slice(text.indexOf("open ") + 5).split("\n")[0]);
    resumedFrom.push(progress.scanned);
    await Bun.sleep(50 + r.int(250));
    child.kill("SIGKILL");
    await child.exited;
  }
  console.log(`[index build crash] scanned at each restart: ${resumedFrom.join(", ")}`);
  // The build made progress across the kills: some cycle started from a persisted cursor.
  expect(resumedFrom.some((n) => n > 0)).toBe(true);
  // Progress is persisted with each step: a restart never goes back.
  expect([...resumedFrom].sort((a, b) => a - b)).toEqual(resumedFrom);

  const reopened = await openDatabase(dir, { indexes: [cityIndex] });
  await reopened.waitForIndexes();
  expect(reopened.getIndex("users_city")!.state).toBe("ready");
  for (let c = 0; c < 9; c++) {
    expect({ seed, c, keys: postings(reopened, "users_city", `c${c}`) }).toEqual({ seed, c, keys: await expectedPostings(reopened, "user:", "city", `c${c}`) });
  }
  await reopened.close();
});
