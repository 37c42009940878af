import { afterAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { concatBytes, utf8 } from "../../src/engine/coding.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { type FileSystem, NodeFileSystem, type WritableFile } from "../../src/engine/fs.ts";
import { KIND_DELETE, KIND_PUT } from "../../src/engine/iterator.ts";
import { encodeRecord } from "../../src/engine/log_format.ts";
import { readWal, WalWriter } from "../../src/engine/wal.ts";
import { type BatchOp, encodeBatch } from "../../src/engine/write_batch.ts";
import { mulberry32, testSeed, randomBytes } from "../support/random.ts";

const SEED = testSeed("wal.test.ts");

const fs = new NodeFileSystem();
const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
afterAll(() => nodeFs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => path.join(root, `${String(++counter).padStart(6, "0")}.wal`);

const MAX = 1 << 20;

/** Random batches with consecutive sequence numbers, as the engine would write them. */
function makeBatches(rand: () => number, count: number): Array<{ firstSeq: number; ops: BatchOp[] }> {
  const out: Array<{ firstSeq: number; ops: BatchOp[] }> = [];
  let seq = 1;
  for (let b = 0; b < count; b++) {
    const ops: BatchOp[] = [];
    const n = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const key = utf8(`key-${Math.floor(rand() * 1000)}`);
      ops.push(rand() < 0.25 ? { kind: KIND_DELETE, key } : { kind: KIND_PUT, key, value: randomBytes(rand, Math.floor(rand() * 40)) });
    }
    out.push({ firstSeq: seq, ops });
    seq += n;
  }
  return out;
}

/** Comparable form of batches: what the engine replays. */
function replayable(batches: Array<{ firstSeq: number; ops: BatchOp[] }>) {
  return batches.map((b) => ({
    firstSeq: b.firstSeq,
    ops: b.ops.map((op, i) => ({
      key: op.key,
      seq: b.firstSeq + i,
      kind: op.kind,
      value: op.kind === KIND_PUT ? op.value! : new Uint8Array(0),
    })),
  }));
}

async function writeWal(p: string, batches: Array<{ firstSeq: number; ops: BatchOp[] }>): Promise<number[]> {
  const wal = WalWriter.open(fs, p, { truncate: true });
  const ends: number[] = [];
  for (const b of batches) {
    wal.append(encodeRecord(encodeBatch(b.firstSeq, b.ops)));
    ends.push(wal.size);
  }
  await wal.sync();
  wal.close();
  return ends;
}

/** A FileSystem whose writable files fail append or sync while a flag is set. */
class FaultyFs extends NodeFileSystem {
  failAppend = false;
  failSync = false;
  override openWritable(p: string, options?: { truncate?: boolean }): WritableFile {
    const file = super.openWritable(p, options);
    const faults = this;
    return {
      path: p,
      get size() {
        return file.size;
      },
      append(data: Uint8Array) {
        if (faults.failAppend) {
          file.append(data.subarray(0, data.length >> 1));
          throw new Error("injected ENOSPC");
        }
        file.append(data);
      },
      async sync() {
        if (faults.failSync) throw new Error("injected EIO");
        await file.sync();
      },
      close: () => file.close(),
    };
  }
}

describe("WAL", () => {
  test("appended batches read back in order; one append may carry a whole group", async () => {
    const batches = makeBatches(mulberry32(SEED), 10);
    const p = freshPath();
    const wal = WalWriter.open(fs, p);
    wal.append(encodeRecord(encodeBatch(batches[0].firstSeq, batches[0].ops)));
    const group = batches.slice(1).map((b) => encodeRecord(encodeBatch(b.firstSeq, b.ops)));
    wal.append(concatBytes(group));
    await wal.sync();
    expect(wal.size).toBe(nodeFs.statSync(p).size);
    wal.close();
    const read = await readWal(fs, p, MAX);
    expect(read.batches).toEqual(replayable(batches));
    expect(read.tornBytes).toBe(0);
    expect(read.validBytes).toBe(nodeFs.statSync(p).size);
  });

  test("a WAL cut at every byte of its last records yields exactly the whole batches before the cut, and is truncated to them", async () => {
    const batches = makeBatches(mulberry32(SEED + 1), 6);
    const full = freshPath();
    const ends = await writeWal(full, batches);
    const bytes = nodeFs.readFileSync(full);
    const p = freshPath();
    for (let cut = ends[2]; cut <= bytes.length; cut++) {
      nodeFs.writeFileSync(p, bytes.subarray(0, cut));
      const whole = ends.filter((e) => e <= cut).length;
      const read = await readWal(fs, p, MAX);
      expect(read.batches).toEqual(replayable(batches.slice(0, whole)));
      expect(read.validBytes).toBe(ends[whole - 1]);
      expect(read.tornBytes).toBe(cut - ends[whole - 1]);
      expect(nodeFs.statSync(p).size).toBe(ends[whole - 1]);
    }
  });

  test("appending after recovery continues from the last whole batch", async () => {
    const batches = makeBatches(mulberry32(SEED + 2), 4);
    const p = freshPath();
    const ends = await writeWal(p, batches);
    nodeFs.truncateSync(p, ends[3] - 3);
    await readWal(fs, p, MAX);
    const wal = WalWriter.open(fs, p);
    wal.append(encodeRecord(encodeBatch(batches[3].firstSeq, batches[3].ops)));
    await wal.sync();
    wal.close();
    expect((await readWal(fs, p, MAX)).batches).toEqual(replayable(batches));
  });

  test("zeros or garbage appended after the last batch never surface as data", async () => {
    const rand = mulberry32(SEED + 3);
    const batches = makeBatches(rand, 5);
    const p = freshPath();
    const ends = await writeWal(p, batches);
    const clean = nodeFs.readFileSync(p);
    for (let i = 0; i < 20; i++) {
      const n = 1 + Math.floor(rand() * 5000);
      const tail = i % 2 === 0 ? new Uint8Array(n) : randomBytes(rand, n);
      nodeFs.writeFileSync(p, concatBytes([clean, tail]));
      const read = await readWal(fs, p, MAX);
      expect(read.batches).toEqual(replayable(batches));
      expect(read.tornBytes).toBe(n);
      expect(nodeFs.statSync(p).size).toBe(ends[4]);
    }
  });

  test("a flipped byte in a middle record with valid records after it is CORRUPTION naming the file and offset, and the file is left alone", async () => {
    const batches = makeBatches(mulberry32(SEED + 4), 5);
    const p = freshPath();
    const ends = await writeWal(p, batches);
    const clean = nodeFs.readFileSync(p);
    for (let i = ends[1]; i < ends[2]; i++) {
      const damaged = new Uint8Array(clean);
      damaged[i] ^= 0x10;
      nodeFs.writeFileSync(p, damaged);
      const error = await readWal(fs, p, MAX).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isKvdbError(error, "CORRUPTION")).toBe(true);
      expect((error as Error).message).toBe(`${p}: bad record at offset ${ends[1]}`);
      expect(nodeFs.statSync(p).size).toBe(clean.length);
    }
  });

  test("a flipped byte in the last record is a torn tail", async () => {
    const batches = makeBatches(mulberry32(SEED + 5), 5);
    const p = freshPath();
    const ends = await writeWal(p, batches);
    const clean = nodeFs.readFileSync(p);
    for (let i = ends[3]; i < ends[4]; i++) {
      const damaged = new Uint8Array(clean);
      damaged[i] ^= 0x80;
      nodeFs.writeFileSync(p, damaged);
      const read = await readWal(fs, p, MAX);
      expect(read.batches).toEqual(replayable(batches.slice(0, 4)));
      expect(nodeFs.statSync(p).size).toBe(ends[3]);
    }
  });

  test("a valid record that is not a valid batch is CORRUPTION", async () => {
    const p = freshPath();
    nodeFs.writeFileSync(p, encodeRecord(utf8("not a batch")));
    await expect(readWal(fs, p, MAX)).rejects.toThrow(`${p}: bad batch`);
  });

  test("a failed sync is sticky: every later append and sync fails until reopen", async () => {
    const faulty = new FaultyFs();
    const p = freshPath();
    const wal = WalWriter.open(faulty, p);
    const record = encodeRecord(encodeBatch(1, [{ kind: KIND_PUT, key: utf8("a"), value: utf8("1") }]));
    wal.append(record);
    faulty.failSync = true;
    await expect(wal.sync()).rejects.toThrow("injected EIO");
    faulty.failSync = false; // the device "recovers", the WAL must not pretend
    expect(wal.failed).toBe(true);
    expect(() => wal.append(record)).toThrow(expect.objectContaining({ code: "IO_ERROR" }));
    expect(() => wal.append(record)).toThrow(/failed earlier \(injected EIO\); the database must be reopened/);
    await expect(wal.sync()).rejects.toThrow(/must be reopened/);
    wal.close();
  });

  test("a failed append is sticky, and its partial record reads as a torn tail", async () => {
    const faulty = new FaultyFs();
    const p = freshPath();
    const wal = WalWriter.open(faulty, p);
    const first = encodeRecord(encodeBatch(1, [{ kind: KIND_PUT, key: utf8("a"), value: utf8("1") }]));
    const second = encodeRecord(encodeBatch(2, [{ kind: KIND_PUT, key: utf8("b"), value: utf8("2") }]));
    wal.append(first);
    await wal.sync();
    faulty.failAppend = true;
    expect(() => wal.append(second)).toThrow("injected ENOSPC");
    faulty.failAppend = false;
    expect(() => wal.append(second)).toThrow(/must be reopened/);
    await expect(wal.sync()).rejects.toThrow(/must be reopened/);
    wal.close();
    const read = await readWal(fs, p, MAX);
    expect(read.batches.map((b) => b.firstSeq)).toEqual([1]);
    expect(read.tornBytes).toBe(second.length >> 1);
  });

  test("a closed WAL refuses appends", () => {
    const wal = WalWriter.open(fs, freshPath());
    wal.close();
    expect(() => wal.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "CLOSED" }));
  });
});
