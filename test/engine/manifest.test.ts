import { afterAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compareBytes, concatBytes, utf8 } from "../../src/engine/coding.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { type FileSystem, NodeFileSystem, type WritableFile } from "../../src/engine/fs.ts";
import { encodeRecord } from "../../src/engine/log_format.ts";
import {
  applyEdit,
  decodeEdit,
  emptyManifestState,
  encodeEdit,
  type FileMeta,
  type ManifestState,
  ManifestWriter,
  readCurrent,
  readManifest,
  type VersionEdit,
} from "../../src/engine/manifest.ts";
import { NUM_LEVELS } from "../../src/engine/version.ts";
import { mulberry32, testSeed } from "../support/random.ts";

const SEED = testSeed("manifest.test.ts");

const fs = new NodeFileSystem();
const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
afterAll(() => nodeFs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
function freshDir(): string {
  const d = path.join(root, `db${++counter}`);
  nodeFs.mkdirSync(d);
  return d;
}

function meta(level: number, number: number, smallest: string, largest: string, maxSeq = number * 10): FileMeta {
  return { level, number, size: 1000 + number, smallest: utf8(smallest), largest: utf8(largest), entries: 5, minSeq: Math.max(0, maxSeq - 4), maxSeq };
}

/** A state with files in L0 and L1 and a compact pointer. */
function sampleState(): ManifestState {
  return applyEdit(emptyManifestState(), {
    logNumber: 4,
    nextFileNumber: 10,
    lastSequence: 77,
    addedFiles: [meta(0, 5, "a", "m"), meta(0, 6, "c", "z"), meta(1, 2, "n", "p"), meta(1, 3, "a", "f")],
    compactPointers: [{ level: 1, key: utf8("f") }],
  });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** A FileSystem whose writable files' sync rejects while `failSync` is set. */
class FaultyFs extends NodeFileSystem {
  failSync = false;
  syncs = 0;
  override openWritable(p: string, options?: { truncate?: boolean }): WritableFile {
    const file = super.openWritable(p, options);
    const faults = this;
    return {
      path: p,
      get size() {
        return file.size;
      },
      append: (data: Uint8Array) => file.append(data),
      async sync() {
        faults.syncs++;
        if (faults.failSync) throw new Error("injected EIO");
        await file.sync();
      },
      close: () => file.close(),
    };
  }
}

describe("applyEdit", () => {
  test("orders L0 newest first and deeper levels by smallest key, without changing its input", () => {
    const before = emptyManifestState();
    const s = sampleState();
    expect(before).toEqual(emptyManifestState());
    expect(s.levels.length).toBe(NUM_LEVELS);
    expect(s.levels[0].map((f) => f.number)).toEqual([6, 5]);
    expect(s.levels[1].map((f) => f.number)).toEqual([3, 2]);
    expect(s.compactPointers.get(1)).toEqual(utf8("f"));
    const after = applyEdit(s, { deletedFiles: [{ level: 0, number: 6 }], compactPointers: [{ level: 1, key: utf8("g") }] });
    expect(s.levels[0].map((f) => f.number)).toEqual([6, 5]);
    expect(s.compactPointers.get(1)).toEqual(utf8("f"));
    expect(after.levels[0].map((f) => f.number)).toEqual([5]);
    expect(after.compactPointers.get(1)).toEqual(utf8("g"));
  });

  test("a file can move levels in one edit (deletions apply first)", () => {
    const s = applyEdit(sampleState(), { deletedFiles: [{ level: 1, number: 2 }], addedFiles: [meta(2, 2, "n", "p")] });
    expect(s.levels[1].map((f) => f.number)).toEqual([3]);
    expect(s.levels[2].map((f) => f.number)).toEqual([2]);
  });

  test("rejects deleting an unknown file, a duplicate number, numbers not below nextFileNumber and bad values", () => {
    const s = sampleState();
    const invalid = (edit: VersionEdit, what: string | RegExp) =>
      expect(() => applyEdit(s, edit)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringMatching(what) }));
    invalid({ deletedFiles: [{ level: 1, number: 5 }] }, "deletes unknown file 5 at level 1");
    invalid({ deletedFiles: [{ level: 0, number: 5 }, { level: 0, number: 5 }] }, "deletes unknown file 5");
    invalid({ addedFiles: [meta(3, 5, "a", "b")] }, "adds file 5, which is already live");
    invalid({ addedFiles: [meta(3, 8, "a", "b"), meta(4, 8, "c", "d")] }, "adds file 8, which is already live");
    invalid({ addedFiles: [meta(3, 10, "a", "b")] }, "not below nextFileNumber 10");
    invalid({ addedFiles: [meta(NUM_LEVELS, 8, "a", "b")] }, "bad level");
    invalid({ addedFiles: [meta(1, 8, "z", "a")] }, "smallest > largest");
    invalid({ lastSequence: -1 }, "lastSequence");
    invalid({ logNumber: 1.5 }, "logNumber");
  });

  test("the same problems in a manifest file are CORRUPTION naming the file and offset", () => {
    const e = (() => {
      try {
        applyEdit(sampleState(), { deletedFiles: [{ level: 2, number: 5 }] }, { file: "MANIFEST-000009", offset: 123 });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(isKvdbError(e, "CORRUPTION")).toBe(true);
    expect(e?.message).toBe("MANIFEST-000009: bad version edit: deletes unknown file 5 at level 2 at offset 123");
  });
});

describe("edit payload", () => {
  test("round-trips through JSON with keys in base64", () => {
    const edit: VersionEdit = {
      logNumber: 3,
      nextFileNumber: 9,
      lastSequence: 2 ** 40,
      addedFiles: [{ ...meta(1, 7, "", "\u{1F511}"), smallest: new Uint8Array([0, 255]) }],
      deletedFiles: [{ level: 0, number: 4 }],
      compactPointers: [{ level: 2, key: new Uint8Array([1, 2, 3]) }],
    };
    const payload = encodeEdit(edit);
    expect(JSON.parse(new TextDecoder().decode(payload)).addedFiles[0].smallest).toBe("AP8=");
    expect(decodeEdit(payload, "M", 0)).toEqual(edit);
    expect(decodeEdit(encodeEdit({}), "M", 0)).toEqual({});
  });

  test("malformed payloads are CORRUPTION naming the file and offset", () => {
    const bad = (json: string, what: string) => {
      try {
        decodeEdit(utf8(json), "MANIFEST-000002", 40);
      } catch (e) {
        expect(isKvdbError(e, "CORRUPTION")).toBe(true);
        expect((e as Error).message).toBe(`MANIFEST-000002: bad version edit: ${what} at offset 40`);
        return;
      }
      throw new Error(`accepted ${json}`);
    };
    bad("{", "not UTF-8 JSON");
    bad("[]", "edit is not an object");
    bad('{"logNumber":"3"}', "logNumber is not a number");
    bad('{"futureField":1}', 'unknown field "futureField" in edit');
    bad('{"deletedFiles":{}}', "deletedFiles is not an array");
    bad('{"compactPointers":[{"level":1,"key":"not base64!"}]}', "key is not base64");
    bad('{"addedFiles":[{"level":1,"number":2}]}', "size is not a number");
  });
});

describe("manifest on disk", () => {
  test("a new directory has no manifest", async () => {
    expect(await readManifest(fs, freshDir())).toBeUndefined();
  });

  test("create, apply edits, reopen: the same state", async () => {
    const dir = freshDir();
    const writer = await ManifestWriter.create(fs, dir, sampleState(), 8);
    expect(nodeFs.readFileSync(path.join(dir, "CURRENT"), "utf8")).toBe("MANIFEST-000008\n");
    expect(nodeFs.existsSync(path.join(dir, "CURRENT.tmp"))).toBe(false);
    expect(await readManifest(fs, dir)).toEqual(sampleState());
    const edits: VersionEdit[] = [
      { nextFileNumber: 12, addedFiles: [meta(0, 10, "b", "c", 100)], lastSequence: 100 },
      { deletedFiles: [{ level: 0, number: 5 }, { level: 0, number: 6 }], addedFiles: [meta(1, 11, "p", "zz")], logNumber: 9 },
      { compactPointers: [{ level: 1, key: utf8("p") }, { level: 3, key: utf8("q") }] },
    ];
    let expected = sampleState();
    for (const edit of edits) {
      const before = writer.size;
      await writer.apply(edit);
      expect(writer.size).toBeGreaterThan(before);
      expected = applyEdit(expected, edit);
    }
    expect(writer.state).toEqual(expected);
    writer.close();
    expect(await readManifest(fs, dir)).toEqual(expected);
  });

  test("edits issued without waiting are written one at a time, in call order", async () => {
    const dir = freshDir();
    const writer = await ManifestWriter.create(fs, dir, sampleState(), 8);
    // Each edit depends on the previous one having been applied.
    await Promise.all([
      writer.apply({ addedFiles: [meta(2, 7, "a", "b")] }),
      writer.apply({ deletedFiles: [{ level: 2, number: 7 }] }),
      writer.apply({ addedFiles: [meta(3, 7, "a", "b")] }),
    ]);
    writer.close();
    const state = await readManifest(fs, dir);
    expect(state?.levels[2]).toEqual([]);
    expect(state?.levels[3].map((f) => f.number)).toEqual([7]);
  });

  test("an invalid edit is rejected without being written and without failing the writer", async () => {
    const dir = freshDir();
    const writer = await ManifestWriter.create(fs, dir, sampleState(), 8);
    const size = writer.size;
    const e = await rejection(writer.apply({ deletedFiles: [{ level: 4, number: 99 }] }));
    expect(isKvdbError(e, "INVALID_ARGUMENT")).toBe(true);
    expect(writer.size).toBe(size);
    await writer.apply({ lastSequence: 99 });
    writer.close();
    expect((await readManifest(fs, dir))?.lastSequence).toBe(99);
  });

  test("CURRENT switches to a new manifest holding one snapshot of the state", async () => {
    const dir = freshDir();
    const first = await ManifestWriter.create(fs, dir, sampleState(), 8);
    await first.apply({ addedFiles: [meta(2, 9, "q", "r")] });
    const state = first.state;
    first.close();
    const second = await ManifestWriter.create(fs, dir, applyEdit(state, { nextFileNumber: 13 }), 12);
    expect(readCurrent(fs, dir)).toBe("MANIFEST-000012");
    expect(second.size).toBeLessThan(nodeFs.statSync(path.join(dir, "MANIFEST-000008")).size + 200);
    await second.apply({ deletedFiles: [{ level: 2, number: 9 }] });
    second.close();
    const reopened = await readManifest(fs, dir);
    expect(reopened).toEqual(applyEdit(state, { nextFileNumber: 13, deletedFiles: [{ level: 2, number: 9 }] }));
  });

  test("create refuses a file number that nextFileNumber could hand out again", async () => {
    const e = await rejection(ManifestWriter.create(fs, freshDir(), sampleState(), 10));
    expect(isKvdbError(e, "INVALID_ARGUMENT")).toBe(true);
  });

  test("a torn tail is tolerated and truncated", async () => {
    const dir = freshDir();
    const writer = await ManifestWriter.create(fs, dir, sampleState(), 8);
    await writer.apply({ lastSequence: 80 });
    const good = writer.size;
    await writer.apply({ lastSequence: 90 });
    writer.close();
    const file = path.join(dir, "MANIFEST-000008");
    for (const cut of [good + 1, good + 8, writer.size - 1]) {
      nodeFs.truncateSync(file, cut);
      expect((await readManifest(fs, dir))?.lastSequence).toBe(80);
      expect(nodeFs.statSync(file).size).toBe(good);
      nodeFs.appendFileSync(file, encodeRecord(encodeEdit({ lastSequence: 90 })));
    }
    nodeFs.appendFileSync(file, new Uint8Array(100));
    expect((await readManifest(fs, dir))?.lastSequence).toBe(90);
  });

  test("corruption before valid edits, a missing manifest or a bad CURRENT are CORRUPTION naming the file", async () => {
    const dir = freshDir();
    const writer = await ManifestWriter.create(fs, dir, sampleState(), 8);
    await writer.apply({ lastSequence: 80 });
    await writer.apply({ lastSequence: 90 });
    writer.close();
    const file = path.join(dir, "MANIFEST-000008");
    const clean = nodeFs.readFileSync(file);
    const damaged = new Uint8Array(clean);
    damaged[20] ^= 1;
    nodeFs.writeFileSync(file, damaged);
    let e = await rejection(readManifest(fs, dir));
    expect(isKvdbError(e, "CORRUPTION")).toBe(true);
    expect(e.message).toBe(`${file}: bad record at offset 0`);

    nodeFs.writeFileSync(file, concatBytes([clean, encodeRecord(encodeEdit({ deletedFiles: [{ level: 5, number: 1 }] }))]));
    e = await rejection(readManifest(fs, dir));
    expect(e.message).toBe(`${file}: bad version edit: deletes unknown file 1 at level 5 at offset ${clean.length}`);

    nodeFs.writeFileSync(file, new Uint8Array(0));
    e = await rejection(readManifest(fs, dir));
    expect(e.message).toBe(`${file}: manifest holds no version edit at offset 0`);

    nodeFs.rmSync(file);
    e = await rejection(readManifest(fs, dir));
    expect(isKvdbError(e, "CORRUPTION")).toBe(true);
    expect(e.message).toContain("MANIFEST-000008");

    nodeFs.writeFileSync(path.join(dir, "CURRENT"), "MANIFEST-000008");
    e = await rejection(readManifest(fs, dir));
    expect(isKvdbError(e, "CORRUPTION")).toBe(true);
    expect(e.message).toContain("CURRENT");
  });

  test("a failed sync is sticky: the edit and every later one fail, and nothing after it is trusted", async () => {
    const faulty = new FaultyFs();
    const dir = freshDir();
    const writer = await ManifestWriter.create(faulty, dir, sampleState(), 8);
    await writer.apply({ lastSequence: 80 });
    faulty.failSync = true;
    const failedEdit = writer.apply({ lastSequence: 90 });
    const queuedEdit = writer.apply({ lastSequence: 95 });
    expect((await rejection(failedEdit)).message).toBe("injected EIO");
    faulty.failSync = false; // the device "recovers", the manifest must not pretend
    const queued = await rejection(queuedEdit);
    expect(isKvdbError(queued, "IO_ERROR")).toBe(true);
    expect(queued.message).toMatch(/failed earlier \(injected EIO\); the database must be reopened/);
    const syncs = faulty.syncs;
    expect((await rejection(writer.apply({ lastSequence: 100 }))).message).toMatch(/must be reopened/);
    expect(faulty.syncs).toBe(syncs);
    expect(writer.failed).toBe(true);
    expect(writer.state.lastSequence).toBe(80);
    writer.close();
  });

  test("a failed sync while creating leaves CURRENT on the previous manifest", async () => {
    const faulty = new FaultyFs();
    const dir = freshDir();
    (await ManifestWriter.create(faulty, dir, sampleState(), 8)).close();
    faulty.failSync = true;
    await rejection(ManifestWriter.create(faulty, dir, applyEdit(sampleState(), { nextFileNumber: 20 }), 15));
    expect(readCurrent(fs, dir)).toBe("MANIFEST-000008");
    expect(await readManifest(fs, dir)).toEqual(sampleState());
  });

  test("random edits through the writer match a simple model after reopen", async () => {
    const rand = mulberry32(SEED);
    const dir = freshDir();
    let writer = await ManifestWriter.create(fs, dir, emptyManifestState(), 0);
    let manifestNumber = 0;
    const model = new Map<number, { level: number; smallest: string; largest: string }>();
    let next = 1;
    let lastSequence = 0;
    for (let round = 0; round < 60; round++) {
      const edit: VersionEdit = { addedFiles: [], deletedFiles: [] };
      const live = [...model.keys()];
      for (const n of live) {
        if (rand() < 0.2) {
          edit.deletedFiles!.push({ level: model.get(n)!.level, number: n });
          model.delete(n);
        }
      }
      const adds = Math.floor(rand() * 3);
      for (let i = 0; i < adds; i++) {
        const number = next++;
        const level = Math.floor(rand() * NUM_LEVELS);
        const a = String.fromCharCode(97 + Math.floor(rand() * 26));
        const b = String.fromCharCode(97 + Math.floor(rand() * 26));
        const [smallest, largest] = a < b ? [a, b] : [b, a];
        edit.addedFiles!.push(meta(level, number, smallest, largest, ++lastSequence));
        model.set(number, { level, smallest, largest });
      }
      edit.nextFileNumber = next;
      edit.lastSequence = lastSequence;
      if (rand() < 0.1) {
        // Rotate, as the engine does when the manifest grows.
        writer.close();
        manifestNumber = next++;
        writer = await ManifestWriter.create(fs, dir, applyEdit(writer.state, { nextFileNumber: next }), manifestNumber);
        edit.nextFileNumber = next;
      }
      await writer.apply(edit);
    }
    writer.close();
    expect(readCurrent(fs, dir)).toBe(`MANIFEST-${String(manifestNumber).padStart(6, "0")}`);
    const state = (await readManifest(fs, dir))!;
    expect(state.nextFileNumber).toBe(next);
    expect(state.lastSequence).toBe(lastSequence);
    const got = new Map(state.levels.flat().map((f) => [f.number, { level: f.level, smallest: new TextDecoder().decode(f.smallest), largest: new TextDecoder().decode(f.largest) }]));
    expect(got).toEqual(model);
    for (let level = 1; level < NUM_LEVELS; level++) {
      const files = state.levels[level];
      for (let i = 1; i < files.length; i++) expect(compareBytes(files[i - 1].smallest, files[i].smallest)).toBeLessThanOrEqual(0);
    }
    for (let i = 1; i < state.levels[0].length; i++) expect(state.levels[0][i - 1].maxSeq).toBeGreaterThan(state.levels[0][i].maxSeq);
  });
});
