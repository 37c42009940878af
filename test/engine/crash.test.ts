import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { defaultFileSystem } from "../../src/engine/fs.ts";
import { readManifest, type ManifestState } from "../../src/engine/manifest.ts";
import { tableFileName } from "../../src/engine/filenames.ts";
import { openDatabase } from "../../src/db.ts";
import { seededRandom, testSeed } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";

/** Kill cycles per test (KVDB_CRASH_CYCLES for longer runs); the time limit grows with them. */
const CYCLES = Number(process.env.KVDB_CRASH_CYCLES ?? 4);
const WRITER = join(import.meta.dir, "../support/crash_writer.ts");

/** Runs the writer until it has acknowledged some writes, then SIGKILLs it at a random moment. */
async function runAndKill(dir: string, cycle: number, killAfterMs: number, options: object): Promise<Map<string, string>> {
  const child = Bun.spawn([process.execPath, WRITER, dir, String(cycle), JSON.stringify(options)], { stdout: "pipe", stderr: "inherit" });
  const acked = new Map<string, string>();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === "ready") killTimer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      else if (line.startsWith("ack ")) {
        const [, key, v] = line.split(" ");
        acked.set(key, v);
      }
    }
  }
  clearTimeout(killTimer);
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  return acked;
}

/** The tables on disk are exactly those the manifest names: no orphan survives an open. */
async function expectNoOrphans(dir: string): Promise<ManifestState> {
  const state = await readManifest(defaultFileSystem, dir);
  const live = new Set(state!.levels.flat().map((f) => tableFileName(f.number)));
  const onDisk = readdirSync(dir).filter((n) => n.endsWith(".sst"));
  expect(onDisk.sort()).toEqual([...live].sort());
  expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  return state!;
}

for (const [name, options] of [
  ["writes and flushes", {}],
  // Tiny tables and levels: the child is compacting most of the time it is killed.
  ["writes, flushes and compactions", { memtableBytes: 8192, targetFileBytes: 4096, levelBaseBytes: 16384 }],
] as const) {
  test(`kill -9 during ${name}: every acknowledged write survives, batches are atomic, no orphan files remain`, async () => {
    const seed = testSeed(`crash ${name}`);
    const r = seededRandom(seed);
    const dir = tempDir();
    const all = new Map<string, string>();
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const acked = await runAndKill(dir, cycle, 100 + r.int(400), options);
      expect(acked.size).toBeGreaterThan(0);
      for (const [k, v] of acked) all.set(k, v);
      const db = await openDatabase(dir, options);
      for (const [k, v] of all) {
        const got = await db.get(k);
        expect({ seed, cycle, k, v: got && new TextDecoder().decode(got) }).toEqual({ seed, cycle, k, v });
      }
      // Batches: a pair key exists exactly when its primary key does.
      for await (const [k] of db.scan({ prefix: `c${cycle}:` })) {
        if (k.endsWith(":pair")) expect(await db.get(k.slice(0, -5))).toBeDefined();
        else if (Number(k.split(":")[2]) % 5 === 0) expect(await db.get(`${k}:pair`)).toBeDefined();
      }
      await db.close();
      const state = await expectNoOrphans(dir);
      if ("levelBaseBytes" in options && cycle === CYCLES - 1) {
        // The children really were compacting: tables exist below level 0.
        expect(state.levels.slice(1).flat().length).toBeGreaterThan(0);
      }
    }
  }, Math.max(60_000, CYCLES * 5_000));
}
