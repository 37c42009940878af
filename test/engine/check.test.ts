import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, type Database } from "../../src/db.ts";
import { ByteReader } from "../../src/engine/coding.ts";
import { checkDataFiles, type CheckProblem } from "../../src/engine/check.ts";
import type { Engine } from "../../src/engine/engine.ts";
import { KIND_DELETE, KIND_PUT } from "../../src/engine/iterator.ts";
import { readRecords } from "../../src/engine/log_format.ts";
import { decodeFooter, FOOTER_SIZE, type BlockHandle } from "../../src/engine/sstable/format.ts";
import { blockKey, metaKey, termPrefix } from "../../src/indexing/keys.ts";
import { encodeIndexValue } from "../../src/indexing/value_codec.ts";
import { seededRandom, testSeed, type Random } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex } from "../indexing/support.ts";

const key = (i: number) => `key${String(i).padStart(5, "0")}`;
const utf8 = (s: string) => new TextEncoder().encode(s);
const names = (dir: string, suffix: string) => readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();
const damage = (problems: CheckProblem[]) => problems.filter((p) => p.severity === "damage");

/**
 * A stopped database with every kind of file worth damaging: two tables of many data
 * blocks, a manifest of three records (snapshot + two flush edits) and a WAL of 50
 * records that no table holds yet.
 */
async function buildFixture(): Promise<string> {
  const dir = tempDir();
  const db = await openDatabase(dir, { autoCompact: false, sync: "none" });
  for (let i = 0; i < 1500; i++) await db.put(key(i), `value-${i}-`.repeat(4));
  await db.flush();
  for (let i = 1500; i < 3000; i++) await db.put(key(i), `value-${i}-`.repeat(4));
  await db.flush();
  for (let i = 3000; i < 3050; i++) await db.put(key(i), `late-${i}`);
  await db.close();
  return dir;
}

/** The data blocks (from the index block) and meta blocks of a table. */
function tableLayout(path: string): { data: BlockHandle[]; filter: BlockHandle; properties: BlockHandle; index: BlockHandle; footerAt: number } {
  const file = new Uint8Array(readFileSync(path));
  const footer = decodeFooter(file, path);
  // Index block: entries (shared, unshared, valueLen, kind, seq, key, value = handle), then restarts.
  const contents = file.subarray(footer.index.offset, footer.index.offset + footer.index.size);
  const restarts = new DataView(contents.buffer, contents.byteOffset).getUint32(contents.length - 4, true);
  const r = new ByteReader(contents, 0, contents.length - 4 - 4 * restarts);
  const data: BlockHandle[] = [];
  while (r.remaining > 0) {
    r.varint();
    const unshared = r.varint();
    const valueLen = r.varint();
    r.u8();
    r.varint();
    r.bytes(unshared);
    const value = new ByteReader(r.bytes(valueLen));
    data.push({ offset: value.varint(), size: value.varint() });
  }
  return { data, filter: footer.filter, properties: footer.properties, index: footer.index, footerAt: file.length - FOOTER_SIZE };
}

/** A fresh copy of the fixture with one byte of `file` XORed with a random nonzero mask. */
function damagedCopy(fixture: string, file: string, at: number, rnd: Random): string {
  const dir = tempDir();
  cpSync(fixture, dir, { recursive: true });
  const path = join(dir, file);
  const bytes = readFileSync(path);
  bytes[at] ^= 1 + rnd.int(255);
  writeFileSync(path, bytes);
  return dir;
}

/** Corruptions detected, by kind, for the summary line (docs/RELIABILITY.md). */
const detected = new Map<string, number>();
const count = (kind: string, n = 1) => detected.set(kind, (detected.get(kind) ?? 0) + n);

/** Flips per kind of damage; `CHECK_FLIPS=100` for the figures in docs/RELIABILITY.md. */
const FLIPS = Number(process.env.CHECK_FLIPS ?? 8);
const FLIP_TIMEOUT = Math.max(5_000, FLIPS * 300);

let fixture: string;
beforeAll(async () => {
  fixture = await buildFixture();
});
afterAll(() => {
  const line = [...detected].map(([k, n]) => `${k}=${n}`).join(" ");
  console.log(`[corruption] detected by kind: ${line} (total ${[...detected.values()].reduce((a, b) => a + b, 0)})`);
});

