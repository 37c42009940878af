import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { openDatabase, type Database, type WriteOp } from "../src/db.ts";
import { isKvdbError } from "../src/engine/errors.ts";
import { seededRandom, testSeed, type Random } from "./support/random.ts";
import { tempDir } from "./support/tmpdir.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function collect(db: Database, opts?: Parameters<Database["scan"]>[0]): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of db.scan(opts)) out.push([k, new TextDecoder().decode(v)]);
  return out;
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(isKvdbError(e) ? e.code : String(e)).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe("Database basics", () => {
  test("put, get, overwrite, delete, and empty values are distinct from deletes", async () => {
    const db = await openDatabase(tempDir());
    await db.put("a", "1");
    await db.put("b", new Uint8Array([0, 255, 7]));
    expect(text(await db.get("a"))).toBe("1");
    expect(await db.get("b")).toEqual(new Uint8Array([0, 255, 7]));
    await db.put("a", "2");
    expect(text(await db.get("a"))).toBe("2");
    await db.put("empty", "");
    expect(await db.get("empty")).toEqual(new Uint8Array(0));
    await db.delete("a");
    expect(await db.get("a")).toBeUndefined();
    await db.delete("never-existed");
    expect(await db.get("missing")).toBeUndefined();
    await db.close();
  });

  test("values returned and values given are copies", async () => {
    const db = await openDatabase(tempDir());
    const buf = new Uint8Array([1, 2, 3]);
    await db.put("k", buf);
    buf[0] = 9;
    const got = (await db.get("k"))!;
    expect(got).toEqual(new Uint8Array([1, 2, 3]));
    got[1] = 9;
    expect(await db.get("k")).toEqual(new Uint8Array([1, 2, 3]));
    await db.flush();
    const fromTable = (await db.get("k"))!;
    fromTable[2] = 9;
    expect(await db.get("k")).toEqual(new Uint8Array([1, 2, 3]));
    await db.close();
  });

  test("invalid keys and values are rejected with typed errors and change nothing", async () => {
    const db = await openDatabase(tempDir(), { maxKeyBytes: 8, maxValueBytes: 4 });
    await expectCode(db.put("", "x"), "INVALID_KEY");
    await expectCode(db.put("\ud800", "x"), "INVALID_KEY");
    await expectCode(db.put("123456789", "x"), "INVALID_KEY");
    await expectCode(db.put(42 as unknown as string, "x"), "INVALID_KEY");
    await expectCode(db.put("k", 42 as unknown as string), "INVALID_VALUE");
    await expectCode(db.put("k", "12345"), "TOO_LARGE");
    await expectCode(db.write([{ type: "put", key: "ok", value: "1" }, { type: "put", key: "", value: "2" }]), "INVALID_KEY");
    await expectCode(db.write([{ type: "nope", key: "x" } as unknown as WriteOp]), "INVALID_ARGUMENT");
    await expectCode(() => db.scan({ limit: -1 }), "INVALID_ARGUMENT");
    expect(await db.get("ok")).toBeUndefined();
    expect(await collect(db)).toEqual([]);
    await db.close();
  });

  test("keys order by UTF-8 bytes, not UTF-16 code units", async () => {
    const db = await openDatabase(tempDir());
    // U+FF61 is above U+1D11E in UTF-16 units order but below it in UTF-8 byte order.
    const keys = ["\u{1D11E}", "\uFF61", "z", "é", "a"];
    for (const k of keys) await db.put(k, k);
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(expected).toEqual(["a", "z", "é", "\uFF61", "\u{1D11E}"]);
    expect((await collect(db)).map(([k]) => k)).toEqual(expected);
    await db.flush();
    expect((await collect(db)).map(([k]) => k)).toEqual(expected);
    await db.close();
  });

  test("scan bounds: prefix, start (inclusive), end (exclusive), limit, reverse", async () => {
    const db = await openDatabase(tempDir(), { memtableBytes: 512 });
    for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(2, "0")}`, String(i));
    await db.put("other", "x");
    const keys = async (o: Parameters<Database["scan"]>[0]) => (await collect(db, o)).map(([k]) => k);
    expect(await keys({ prefix: "k4" })).toEqual(["k40", "k41", "k42", "k43", "k44", "k45", "k46", "k47", "k48", "k49"]);
    expect(await keys({ start: "k10", end: "k13" })).toEqual(["k10", "k11", "k12"]);
    expect(await keys({ prefix: "k1", start: "k15", end: "k17" })).toEqual(["k15", "k16"]);
    expect(await keys({ prefix: "k", limit: 3, reverse: true })).toEqual(["k49", "k48", "k47"]);
    expect(await keys({ start: "k48", reverse: true })).toEqual(["other", "k49", "k48"]);
    expect(await keys({ start: "z" })).toEqual([]);
    expect(await keys({ start: "k2", end: "k1" })).toEqual([]);
    expect(await keys({ limit: 0 })).toEqual([]);
    await db.close();
  });

  test("a scan reads the snapshot taken when it starts", async () => {
    const db = await openDatabase(tempDir(), { memtableBytes: 1024 });
    for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, "0")}`, "old");
    const seen: Array<[string, string]> = [];
    let i = 0;
    for await (const [k, v] of db.scan()) {
      seen.push([k, text(v)!]);
      if (i++ === 10) {
        // Writes and flushes during the scan are not seen by it.
        for (let j = 0; j < 100; j++) await db.put(`k${String(j).padStart(3, "0")}`, "new");
        await db.put("k050x", "inserted");
        await db.delete("k099");
        await db.flush();
      }
    }
    expect(seen.length).toBe(100);
    expect(seen.every(([, v]) => v === "old")).toBe(true);
    expect(text(await db.get("k099"))).toBeUndefined();
    expect((await collect(db)).length).toBe(100);
    await db.close();
  });

  test("leaving a scan early releases its snapshot, so compaction can delete the tables it read", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir, { memtableBytes: 2048 });
    for (let i = 0; i < 500; i++) await db.put(`k${i}`, "v".repeat(20));
    await db.flush();
    for await (const _ of db.scan()) break;
    const abandoned = db.scan()[Symbol.asyncIterator]();
    await abandoned.next();
    await abandoned.return?.();
    await db.compact();
    const tables = readdirSync(dir).filter((n) => n.endsWith(".sst"));
    expect(tables.length).toBe(db.stats().sstables.files);
    await db.close();
  });

  test("a batch is atomic and ordered: later ops in a batch win", async () => {
    const db = await openDatabase(tempDir());
    await db.write([
      { type: "put", key: "x", value: "1" },
      { type: "put", key: "x", value: "2" },
      { type: "put", key: "y", value: "1" },
      { type: "delete", key: "y" },
    ]);
    expect(text(await db.get("x"))).toBe("2");
    expect(await db.get("y")).toBeUndefined();
    await db.close();
  });

  test("data survives close and reopen, from the WAL and from tables", async () => {
    const dir = tempDir();
    let db = await openDatabase(dir, { memtableBytes: 2048 });
    for (let i = 0; i < 300; i++) await db.put(`key${i}`, `value${i}`);
    await db.delete("key7");
    await db.close();
    db = await openDatabase(dir, { memtableBytes: 2048 });
    expect(text(await db.get("key299"))).toBe("value299");
    expect(await db.get("key7")).toBeUndefined();
    expect((await collect(db)).length).toBe(299);
    expect(db.stats().sstables.files).toBeGreaterThan(0);
    await db.close();
  });

  test("operations after close fail with CLOSED", async () => {
    const db = await openDatabase(tempDir());
    await db.close();
    await expectCode(db.put("a", "b"), "CLOSED");
    await expectCode(db.get("a"), "CLOSED");
  });

  test("a second open of the same directory fails with LOCKED naming the directory", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir);
    try {
      await openDatabase(dir);
      throw new Error("second open succeeded");
    } catch (e) {
      expect(isKvdbError(e, "LOCKED")).toBe(true);
      expect((e as Error).message).toContain(dir);
    }
    await db.close();
    const again = await openDatabase(dir);
    await again.close();
  });

  test("group commit: concurrent durable writers share fsyncs", async () => {
    const db = await openDatabase(tempDir(), { sync: "always" });
    await Promise.all(Array.from({ length: 200 }, (_, i) => db.put(`c${i}`, String(i))));
    const s = db.stats();
    expect(s.writes.puts).toBe(200);
    expect(s.wal.syncs).toBeLessThan(200);
    for (let i = 0; i < 200; i += 37) expect(text(await db.get(`c${i}`))).toBe(String(i));
    await db.close();
  });
});

