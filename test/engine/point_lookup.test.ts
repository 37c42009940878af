import { describe, expect, test } from "bun:test";
import { Engine, type BatchReader, type EngineOp } from "../../src/engine/engine.ts";
import { KIND_DELETE, KIND_PUT } from "../../src/engine/iterator.ts";
import { utf8 } from "../../src/engine/coding.ts";
import { seededRandom, testSeed } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe("point lookups, one key at a time and many together", () => {
  test("getMany answers what the data holds, wherever its versions live (randomized against a Map)", async () => {
    const seed = testSeed("point lookup");
    const r = seededRandom(seed);
    const model = new Map<string, string>();
    const keyspace = Array.from({ length: 300 }, (_, i) => `k${(i * 7919) % 1000}`.padEnd(4 + (i % 9), "x"));
    let probe: ((reader: BatchReader) => void) | undefined;
    // Small MemTables and an eager level-0 trigger: versions of one key spread over the
    // MemTables, level 0 and deeper levels, with deletes shadowing older puts.
    const engine = await Engine.open(tempDir(), {
      sync: "none",
      memtableBytes: 4096,
      l0CompactionTrigger: 2,
      levelBaseBytes: 16 * 1024,
      targetFileBytes: 4096,
      prepareBatch: (ops, reader) => {
        probe?.(reader);
        return ops;
      },
    });
    let withLevel0 = 0;
    let withDeeper = 0;
    for (let step = 0; step < 400; step++) {
      // Probe keys: present and absent ones, repeats, keys outside every table's range.
      const probes = Array.from({ length: r.int(60) }, () => (r.chance(0.1) ? `${r.pick(["a", "zz"])}${r.int(50)}` : r.pick(keyspace)));
      // Batches are awaited one by one, so the hook's reader sees the model as it was
      // before this batch.
      const want = probes.map((k) => model.get(k));
      let probed = false;
      probe = (reader) => {
        const many = reader.getMany(probes.map(utf8)).map(text);
        expect({ seed, step, probes, many }).toEqual({ seed, step, probes, many: want });
        expect({ seed, step, probes, many }).toEqual({ seed, step, probes, many: probes.map((k) => text(reader.get(utf8(k)))) });
        probed = true;
      };
      const ops: EngineOp[] = [];
      for (let i = 1 + r.int(8); i > 0; i--) {
        const key = r.pick(keyspace);
        if (r.chance(0.25)) {
          ops.push({ kind: KIND_DELETE, key: utf8(key), value: new Uint8Array(0) });
          model.delete(key);
        } else {
          const value = `${key}@${step}:${"v".repeat(r.int(40))}`;
          ops.push({ kind: KIND_PUT, key: utf8(key), value: utf8(value) });
          model.set(key, value);
        }
      }
      const levels = engine.snapshotState().levels;
      if (levels[0].length > 0) withLevel0++;
      if (levels.slice(1).some((l) => l.length > 0)) withDeeper++;
      await engine.write(ops);
      expect(probed).toBe(true);
      if (r.chance(0.05)) await engine.flush();
    }
    await engine.close();
    // Most probes ran with tables on level 0 and deeper, or the test proved little.
    expect(withLevel0).toBeGreaterThan(100);
    expect(withDeeper).toBeGreaterThan(100);
  });

  test("getMany sees the earlier batches of the same commit group", async () => {
    const n = 40;
    const keys = Array.from({ length: n }, (_, i) => utf8(`g${i}`));
    const seen: (string | undefined)[][] = [];
    const engine = await Engine.open(tempDir(), {
      sync: "always",
      prepareBatch: (ops, reader) => {
        const many = reader.getMany(keys).map(text);
        expect(many).toEqual(keys.map((k) => text(reader.get(k))));
        seen.push(many);
        return ops;
      },
    });
    // Concurrent writers queue up behind the first fsync and commit as groups; batch i
    // is prepared after batches 0..i-1, committed or not.
    await Promise.all(keys.map((key, i) => engine.write([{ kind: KIND_PUT, key, value: utf8(`v${i}`) }])));
    await engine.close();
    expect(seen.length).toBe(n);
    seen.forEach((many, i) => expect(many).toEqual(keys.map((_, j) => (j < i ? `v${j}` : undefined))));
  });
});
