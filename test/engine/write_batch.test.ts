import { describe, expect, test } from "bun:test";
import { utf8 } from "../../src/engine/coding.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { KIND_DELETE, KIND_PUT, type Kind } from "../../src/engine/iterator.ts";
import { type BatchOp, decodeBatch, encodeBatch, KIND_MERGE } from "../../src/engine/write_batch.ts";
import { mulberry32, testSeed, randomBytes } from "../support/random.ts";

const SEED = testSeed("write_batch.test.ts");

/** What decodeBatch should return for `ops`: every op with its sequence number, deletes with an empty value. */
function expected(firstSeq: number, ops: BatchOp[]) {
  return {
    firstSeq,
    ops: ops.map((op, i) => ({
      key: op.key,
      seq: firstSeq + i,
      kind: op.kind,
      value: op.kind === KIND_PUT ? op.value! : new Uint8Array(0),
    })),
  };
}

function corruptionOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isKvdbError(e, "CORRUPTION")).toBe(true);
    return e as Error;
  }
  throw new Error("expected a CORRUPTION error");
}

const sample: BatchOp[] = [
  { kind: KIND_PUT, key: utf8("user:1"), value: utf8('{"name":"Zoë"}') },
  { kind: KIND_PUT, key: utf8("empty"), value: new Uint8Array(0) },
  { kind: KIND_DELETE, key: utf8("gone") },
  { kind: KIND_PUT, key: utf8("日本語🔑"), value: utf8("ünïcödé") },
  { kind: KIND_PUT, key: new Uint8Array([0, 0xff, 0, 0x80]), value: new Uint8Array([0xff, 0, 1]) },
  { kind: KIND_PUT, key: new Uint8Array(0), value: utf8("empty key is the engine's call, not the codec's") },
  { kind: KIND_PUT, key: utf8("big"), value: new Uint8Array(70000).fill(7) },
];

describe("write batch", () => {
  test("round-trips puts, empty values, deletes, unicode and binary keys with consecutive sequence numbers", () => {
    const payload = encodeBatch(41, sample);
    expect(decodeBatch(payload, "000003.wal", 8)).toEqual(expected(41, sample));
  });

  test("an empty value and a delete stay distinct", () => {
    const ops: BatchOp[] = [
      { kind: KIND_PUT, key: utf8("k"), value: new Uint8Array(0) },
      { kind: KIND_DELETE, key: utf8("k") },
    ];
    const decoded = decodeBatch(encodeBatch(1, ops), "x.wal", 0);
    expect(decoded.ops.map((o) => o.kind)).toEqual([KIND_PUT, KIND_DELETE]);
  });

  test("the byte layout is u64 seq, u32 count, then kind / varint lengths / bytes", () => {
    const payload = encodeBatch(0x1_0000_0002, [
      { kind: KIND_PUT, key: utf8("ab"), value: utf8("c") },
      { kind: KIND_DELETE, key: utf8("d") },
    ]);
    expect([...payload]).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 2, 97, 98, 1, 99, 0, 1, 100]);
  });

  test("an empty batch and the largest sequence numbers round-trip", () => {
    expect(decodeBatch(encodeBatch(7, []), "x.wal", 0)).toEqual({ firstSeq: 7, ops: [] });
    const max = Number.MAX_SAFE_INTEGER - 1;
    expect(decodeBatch(encodeBatch(max, [sample[2]]), "x.wal", 0).ops[0].seq).toBe(max);
  });

  test("random batches round-trip", () => {
    const rand = mulberry32(SEED);
    for (let round = 0; round < 200; round++) {
      const ops: BatchOp[] = [];
      const n = Math.floor(rand() * 20);
      for (let i = 0; i < n; i++) {
        const kind: Kind = rand() < 0.3 ? KIND_DELETE : KIND_PUT;
        const key = randomBytes(rand, Math.floor(rand() * 300));
        ops.push(kind === KIND_PUT ? { kind, key, value: randomBytes(rand, Math.floor(rand() * 300)) } : { kind, key });
      }
      const firstSeq = Math.floor(rand() * 2 ** 40);
      expect(decodeBatch(encodeBatch(firstSeq, ops), "x.wal", 0)).toEqual(expected(firstSeq, ops));
    }
  });

  test("a batch cut at any byte is corruption naming the file and an offset inside the record", () => {
    const payload = encodeBatch(5, sample.slice(0, 5));
    for (let cut = 0; cut < payload.length; cut++) {
      const e = corruptionOf(() => decodeBatch(payload.subarray(0, cut), "000009.wal", 1000));
      expect(e.message).toStartWith("000009.wal: bad batch");
      const at = Number(/at offset (\d+)$/.exec(e.message)?.[1]);
      expect(at).toBeGreaterThanOrEqual(1000);
      expect(at).toBeLessThanOrEqual(1000 + cut);
    }
  });

  test("trailing bytes, unknown kinds, absurd counts and overflowing sequence numbers are corruption", () => {
    const payload = encodeBatch(5, [sample[0]]);
    const trailing = new Uint8Array([...payload, 0]);
    expect(corruptionOf(() => decodeBatch(trailing, "x.wal", 100)).message).toBe(
      `x.wal: bad batch: 1 trailing bytes after last op at offset ${100 + payload.length}`,
    );
    const badKind = payload.slice();
    badKind[12] = 3;
    expect(corruptionOf(() => decodeBatch(badKind, "x.wal", 100)).message).toBe(
      "x.wal: bad batch: unknown op kind 3 at offset 112",
    );
    const hugeCount = payload.slice();
    new DataView(hugeCount.buffer).setUint32(8, 0xffff_ffff, true);
    expect(corruptionOf(() => decodeBatch(hugeCount, "x.wal", 0)).message).toContain("op count");
    // One more op than the sequence space allows after MAX_SAFE_INTEGER - 1.
    const overflow = new Uint8Array([...encodeBatch(Number.MAX_SAFE_INTEGER - 1, [sample[2]]), 0, 1, 120]);
    new DataView(overflow.buffer).setUint32(8, 2, true);
    expect(corruptionOf(() => decodeBatch(overflow, "x.wal", 0)).message).toContain("sequence number overflows");
  });

  test("encoding rejects bad sequence numbers, kinds and puts without a value", () => {
    const invalid = (fn: () => unknown) => expect(fn).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    invalid(() => encodeBatch(-1, []));
    invalid(() => encodeBatch(1.5, []));
    invalid(() => encodeBatch(Number.MAX_SAFE_INTEGER, [sample[2]]));
    invalid(() => encodeBatch(1, [{ kind: KIND_PUT, key: utf8("k") }]));
    invalid(() => encodeBatch(1, [{ kind: 7 as Kind, key: utf8("k") }]));
  });
});

test("a merge op round-trips with its operand", () => {
  const key = new TextEncoder().encode("posting");
  const operand = new Uint8Array([1, 2, 3]);
  const decoded = decodeBatch(encodeBatch(9, [{ kind: KIND_MERGE, key, value: operand }]), "x.wal", 0);
  expect(decoded.ops).toEqual([{ key, seq: 9, kind: KIND_MERGE, value: operand }]);
});