describe("kvdb check finds every flipped byte, by file and offset", () => {
  let rnd: Random;
  beforeAll(() => {
    rnd = seededRandom(testSeed("check"));
  });

  test("the intact fixture is clean", async () => {
    const r = await checkDataFiles(fixture);
    expect(r.problems).toEqual([]);
    expect(r.figures).toMatchObject({ tables: 2, wals: 1, walBatches: 50, manifestEdits: 3, orphans: 0, entries: 3000 });
    expect(r.figures.dataBlocks).toBeGreaterThan(20);
  });

  /** Flips a random byte of `[start, end)` in `file` FLIPS times; each must be one damage at `offset` (when given). */
  async function expectDetected(kind: string, file: string, region: () => { start: number; end: number; offset?: number; message: RegExp }): Promise<void> {
    for (let i = 0; i < FLIPS; i++) {
      const { start, end, offset, message } = region();
      const at = start + rnd.int(end - start);
      const dir = damagedCopy(fixture, file, at, rnd);
      const r = await checkDataFiles(dir);
      const found = damage(r.problems);
      expect({ at, found: found.map((p) => ({ file: p.file, offset: p.offset })) }).toEqual({ at, found: [offset === undefined ? { file, offset: found[0]?.offset } : { file, offset }] });
      expect(found[0].message).toMatch(message);
      count(kind);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("WAL: a byte in any record but the last is damage at that record's offset", async () => {
    const [wal] = names(fixture, ".wal");
    const { records } = readRecords(new Uint8Array(readFileSync(join(fixture, wal))), wal, 1 << 30);
    await expectDetected("wal-record", wal, () => {
      const r = records[rnd.int(records.length - 1)];
      return { start: r.offset, end: r.offset + 8 + r.payload.length, offset: r.offset, message: /^bad record$/ };
    });
  }, FLIP_TIMEOUT);

  test("SSTable data block (contents or trailer): damage at the block's offset", async () => {
    const [sst] = names(fixture, ".sst");
    const { data } = tableLayout(join(fixture, sst));
    await expectDetected("sst-data-block", sst, () => {
      const b = data[rnd.int(data.length)];
      return { start: b.offset, end: b.offset + b.size + 5, offset: b.offset, message: /data block checksum mismatch/ };
    });
  }, FLIP_TIMEOUT);

  for (const block of ["index", "filter", "properties"] as const) {
    test(`SSTable ${block} block: damage at the block's offset`, async () => {
      const sst = names(fixture, ".sst")[1];
      const h = tableLayout(join(fixture, sst))[block];
      await expectDetected(`sst-${block}-block`, sst, () => ({ start: h.offset, end: h.offset + h.size + 5, offset: h.offset, message: new RegExp(`${block} block checksum mismatch`) }));
    }, FLIP_TIMEOUT);
  }

  test("SSTable footer: the magic number, and any other footer byte including the zero padding", async () => {
    const [sst] = names(fixture, ".sst");
    const { footerAt } = tableLayout(join(fixture, sst));
    await expectDetected("sst-footer-magic", sst, () => ({ start: footerAt + 52, end: footerAt + 60, offset: footerAt + 52, message: /bad table magic number/ }));
    await expectDetected("sst-footer", sst, () => ({ start: footerAt, end: footerAt + 52, message: /./ }));
  }, FLIP_TIMEOUT);

  test("manifest: a byte in any record but the last is damage at that record's offset", async () => {
    const [manifest] = names(fixture, "").filter((n) => n.startsWith("MANIFEST-"));
    const { records } = readRecords(new Uint8Array(readFileSync(join(fixture, manifest))), manifest, 1 << 30);
    expect(records.length).toBe(3);
    await expectDetected("manifest-record", manifest, () => {
      const r = records[rnd.int(records.length - 1)];
      return { start: r.offset, end: r.offset + 8 + r.payload.length, offset: r.offset, message: /^bad record$/ };
    });
  }, FLIP_TIMEOUT);

  test("CURRENT: any changed byte is damage to CURRENT (a bad name, or a manifest that does not exist)", async () => {
    const size = statSync(join(fixture, "CURRENT")).size;
    await expectDetected("current", "CURRENT", () => ({ start: 0, end: size, message: /does not name a manifest|which does not exist|not UTF-8/ }));
  }, FLIP_TIMEOUT);
});

describe("what kvdb check reports besides flipped bytes, and what it leaves alone", () => {
  test("a torn WAL tail and orphan files are warnings; nothing in the directory changes", async () => {
    const dir = tempDir();
    cpSync(fixture, dir, { recursive: true });
    const [wal] = names(dir, ".wal");
    const walBytes = readFileSync(join(dir, wal));
    writeFileSync(join(dir, wal), walBytes.subarray(0, walBytes.length - 5));
    appendFileSync(join(dir, wal), new Uint8Array(64)); // zeros after the torn record, as a crash leaves them
    writeFileSync(join(dir, "000099.sst"), readFileSync(join(dir, names(dir, ".sst")[0])));
    writeFileSync(join(dir, "000100.sst.tmp"), "partial");
    const snapshot = () => Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n)).toString("base64")]));
    const before = snapshot();
    const r = await checkDataFiles(dir);
    expect(snapshot()).toEqual(before);
    expect(damage(r.problems)).toEqual([]);
    const last = lastRecordOffset(walBytes);
    const warnings = r.problems.map((p) => ({ file: p.file, offset: p.offset, torn: p.message.startsWith(`torn tail of ${walBytes.length - 5 + 64 - last} bytes`), orphan: /next open deletes it/.test(p.message) }));
    expect(warnings).toEqual([
      { file: wal, offset: last, torn: true, orphan: false },
      { file: "000099.sst", offset: undefined, torn: false, orphan: true },
      { file: "000100.sst.tmp", offset: undefined, torn: false, orphan: true },
    ]);
    expect(r.figures.walBatches).toBe(49);
  });

  test("a table the manifest lists but the directory lacks, and a manifest entry that disagrees with its table", async () => {
    const dir = tempDir();
    cpSync(fixture, dir, { recursive: true });
    const [first] = names(dir, ".sst");
    rmSync(join(dir, first));
    const r = await checkDataFiles(dir);
    expect(damage(r.problems)).toEqual([{ severity: "damage", file: first, message: "missing: the manifest lists it at level 0" }]);

    const other = tempDir();
    cpSync(fixture, other, { recursive: true });
    const [a, b] = names(other, ".sst");
    // Another table's bytes under a's name: valid on their own, wrong for the manifest's entry.
    writeFileSync(join(other, a), readFileSync(join(other, b)));
    const swapped = damage((await checkDataFiles(other)).problems);
    expect(swapped.map((p) => p.file)).toEqual([a]);
    expect(swapped[0].message).toMatch(/the manifest records .*a different key range/);
  });

  test("an empty or new directory is clean; a directory with tables but no CURRENT is damaged", async () => {
    const empty = tempDir();
    expect((await checkDataFiles(empty)).problems).toEqual([]);
    const dir = tempDir();
    cpSync(fixture, dir, { recursive: true });
    rmSync(join(dir, "CURRENT"));
    const r = await checkDataFiles(dir);
    expect(damage(r.problems).map((p) => [p.file, p.message])).toEqual([["CURRENT", "missing, but the directory holds tables or manifests"]]);
    // With the manifest unknown, every table is still verified.
    expect(r.figures.tables).toBe(2);
  });
});

