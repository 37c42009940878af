import { afterAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compareBytes, concatBytes, utf8 } from "../../../src/engine/coding.ts";
import { KvdbError, isKvdbError } from "../../../src/engine/errors.ts";
import { type WritableFile, defaultFileSystem } from "../../../src/engine/fs.ts";
import { type Entry, type EntryIterator, KIND_DELETE, KIND_PUT, type Kind, compareEntries } from "../../../src/engine/iterator.ts";
import { TableBuilder, type TableBuilderOptions } from "../../../src/engine/sstable/builder.ts";
import { FOOTER_SIZE } from "../../../src/engine/sstable/format.ts";
import { TableReader } from "../../../src/engine/sstable/reader.ts";
import { mulberry32, testSeed } from "../../support/random.ts";

const SEED = testSeed("table.test.ts");

const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
afterAll(() => nodeFs.rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;

async function writeTable(entries: Entry[], options?: TableBuilderOptions): Promise<string> {
  const file = defaultFileSystem.openWritable(path.join(dir, `${++fileCounter}.sst`), { truncate: true });
  const builder = new TableBuilder(file, options);
  for (const e of entries) builder.add(e.key, e.seq, e.kind, e.value);
  builder.finish();
  await file.sync();
  file.close();
  return file.path;
}

function put(key: Uint8Array | string, seq: number, value: Uint8Array | string): Entry {
  return {
    key: typeof key === "string" ? utf8(key) : key,
    seq,
    kind: KIND_PUT,
    value: typeof value === "string" ? utf8(value) : value,
  };
}

function del(key: Uint8Array | string, seq: number): Entry {
  return { key: typeof key === "string" ? utf8(key) : key, seq, kind: KIND_DELETE, value: new Uint8Array(0) };
}

function sortEntries(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => compareEntries(a.key, a.seq, b.key, b.seq));
}

// --- the model: a sorted array -------------------------------------------------------

function modelGet(model: Entry[], key: Uint8Array, snap: number): Entry | undefined {
  return model.find((e) => compareBytes(e.key, key) === 0 && e.seq <= snap);
}