/** The model: a Map, with scans computed by sorting its keys by UTF-8 bytes. */
function modelScan(model: Map<string, string>, o: { prefix?: string; start?: string; end?: string; limit?: number; reverse?: boolean }): Array<[string, string]> {
  const enc = (s: string) => Buffer.from(s, "utf8");
  let rows = [...model.entries()].filter(([k]) => {
    const b = enc(k);
    if (o.prefix !== undefined && !k.startsWith(o.prefix)) return false;
    if (o.start !== undefined && Buffer.compare(b, enc(o.start)) < 0) return false;
    if (o.end !== undefined && Buffer.compare(b, enc(o.end)) >= 0) return false;
    return true;
  });
  rows.sort(([a], [b]) => Buffer.compare(enc(a), enc(b)));
  if (o.reverse) rows.reverse();
  if (o.limit !== undefined) rows = rows.slice(0, o.limit);
  return rows;
}

const ALPHABET = ["a", "b", "c", "é", "\uFF61", "\u{1D11E}", ":", "/"];

function randomKey(r: Random): string {
  let k = "";
  const len = 1 + r.int(3);
  for (let i = 0; i < len; i++) k += r.pick(ALPHABET);
  return k;
}

function randomValue(r: Random): string {
  return r.chance(0.05) ? "" : "v".repeat(r.int(40)) + r.int(1e6);
}