function lastRecordOffset(wal: Uint8Array): number {
  return readRecords(new Uint8Array(wal), "wal", 1 << 30).records.at(-1)!.offset;
}

describe("indexes checked against the data", () => {
  const ageIndex = { name: "users_age", scope_prefix: "user:", type: "range" as const, extractor: { kind: "json_path" as const, path: "$.age" } };
  const engineOf = (db: Database) => (db as unknown as { engine: Engine }).engine;

  async function indexedDb(): Promise<Database> {
    const db = await openDatabase(tempDir(), { memtableBytes: 32 * 1024, indexes: [cityIndex, ageIndex], indexBlockEntries: 8 });
    await db.waitForIndexes();
    for (let i = 0; i < 300; i++) await db.put(`user:${i}`, JSON.stringify({ city: `c${i % 4}`, age: i % 30 }));
    for (let i = 0; i < 300; i += 7) await db.delete(`user:${i}`);
    await db.put("other:1", JSON.stringify({ city: "c1" }));
    return db;
  }

  test("intact indexes: every entry accounted for", async () => {
    const db = await indexedDb();
    const r = await db.check();
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    const live = 300 - Math.ceil(300 / 7);
    for (const i of r.indexes) expect(i).toMatchObject({ checked: true, records: live, expected: live, entries: live, missing: 0, stale: 0 });
    await db.close();
  });

  test("a record changed behind the indexes' back: stale and missing entries named with their keys", async () => {
    const db = await indexedDb();
    const engine = engineOf(db);
    // Internal writes skip index maintenance: the record moves from c1/age 1 to c9/age 99, and user:2 vanishes.
    await engine.write([
      { kind: KIND_PUT, key: utf8("user:1"), value: utf8(JSON.stringify({ city: "c9", age: 99 })), internal: true },
      { kind: KIND_DELETE, key: utf8("user:2"), value: new Uint8Array(0), internal: true },
    ]);
    const r = await db.check({ files: false });
    expect(r.ok).toBe(false);
    expect(r.files).toBeNull();
    expect(r.indexes.map((i) => [i.name, i.missing, i.stale])).toEqual([
      ["users_city", 1, 2],
      ["users_age", 1, 2],
    ]);
    const lines = r.problems.map((p) => `${p.file} ${p.key}: ${p.message}`).sort();
    expect(lines).toEqual([
      'index:users_age user:1: record "user:1" yields value 99, which the index does not hold',
      'index:users_age user:1: value 1 lists record "user:1", which does not yield this value',
      'index:users_age user:2: value 2 lists record "user:2", which does not exist',
      'index:users_city user:1: record "user:1" yields value "c9", which the index does not hold',
      'index:users_city user:1: value "c1" lists record "user:1", which does not yield this value',
      'index:users_city user:2: value "c2" lists record "user:2", which does not exist',
    ]);
    count("index-missing-entry", 2);
    count("index-stale-entry", 4);
    await db.close();
  });

  test("a posting meta whose live count disagrees with its blocks, and an undecodable block", async () => {
    const db = await indexedDb();
    const engine = engineOf(db);
    const index = (db as unknown as { indexes: { readyIndexes(): Array<{ name: string; dataPrefix: Uint8Array }> } }).indexes.readyIndexes().find((i) => i.name === "users_city")!;
    const term = (v: string) => termPrefix(index.dataPrefix, encodeIndexValue(v));
    const view = engine.readView();
    const meta = view.get(metaKey(term("c3")))!.slice();
    view.release();
    meta[meta.length - 2] += 1; // live count + 1 (one varint byte while the count is small)
    await engine.write([
      { kind: KIND_PUT, key: metaKey(term("c3")), value: meta, internal: true },
      { kind: KIND_PUT, key: blockKey(term("c0"), 1), value: new Uint8Array([7, 1, 65]), internal: true },
    ]);
    const r = await db.check({ files: false });
    const messages = r.problems.map((p) => p.message);
    expect(messages).toContainEqual(expect.stringMatching(/^value "c3": the meta record counts \d+ live entries, the blocks hold \d+/));
    expect(messages).toContainEqual(expect.stringMatching(/^value "c0": bad posting block: unknown posting op 7/));
    count("posting-meta-count");
    count("posting-block");
    await db.close();
  });

  test("a building index is listed but not checked", async () => {
    const db = await openDatabase(tempDir());
    for (let i = 0; i < 5000; i++) await db.put(`user:${i}`, JSON.stringify({ city: `c${i % 4}` }));
    await db.reloadIndexes([cityIndex]);
    // The backfill takes several steps with event-loop turns between them: still building here.
    const r = await db.check({ files: false });
    expect(r).toMatchObject({ ok: true, problems: [] });
    expect(r.indexes).toEqual([{ name: "users_city", generation: 1, type: "equality", state: "building", checked: false, records: 0, expected: 0, entries: 0, missing: 0, stale: 0 }]);
    await db.waitForIndexes();
    expect((await db.check({ files: false })).indexes[0]).toMatchObject({ state: "ready", checked: true, records: 5000, entries: 5000 });
    await db.close();
  });
});