/** Index of the first entry with key >= target (model.length if none). */
function modelSeek(model: Entry[], target: Uint8Array): number {
  let lo = 0;
  let hi = model.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(model[mid].key, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last entry with key <= target (-1 if none). */
function modelSeekForPrev(model: Entry[], target: Uint8Array): number {
  let lo = 0;
  let hi = model.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(model[mid].key, target) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Compact description of the iterator's position, so failures print readable diffs. */
function at(it: EntryIterator): string {
  if (!it.valid()) return "invalid";
  return `${hex(it.key())}@${it.seq()}:${it.kind()}:${hex(it.value())}`;
}

function atModel(model: Entry[], i: number): string {
  if (i < 0 || i >= model.length) return "invalid";
  const e = model[i];
  return `${hex(e.key)}@${e.seq}:${e.kind}:${hex(e.value)}`;
}

function expectCorruption(fn: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isKvdbError(caught, "CORRUPTION")).toBe(true);
  for (const f of fragments) expect((caught as Error).message).toContain(f);
}

// --- random round trips ---------------------------------------------------------------

function randomKey(rand: () => number): Uint8Array {
  // A small alphabet (with 0x00 and 0xFF) so keys share prefixes and collide.
  const alphabet = [0x00, 0x01, 0x61, 0x62, 0x63, 0x7f, 0x80, 0xfe, 0xff];
  const len = 1 + Math.floor(rand() * 12);
  const key = new Uint8Array(len);
  for (let i = 0; i < len; i++) key[i] = alphabet[Math.floor(rand() * alphabet.length)];
  return key;
}

function randomBytes(rand: () => number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

function randomTable(rand: () => number, distinctKeys: number, blockSize: number): Entry[] {
  const byKey = new Map<string, Uint8Array>();
  while (byKey.size < distinctKeys) {
    const k = randomKey(rand);
    byKey.set(hex(k), k);
  }
  const entries: Entry[] = [];
  for (const key of byKey.values()) {
    // Usually a few versions; sometimes enough to span several target block sizes.
    const many = rand() < 0.03;
    const versions = many ? 20 + Math.floor(rand() * 60) : 1 + Math.floor(rand() * 3);
    const seqs = new Set<number>();
    while (seqs.size < versions) seqs.add(1 + Math.floor(rand() * 100_000));
    for (const seq of seqs) {
      if (rand() < 0.2) entries.push(del(key, seq));
      else {
        const len = many ? Math.floor((blockSize / 4) * rand()) : rand() < 0.1 ? 0 : Math.floor(rand() * 40);
        entries.push({ key, seq, kind: KIND_PUT, value: randomBytes(rand, len) });
      }
    }
  }
  return sortEntries(entries);
}

describe("random tables round-trip against a sorted-array model", () => {
  const configs: { name: string; entries: number; options: TableBuilderOptions }[] = [
    { name: "tiny blocks, restart every entry", entries: 300, options: { blockSize: 64, restartInterval: 1 } },
    { name: "small blocks, restart interval 3", entries: 600, options: { blockSize: 256, restartInterval: 3 } },
    { name: "defaults", entries: 1500, options: {} },
    { name: "large blocks, sparse bloom", entries: 800, options: { blockSize: 16384, restartInterval: 32, bloomBitsPerKey: 4 } },
  ];
  configs.forEach((cfg, ci) => {
    test(cfg.name, async () => {
      const rand = mulberry32(SEED + ci);
      const model = randomTable(rand, cfg.entries, cfg.options.blockSize ?? 4096);
      const file = await writeTable(model, cfg.options);
      const reader = TableReader.open(defaultFileSystem, file);
      reader.verify();

      const distinct = new Set(model.map((e) => hex(e.key)));
      const p = reader.properties;
      expect(p.entryCount).toBe(model.length);
      expect(p.distinctKeyCount).toBe(distinct.size);
      expect(p.tombstoneCount).toBe(model.filter((e) => e.kind === KIND_DELETE).length);
      expect(hex(p.smallest)).toBe(hex(model[0].key));
      expect(hex(p.largest)).toBe(hex(model[model.length - 1].key));
      expect(p.minSeq).toBe(Math.min(...model.map((e) => e.seq)));
      expect(p.maxSeq).toBe(Math.max(...model.map((e) => e.seq)));
      expect(p.rawKeyBytes).toBe(model.reduce((n, e) => n + e.key.length, 0));
      expect(p.rawValueBytes).toBe(model.reduce((n, e) => n + e.value.length, 0));
      expect(reader.fileSize).toBe(nodeFs.statSync(file).size);

      // Full forward and reverse scans.
      const it = reader.iterator();
      const forward: string[] = [];
      for (it.seekToFirst(); it.valid(); it.next()) {
        forward.push(at(it));
        // copyValue(): the same bytes, in a buffer of its own (not a view of the file).
        const copy = it.copyValue();
        expect(hex(copy)).toBe(hex(it.value()));
        expect(copy.byteLength).toBe(copy.buffer.byteLength);
      }
      expect(forward).toEqual(model.map((_, i) => atModel(model, i)));
      const backward: string[] = [];
      for (it.seekToLast(); it.valid(); it.prev()) backward.push(at(it));
      expect(backward).toEqual(model.map((_, i) => atModel(model, i)).reverse());

      // Point gets at several snapshots for every key, plus absent keys.
      for (const e of model) {
        for (const snap of [Number.MAX_SAFE_INTEGER, e.seq, e.seq - 1, 0, Math.floor(rand() * 100_000)]) {
          const want = modelGet(model, e.key, snap);
          const got = reader.get(e.key, snap);
          expect(got && `${got.seq}:${got.kind}:${hex(got.value)}`).toEqual(want && `${want.seq}:${want.kind}:${hex(want.value)}`);
        }
      }
      for (let i = 0; i < 300; i++) {
        const k = randomKey(rand);
        if (!distinct.has(hex(k))) expect(reader.get(k, Number.MAX_SAFE_INTEGER)).toBeUndefined();
      }

      // Seeks to present and absent keys, then a few steps either way.
      for (let i = 0; i < 400; i++) {
        const target = rand() < 0.5 ? model[Math.floor(rand() * model.length)].key : randomKey(rand);
        let expected: number;
        if (rand() < 0.5) {
          it.seek(target);
          expected = modelSeek(model, target);
        } else {
          it.seekForPrev(target);
          expected = modelSeekForPrev(model, target);
        }
        expect(at(it)).toBe(atModel(model, expected));
        for (let step = 0; step < 40 && it.valid(); step++) {
          if (rand() < 0.5) {
            it.next();
            expected++;
          } else {
            it.prev();
            expected--;
          }
          expect(at(it)).toBe(atModel(model, expected));
        }
      }

      // A seek decodes its block from a restart point near the target: long backward
      // walks from there must re-decode earlier entries and cross into earlier blocks.
      for (let i = 0; i < 60; i++) {
        const target = model[Math.floor(rand() * model.length)].key;
        it.seek(target);
        let expected = modelSeek(model, target);
        for (let step = 0; step < 80 && it.valid(); step++) {
          it.prev();
          expected--;
          expect(at(it)).toBe(atModel(model, expected));
        }
      }
    });
  });
});

// --- edge cases -----------------------------------------------------------------------

describe("edge cases", () => {
  test("an empty value is a put, distinct from a tombstone", async () => {
    const reader = TableReader.open(defaultFileSystem, await writeTable([put("a", 5, ""), del("b", 4), put("b", 3, "old")]));
    expect(reader.get(utf8("a"), 10)).toEqual({ seq: 5, kind: KIND_PUT, value: new Uint8Array(0) });
    expect(reader.get(utf8("b"), 10)).toEqual({ seq: 4, kind: KIND_DELETE, value: new Uint8Array(0) });
    expect(reader.get(utf8("b"), 3)).toEqual({ seq: 3, kind: KIND_PUT, value: utf8("old") });
    expect(reader.get(utf8("b"), 2)).toBeUndefined();
    expect(reader.properties.tombstoneCount).toBe(1);
  });

  test("a single-entry table", async () => {
    const reader = TableReader.open(defaultFileSystem, await writeTable([put("only", 1, "v")]));
    expect(reader.properties.entryCount).toBe(1);
    expect(reader.get(utf8("only"), 1)?.value).toEqual(utf8("v"));
    expect(reader.get(utf8("only"), 0)).toBeUndefined();
    expect(reader.get(utf8("onl"), 1)).toBeUndefined();
    const it = reader.iterator();
    it.seekToFirst();
    expect(at(it)).toBe(`${hex(utf8("only"))}@1:1:${hex(utf8("v"))}`);
    it.next();
    expect(it.valid()).toBe(false);
    it.seekForPrev(utf8("a"));
    expect(it.valid()).toBe(false);
    it.seekForPrev(utf8("z"));
    expect(hex(it.key())).toBe(hex(utf8("only")));
    it.seek(utf8("z"));
    expect(it.valid()).toBe(false);
    reader.verify();
  });

  test("an empty table opens and holds nothing", async () => {
    const reader = TableReader.open(defaultFileSystem, await writeTable([]));
    expect(reader.properties.entryCount).toBe(0);
    expect(reader.blockCount).toBe(0);
    expect(reader.get(utf8("a"), 9)).toBeUndefined();
    const it = reader.iterator();
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
    it.seekForPrev(utf8("a"));
    expect(it.valid()).toBe(false);
    reader.verify();
  });

  test("keys with 0x00 and 0xFF bytes sort and read back as bytes", async () => {
    const keys = [[0x00], [0x00, 0x00], [0x00, 0xff], [0x01], [0x7f, 0xff], [0x80], [0xff], [0xff, 0x00], [0xff, 0xff, 0xff]].map(
      (k) => new Uint8Array(k),
    );
    const entries = keys.map((k, i) => put(k, i + 1, new Uint8Array([i])));
    const reader = TableReader.open(defaultFileSystem, await writeTable(entries, { blockSize: 16, restartInterval: 2 }));
    for (let i = 0; i < keys.length; i++) expect(reader.get(keys[i], 100)?.value).toEqual(new Uint8Array([i]));
    expect(reader.get(new Uint8Array([0xff, 0xff]), 100)).toBeUndefined();
    expect(reader.get(new Uint8Array([]), 100)).toBeUndefined();
    const it = reader.iterator();
    const seen: string[] = [];
    for (it.seekToFirst(); it.valid(); it.next()) seen.push(hex(it.key()));
    expect(seen).toEqual(keys.map(hex));
    it.seek(new Uint8Array([0xff, 0xff]));
    expect(hex(it.key())).toBe("ffffff");
    it.seekForPrev(new Uint8Array([0x00, 0xff, 0x00]));
    expect(hex(it.key())).toBe("00ff");
    it.seekForPrev(new Uint8Array([0x00, 0xfe]));
    expect(hex(it.key())).toBe("0000");
  });

  test("many versions of one key stay in one block, larger than the target size", async () => {
    const entries: Entry[] = [put("a", 1, "first")];
    for (let s = 500; s >= 1; s--) entries.push(put("hot", s * 2, `value-${s}-${"x".repeat(50)}`));
    entries.push(put("z", 3, "last"));
    const reader = TableReader.open(defaultFileSystem, await writeTable(sortEntries(entries), { blockSize: 512 }));
    expect(reader.blockCount).toBeLessThanOrEqual(3);
    for (let s = 1; s <= 500; s++) {
      expect(reader.get(utf8("hot"), s * 2)?.seq).toBe(s * 2);
      expect(reader.get(utf8("hot"), s * 2 + 1)?.seq).toBe(s * 2);
    }
    expect(reader.get(utf8("hot"), 1)).toBeUndefined();
    // seekForPrev lands on the oldest version of the largest key <= target.
    const it = reader.iterator();
    it.seekForPrev(utf8("y"));
    expect([it.seq(), hex(it.key())]).toEqual([2, hex(utf8("hot"))]);
    it.next();
    expect(hex(it.key())).toBe(hex(utf8("z")));
  });

  test("the builder rejects entries out of internal order and use after finish", () => {
    const file = defaultFileSystem.openWritable(path.join(dir, "order.sst"), { truncate: true });
    const b = new TableBuilder(file);
    b.add(utf8("b"), 5, KIND_PUT, utf8("v"));
    const invalid = (fn: () => void) => expect(() => fn()).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    invalid(() => b.add(utf8("a"), 9, KIND_PUT, utf8("v"))); // smaller key
    invalid(() => b.add(utf8("b"), 5, KIND_PUT, utf8("v"))); // same key and seq
    invalid(() => b.add(utf8("b"), 6, KIND_PUT, utf8("v"))); // newer version after older
    invalid(() => b.add(utf8("c"), 1, 7 as Kind, utf8("v")));
    invalid(() => b.add(utf8("c"), -1, KIND_PUT, utf8("v")));
    b.add(utf8("b"), 4, KIND_DELETE, new Uint8Array(0));
    expect(b.entryCount).toBe(2);
    b.finish();
    expect(b.estimatedSize).toBe(file.size);
    invalid(() => b.add(utf8("c"), 1, KIND_PUT, utf8("v")));
    file.close();
    // A table must start at offset 0 of its file.
    const again = defaultFileSystem.openWritable(file.path);
    invalid(() => new TableBuilder(again));
    again.close();
  });
});

describe("output", () => {
  /** An in-memory WritableFile that records each append and can be told to fail. */
  class MemoryFile implements WritableFile {
    readonly path = "memory.sst";
    size = 0;
    appends: Uint8Array[] = [];
    failNext = false;
    append(data: Uint8Array): void {
      if (this.failNext) throw new KvdbError("IO_ERROR", "injected write failure");
      this.appends.push(data); // kept without copying: the builder must not reuse it
      this.size += data.length;
    }
    async sync(): Promise<void> {}
    close(): void {}
  }

  test("appends in large chunks, never reusing a chunk it handed over", () => {
    const file = new MemoryFile();
    const b = new TableBuilder(file);
    const value = new Uint8Array(100).fill(7);
    for (let i = 0; i < 5000; i++) b.add(utf8(`k${String(i).padStart(6, "0")}`), 1, KIND_PUT, value);
    b.finish();
    expect(file.appends.length).toBeLessThanOrEqual(Math.ceil(file.size / 65536) + 1);
    const reader = new TableReader(file.path, concatBytes(file.appends));
    reader.verify();
    expect(reader.get(utf8("k004999"), 1)?.value).toEqual(value);
  });

  test("a failed append leaves the builder unusable", () => {
    const file = new MemoryFile();
    const b = new TableBuilder(file);
    b.add(utf8("a"), 1, KIND_PUT, utf8("v"));
    file.failNext = true;
    expect(() => b.finish()).toThrow(expect.objectContaining({ code: "IO_ERROR" }));
    expect(() => b.add(utf8("b"), 1, KIND_PUT, utf8("v"))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

// --- corruption -----------------------------------------------------------------------

describe("corruption", () => {
  function manyKeys(n: number): Entry[] {
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) entries.push(put(`key${String(i).padStart(5, "0")}`, i + 1, `value-${i}`));
    return entries;
  }

  function patch(file: string, offset: number, fn: (b: number) => number): void {
    const bytes = nodeFs.readFileSync(file);
    bytes[offset] = fn(bytes[offset]);
    nodeFs.writeFileSync(file, bytes);
  }

  test("a flipped byte in a data block fails reads of that block only", async () => {
    const entries = manyKeys(2000);
    const file = await writeTable(entries);
    patch(file, 100, (b) => b ^ 0x01); // inside the first data block, which starts at offset 0
    const reader = TableReader.open(defaultFileSystem, file); // open reads no data block
    const name = path.basename(file);
    expectCorruption(() => reader.get(entries[0].key, 1e9), name, "data block checksum mismatch", "at offset 0");
    // Still failing the second time (a failed check is not cached as verified).
    expectCorruption(() => reader.get(entries[1].key, 1e9), "data block checksum mismatch");
    expect(reader.get(entries[1999].key, 1e9)?.value).toEqual(utf8("value-1999"));
    const it = reader.iterator();
    expectCorruption(() => it.seekToFirst(), name, "data block checksum mismatch");
    it.seek(entries[1000].key);
    expect(hex(it.key())).toBe(hex(entries[1000].key));
    expectCorruption(() => reader.verify(), name, "at offset 0");
  });

  test("a bad magic number or a truncated file is CORRUPTION at open", async () => {
    const file = await writeTable(manyKeys(50));
    const size = nodeFs.statSync(file).size;
    const name = path.basename(file);

    const badMagic = path.join(dir, "bad-magic.sst");
    nodeFs.copyFileSync(file, badMagic);
    patch(badMagic, size - 1, (b) => b ^ 0xff);
    expectCorruption(() => TableReader.open(defaultFileSystem, badMagic), "bad-magic.sst", "magic");

    const truncated = path.join(dir, "truncated.sst");
    nodeFs.copyFileSync(file, truncated);
    nodeFs.truncateSync(truncated, size - 1);
    expectCorruption(() => TableReader.open(defaultFileSystem, truncated), "truncated.sst");
    nodeFs.truncateSync(truncated, FOOTER_SIZE - 1);
    expectCorruption(() => TableReader.open(defaultFileSystem, truncated), "truncated.sst", "shorter");
    nodeFs.truncateSync(truncated, 0);
    expectCorruption(() => TableReader.open(defaultFileSystem, truncated), "truncated.sst", "shorter");

    const badVersion = path.join(dir, "bad-version.sst");
    nodeFs.copyFileSync(file, badVersion);
    patch(badVersion, size - 12, () => 2);
    expectCorruption(() => TableReader.open(defaultFileSystem, badVersion), "version 2");

    expect(TableReader.open(defaultFileSystem, file).properties.entryCount).toBe(50);
    expect(name).toEndWith(".sst");
  });

  test("a flipped byte in the index, properties or filter block is CORRUPTION at open", async () => {
    const file = await writeTable(manyKeys(300));
    const good = nodeFs.readFileSync(file);
    // Footer handles are varints: decode them to find each meta block.
    const footer = good.subarray(good.length - FOOTER_SIZE);
    let pos = 0;
    const varint = () => {
      let v = 0;
      let scale = 1;
      for (;;) {
        const b = footer[pos++];
        v += (b & 0x7f) * scale;
        if (b < 0x80) return v;
        scale *= 128;
      }
    };
    const handles = { filter: [varint(), varint()], properties: [varint(), varint()], index: [varint(), varint()] };
    for (const [what, [offset, size]] of Object.entries(handles)) {
      const copy = path.join(dir, `bad-${what}.sst`);
      nodeFs.writeFileSync(copy, good);
      patch(copy, offset + Math.floor(size / 2), (b) => b ^ 0x10);
      expectCorruption(() => TableReader.open(defaultFileSystem, copy), `bad-${what}.sst`, `${what} block checksum mismatch`, `at offset ${offset}`);
    }
  });
});