/** A scan opened at some step, read a little at a time while the database changes. */
interface OpenScan {
  iterator: AsyncIterator<[string, Uint8Array]>;
  expected: Array<[string, string]>;
  seen: number;
}

async function advance(scan: OpenScan, n: number, where: string): Promise<boolean> {
  for (let i = 0; i < n; i++) {
    const r = await scan.iterator.next();
    if (r.done) {
      expect({ where, seen: scan.seen }).toEqual({ where, seen: scan.expected.length });
      return false;
    }
    const [k, v] = r.value;
    expect({ where, row: [k, text(v)] }).toEqual({ where, row: scan.expected[scan.seen] });
    scan.seen++;
  }
  return true;
}

/** Steps per model run (KVDB_MODEL_STEPS for longer runs); the time limit grows with them. */
const MODEL_STEPS = Number(process.env.KVDB_MODEL_STEPS ?? 3000);

for (const mode of ["flushes and reopens", "compactions across many levels"] as const) {
  test(`randomized model test with ${mode}: every step matches a Map`, async () => {
    const seed = testSeed(`db-model ${mode}`);
    const r = seededRandom(seed);
    const dir = tempDir();
    const compacting = mode === "compactions across many levels";
    // Tiny sizes so that many tables and levels form within a few thousand steps.
    const options = compacting
      ? { memtableBytes: 512, blockSize: 128, targetFileBytes: 512, levelBaseBytes: 1024, sync: "none" as const }
      : { memtableBytes: 1024, blockSize: 256, sync: "none" as const };
    let db = await openDatabase(dir, options);
    const model = new Map<string, string>();
    let scans: OpenScan[] = [];
    let deepestLevel = 0;
    let compactions = 0;
    for (let step = 0; step < MODEL_STEPS; step++) {
      if (step % 50 === 0) deepestLevel = Math.max(deepestLevel, db.stats().sstables.levels.findLastIndex((l) => l.files > 0));
      const op = r.next();
      const where = `seed=${seed} step=${step}`;
      if (op < 0.4) {
        const k = randomKey(r);
        const v = randomValue(r);
        await db.put(k, v);
        model.set(k, v);
      } else if (op < 0.55) {
        const k = randomKey(r);
        await db.delete(k);
        model.delete(k);
      } else if (op < 0.65) {
        const ops: WriteOp[] = [];
        for (let i = r.int(6); i >= 0; i--) {
          ops.push(r.chance(0.7) ? { type: "put", key: randomKey(r), value: randomValue(r) } : { type: "delete", key: randomKey(r) });
        }
        await db.write(ops);
        for (const o of ops) {
          if (o.type === "put") model.set(o.key, o.value as string);
          else model.delete(o.key);
        }
      } else if (op < 0.77) {
        const k = randomKey(r);
        expect({ where, k, v: text(await db.get(k)) }).toEqual({ where, k, v: model.get(k) });
      } else if (op < 0.9) {
        const o: { prefix?: string; start?: string; end?: string; limit?: number; reverse?: boolean } = {};
        if (r.chance(0.3)) o.prefix = r.pick(ALPHABET);
        if (r.chance(0.3)) o.start = randomKey(r);
        if (r.chance(0.3)) o.end = randomKey(r);
        if (r.chance(0.3)) o.limit = r.int(10);
        if (r.chance(0.4)) o.reverse = true;
        expect({ where, o, rows: await collect(db, o) }).toEqual({ where, o, rows: modelScan(model, o) });
      } else if (op < 0.94) {
        // Open a scan now and read it bit by bit in later steps: it must keep its snapshot.
        const reverse = r.chance(0.5);
        const scan: OpenScan = { iterator: db.scan({ reverse })[Symbol.asyncIterator](), expected: modelScan(model, { reverse }), seen: 0 };
        if (await advance(scan, 1, where)) scans.push(scan);
      } else if (op < 0.97) {
        const still: OpenScan[] = [];
        for (const scan of scans) if (await advance(scan, 1 + r.int(20), where)) still.push(scan);
        scans = still;
      } else if (op < 0.985) {
        if (compacting) await db.compact();
        else await db.flush();
      } else if (!compacting || r.chance(0.3)) {
        for (const scan of scans) await scan.iterator.return?.();
        scans = [];
        compactions += db.stats().compaction.compactions;
        await db.close();
        db = await openDatabase(dir, options);
      }
    }
    for (const scan of scans) while (await advance(scan, 100, `seed=${seed} end`));
    expect(await collect(db)).toEqual(modelScan(model, {}));
    if (compacting) {
      expect(compactions + db.stats().compaction.compactions).toBeGreaterThan(0);
      // Automatic compactions pushed data below level 1 at some point.
      expect(deepestLevel).toBeGreaterThanOrEqual(2);
    }
    await db.close();
  }, Math.max(60_000, MODEL_STEPS * 5));
}
