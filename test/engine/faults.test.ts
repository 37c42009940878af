import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { openDatabase, type Database } from "../../src/db.ts";
import { checkDataFiles } from "../../src/engine/check.ts";
import { Engine } from "../../src/engine/engine.ts";
import { ioError, isKvdbError } from "../../src/engine/errors.ts";
import { NodeFileSystem, type WritableFile } from "../../src/engine/fs.ts";
import { KIND_PUT } from "../../src/engine/iterator.ts";
import { seededRandom, testSeed } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the promise to reject");
}

/** Faults injected by kind over the whole file, printed at the end for docs/RELIABILITY.md. */
const injected = new Map<string, number>();
const tally = (kind: string, n: number) => {
  expect(n).toBeGreaterThan(0);
  injected.set(kind, (injected.get(kind) ?? 0) + n);
};
afterAll(() => {
  const total = [...injected.values()].reduce((a, b) => a + b, 0);
  console.log(`[faults] injected by kind: ${[...injected].map(([k, n]) => `${k}=${n}`).join(" ")} (total ${total})`);
});

type FaultOp = "create" | "write" | "short" | "sync" | "dirSync";

interface Rule {
  op: FaultOp;
  /** Paths (or, for dirSync, directories) the rule applies to. */
  match: RegExp;
  /** Let this many matching operations through first. */
  skip?: number;
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * Injects faults exactly as the real file system reports failures (IO_ERROR KvdbErrors
 * wrapping an errno), per operation and path pattern, and counts them: opens, appends
 * (failed or short), syncs and directory syncs, optionally after letting the first N
 * matches through.
 */
class InjectingFileSystem extends NodeFileSystem {
  rules: Rule[] = [];
  count = 0;

  private hit(op: FaultOp, path: string): boolean {
    const rule = this.rules.find((r) => r.op === op && r.match.test(path));
    if (!rule) return false;
    if (rule.skip && rule.skip > 0) {
      rule.skip--;
      return false;
    }
    this.count++;
    return true;
  }

  override openWritable(path: string, options?: { truncate?: boolean }): WritableFile {
    if (this.hit("create", path)) throw ioError("open", path, errno("EMFILE", "too many open files"));
    const inner = super.openWritable(path, options);
    const fs = this;
    return {
      path,
      get size() {
        return inner.size;
      },
      append(data: Uint8Array) {
        if (fs.hit("write", path)) throw ioError("write", path, errno("ENOSPC", "no space left on device"));
        if (data.length > 1 && fs.hit("short", path)) {
          inner.append(data.subarray(0, data.length >> 1));
          throw ioError("write", path, errno("ENOSPC", "no space left on device"));
        }
        inner.append(data);
      },
      async sync() {
        if (fs.hit("sync", path)) throw ioError("fdatasync", path, errno("EIO", "i/o error"));
        await inner.sync();
      },
      close: () => inner.close(),
    };
  }

  override async syncDir(dir: string): Promise<void> {
    if (this.hit("dirSync", dir)) throw ioError("fsync", dir, errno("EIO", "i/o error"));
    await super.syncDir(dir);
  }
}

const key = (i: number) => `key${String(i).padStart(5, "0")}`;

/** Acknowledged state: what must be there after any failure and reopen. */
class Model {
  readonly values = new Map<string, string | undefined>();

  async put(db: Database, k: string, v: string): Promise<void> {
    await db.put(k, v);
    this.values.set(k, v);
  }

  async del(db: Database, k: string): Promise<void> {
    await db.delete(k);
    this.values.set(k, undefined);
  }

  /** Puts (and every 5th, a delete) until `to` or the first failure; returns the failure. */
  async fill(db: Database, from: number, to: number, tag: string): Promise<unknown> {
    for (let i = from; i < to; i++) {
      try {
        if (i % 5 === 4) await this.del(db, key(i - 3));
        else await this.put(db, key(i), `${tag}-${i}-${"x".repeat(60)}`);
      } catch (e) {
        return e;
      }
    }
    return undefined;
  }

  async expectIn(db: Database): Promise<void> {
    for (const [k, v] of this.values) expect([k, text(await db.get(k))]).toEqual([k, v]);
  }
}

/** Reopens `dir` without faults: nothing acknowledged is lost, and the reopened directory is clean (no orphans, no damage). */
async function expectRecovered(dir: string, model: Model): Promise<void> {
  const db = await openDatabase(dir);
  await model.expectIn(db);
  await db.close();
  const report = await checkDataFiles(dir);
  expect(report.problems).toEqual([]);
  const tables = readdirSync(dir).filter((n) => n.endsWith(".sst"));
  expect(tables.length).toBe(report.figures.tables);
}

/** `tables` flushed level-0 tables, so a compaction has work (at 4 one starts by itself, when `autoCompact`). */
async function withLevel0Tables(options: { autoCompact: boolean; tables: number }) {
  const dir = tempDir();
  const fs = new InjectingFileSystem();
  const db = await openDatabase(dir, { fs, sync: "always", autoCompact: options.autoCompact });
  const model = new Model();
  for (let t = 0; t < options.tables; t++) {
    expect(await model.fill(db, t * 100, t * 100 + 100, `t${t}`)).toBeUndefined();
    await db.flush();
  }
  return { dir, fs, db, model };
}

describe("fault injection through the file-system layer", () => {
  for (const [name, kind, op] of [
    ["failing fdatasync", "wal-fdatasync", "sync"],
    ["ENOSPC on append", "wal-enospc", "write"],
    ["short write", "wal-short-write", "short"],
  ] as const) {
    test(`WAL ${name}: the write is not acknowledged, later writes fail, reads work, nothing acknowledged is lost`, async () => {
      const dir = tempDir();
      const fs = new InjectingFileSystem();
      const db = await openDatabase(dir, { fs, sync: "always" });
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, `v${i}`);
      fs.rules = [{ op, match: /\.wal$/ }];
      const err = await rejection(db.put("doomed", "x"));
      expect(isKvdbError(err, "IO_ERROR")).toBe(true);
      fs.rules = [];
      // Sticky: the WAL's state is unknown after a failure, so nothing more is acknowledged.
      const later = await rejection(db.put("later", "y"));
      expect(isKvdbError(later, "IO_ERROR")).toBe(true);
      expect(text(await db.get("k3"))).toBe("v3");
      expect(await db.get("later")).toBeUndefined();
      await db.close();
      tally(kind, fs.count);

      const reopened = await openDatabase(dir);
      for (let i = 0; i < 20; i++) expect(text(await reopened.get(`k${i}`))).toBe(`v${i}`);
      expect(await reopened.get("later")).toBeUndefined();
      await reopened.close();
    });
  }

  test("a failing flush stops writes with a clear error; reopen recovers everything acknowledged from the WAL", async () => {
    const dir = tempDir();
    const fs = new InjectingFileSystem();
    const db = await openDatabase(dir, { fs, sync: "always", memtableBytes: 4096 });
    fs.rules = [{ op: "sync", match: /\.sst$/ }];
    const acked: string[] = [];
    let failure: unknown;
    for (let i = 0; i < 400 && !failure; i++) {
      try {
        await db.put(`key${String(i).padStart(4, "0")}`, "x".repeat(100));
        acked.push(`key${String(i).padStart(4, "0")}`);
      } catch (e) {
        failure = e;
      }
    }
    expect(fs.count).toBeGreaterThan(0);
    tally("sst-fdatasync-flush", fs.count);
    expect(isKvdbError(failure, "IO_ERROR")).toBe(true);
    expect((failure as Error).message).toContain("flush failed");
    expect(text(await db.get(acked[0]))).toBe("x".repeat(100));
    await db.close();

    const reopened = await openDatabase(dir);
    for (const k of acked) expect(text(await reopened.get(k))).toBe("x".repeat(100));
    await reopened.close();
  });

  test("creating the next WAL fails at a MemTable switch: that write is refused, reads work, reopen loses nothing", async () => {
    const dir = tempDir();
    const fs = new InjectingFileSystem();
    const db = await openDatabase(dir, { fs, sync: "always", memtableBytes: 8192 });
    const model = new Model();
    fs.rules = [{ op: "create", match: /\.wal$/ }];
    const failure = await model.fill(db, 0, 1000, "a");
    expect(isKvdbError(failure, "IO_ERROR")).toBe(true);
    expect((failure as Error).message).toMatch(/could not start a new WAL: open .*\.wal failed: EMFILE/);
    expect(isKvdbError(await rejection(db.put("after", "x")), "IO_ERROR")).toBe(true);
    fs.rules = [];
    await model.expectIn(db);
    await db.close();
    tally("wal-create", fs.count);
    await expectRecovered(dir, model);
  });
});

describe("faults during compaction: the compaction fails cleanly, its inputs stay the live data", () => {
  for (const [op, kind, message] of [
    ["sync", "sst-fdatasync-compaction", /fdatasync .*\.sst failed: EIO/],
    ["write", "sst-enospc-compaction", /write .*\.sst failed: ENOSPC/],
    ["short", "sst-short-write-compaction", /write .*\.sst failed: ENOSPC/],
  ] as const) {
    test(`manual compaction, output ${op} fails: IO_ERROR, reads and writes go on, reopen loses nothing, no orphans`, async () => {
      const { dir, fs, db, model } = await withLevel0Tables({ autoCompact: false, tables: 4 });
      fs.rules = [{ op, match: /\.sst$/ }];
      const err = await rejection(db.compact());
      expect(isKvdbError(err, "IO_ERROR")).toBe(true);
      expect((err as Error).message).toMatch(message);
      fs.rules = [];
      // The failed outputs are gone; the inputs still answer.
      await model.expectIn(db);
      expect(await model.fill(db, 400, 450, "after")).toBeUndefined();
      await db.compact();
      await model.expectIn(db);
      await db.close();
      tally(kind, fs.count);
      await expectRecovered(dir, model);
    });
  }

  test("a background compaction whose output sync fails: later writes get a clear IO_ERROR, reads work, reopen loses nothing", async () => {
    const { dir, fs, db, model } = await withLevel0Tables({ autoCompact: true, tables: 3 });
    // The fourth flush's table syncs; the compaction it triggers (4 level-0 tables) does not.
    fs.rules = [{ op: "sync", match: /\.sst$/, skip: 1 }];
    expect(await model.fill(db, 300, 400, "t3")).toBeUndefined();
    await db.flush();
    const failure = await model.fill(db, 400, 100_000, "late");
    expect(isKvdbError(failure, "IO_ERROR")).toBe(true);
    expect((failure as Error).message).toMatch(/^compaction failed; the database must be reopened: fdatasync .*\.sst failed: EIO/);
    fs.rules = [];
    await model.expectIn(db);
    await db.close();
    tally("sst-fdatasync-compaction", fs.count);
    await expectRecovered(dir, model);
  });
});

describe("faults while making the manifest or the directory durable", () => {
  for (const [op, kind] of [
    ["sync", "manifest-fdatasync-flush"],
    ["write", "manifest-enospc-flush"],
    ["short", "manifest-short-write-flush"],
  ] as const) {
    test(`manifest ${op} fails during a flush: the flush and later writes fail with IO_ERROR, reads work, reopen loses nothing`, async () => {
      const dir = tempDir();
      const fs = new InjectingFileSystem();
      const db = await openDatabase(dir, { fs, sync: "always" });
      const model = new Model();
      expect(await model.fill(db, 0, 200, "a")).toBeUndefined();
      fs.rules = [{ op, match: /MANIFEST-\d+$/ }];
      const err = await rejection(db.flush());
      expect(isKvdbError(err, "IO_ERROR")).toBe(true);
      expect((err as Error).message).toMatch(/^flush failed; the database must be reopened: (fdatasync|write) .*MANIFEST-\d+ failed/);
      fs.rules = [];
      const later = await rejection(db.put("later", "x"));
      expect(isKvdbError(later, "IO_ERROR")).toBe(true);
      await model.expectIn(db);
      await db.close();
      tally(kind, fs.count);
      await expectRecovered(dir, model);
    });
  }

  for (const op of ["sync", "write"] as const) {
    test(`manifest ${op} fails during a compaction: IO_ERROR, acknowledged writes survive the next flush's failure and reopen`, async () => {
      const { dir, fs, db, model } = await withLevel0Tables({ autoCompact: false, tables: 4 });
      fs.rules = [{ op, match: /MANIFEST-\d+$/ }];
      const err = await rejection(db.compact());
      expect(isKvdbError(err, "IO_ERROR")).toBe(true);
      expect((err as Error).message).toMatch(/MANIFEST-\d+ failed/);
      fs.rules = [];
      await model.expectIn(db);
      // The WAL still takes writes; the manifest is failed, so the next flush is refused.
      expect(await model.fill(db, 400, 420, "after")).toBeUndefined();
      const flush = await rejection(db.flush());
      expect(isKvdbError(flush, "IO_ERROR")).toBe(true);
      await model.expectIn(db);
      await db.close();
      tally(`manifest-${op === "sync" ? "fdatasync" : "enospc"}-compaction`, fs.count);
      await expectRecovered(dir, model);
    });
  }

  test("directory fsync fails after a flush writes its table: IO_ERROR, reads work, reopen loses nothing", async () => {
    const dir = tempDir();
    const fs = new InjectingFileSystem();
    const db = await openDatabase(dir, { fs, sync: "always" });
    const model = new Model();
    expect(await model.fill(db, 0, 200, "a")).toBeUndefined();
    fs.rules = [{ op: "dirSync", match: /./ }];
    const err = await rejection(db.flush());
    expect((err as Error).message).toMatch(/^flush failed; the database must be reopened: fsync .* failed: EIO/);
    expect(isKvdbError(await rejection(db.put("later", "x")), "IO_ERROR")).toBe(true);
    fs.rules = [];
    await model.expectIn(db);
    await db.close();
    tally("dir-fsync-flush", fs.count);
    await expectRecovered(dir, model);
  });

  test("directory fsync fails after a compaction writes its outputs: IO_ERROR, reopen loses nothing, no orphans", async () => {
    const { dir, fs, db, model } = await withLevel0Tables({ autoCompact: false, tables: 4 });
    fs.rules = [{ op: "dirSync", match: /./ }];
    const err = await rejection(db.compact());
    expect(isKvdbError(err, "IO_ERROR")).toBe(true);
    expect((err as Error).message).toMatch(/fsync .* failed: EIO/);
    fs.rules = [];
    await model.expectIn(db);
    await db.close();
    tally("dir-fsync-compaction", fs.count);
    await expectRecovered(dir, model);
  });

  test("directory fsync fails during open: the open fails cleanly and a later open recovers everything", async () => {
    const dir = tempDir();
    const model = new Model();
    const db = await openDatabase(dir);
    expect(await model.fill(db, 0, 100, "a")).toBeUndefined();
    await db.close();
    const fs = new InjectingFileSystem();
    fs.rules = [{ op: "dirSync", match: /./ }];
    const err = await rejection(openDatabase(dir, { fs }));
    expect(isKvdbError(err, "IO_ERROR")).toBe(true);
    tally("dir-fsync-open", fs.count);
    await expectRecovered(dir, model);
  });

  test("CURRENT cannot be replaced while the manifest rotates: the flush fails, CURRENT still names a whole manifest, nothing is lost", async () => {
    const dir = tempDir();
    const fs = new InjectingFileSystem();
    // A tiny manifest limit: the next edit starts a new manifest and repoints CURRENT.
    const engine = await Engine.open(dir, { fs, maxManifestBytes: 1, autoCompact: false });
    const enc = new TextEncoder();
    const model = new Model();
    for (let i = 0; i < 50; i++) {
      await engine.write([{ kind: KIND_PUT, key: enc.encode(key(i)), value: enc.encode(`v${i}`) }]);
      model.values.set(key(i), `v${i}`);
    }
    await engine.flush();
    for (let i = 50; i < 100; i++) {
      await engine.write([{ kind: KIND_PUT, key: enc.encode(key(i)), value: enc.encode(`v${i}`) }]);
      model.values.set(key(i), `v${i}`);
    }
    fs.rules = [{ op: "sync", match: /CURRENT\.tmp$/ }];
    const err = await rejection(engine.flush());
    expect(isKvdbError(err, "IO_ERROR")).toBe(true);
    expect((err as Error).message).toMatch(/fdatasync .*CURRENT\.tmp failed: EIO/);
    expect(text(engine.get(enc.encode(key(70))))).toBe("v70");
    await engine.close();
    tally("current-fdatasync-rotation", fs.count);
    await expectRecovered(dir, model);
  });
});

describe("a seeded random fault schedule against a model", () => {
  const TARGETS = { wal: /\.wal$/, sst: /\.sst$/, manifest: /MANIFEST-\d+$/, current: /CURRENT\.tmp$/, dir: /./ } as const;
  const PLANS: Array<[FaultOp, keyof typeof TARGETS]> = [
    ["sync", "wal"], ["write", "wal"], ["short", "wal"], ["create", "wal"],
    ["sync", "sst"], ["write", "sst"], ["short", "sst"], ["create", "sst"],
    ["sync", "manifest"], ["write", "manifest"], ["short", "manifest"],
    ["dirSync", "dir"],
  ];
  const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 24);

  test(`${ROUNDS} rounds: a random fault at a random moment of a write/flush/compact workload; acknowledged writes survive, the reopened directory is clean`, async () => {
    const seed = testSeed("faults");
    const rnd = seededRandom(seed);
    for (let round = 0; round < ROUNDS; round++) {
      const [op, target] = PLANS[round % PLANS.length];
      const dir = tempDir();
      const fs = new InjectingFileSystem();
      const db = await openDatabase(dir, { fs, sync: "always", memtableBytes: 4096 + rnd.int(8192) });
      const acked = new Map<string, string | undefined>();
      /** Keys whose last write failed: either their acknowledged value or the failed one. */
      const uncertain = new Map<string, Array<string | undefined>>();
      let failure: unknown;
      const armAt = rnd.int(300);
      for (let i = 0; i < 900 && !failure; i++) {
        if (i === armAt) fs.rules = [{ op, match: TARGETS[target], skip: rnd.int(3) }];
        const k = key(rnd.int(250));
        const roll = rnd.int(100);
        try {
          if (roll < 2) await db.flush();
          else if (roll < 3) await db.compact();
          else if (roll < 20) {
            uncertain.set(k, [acked.get(k), undefined]);
            await db.delete(k);
            acked.set(k, undefined);
            uncertain.delete(k);
          } else {
            const v = `r${round}-${i}-${"y".repeat(rnd.int(200))}`;
            uncertain.set(k, [acked.get(k), v]);
            await db.put(k, v);
            acked.set(k, v);
            uncertain.delete(k);
          }
        } catch (e) {
          failure = e;
        }
      }
      const where = `round ${round} (${op} ${target}, seed ${seed})`;
      if (failure !== undefined) expect([where, isKvdbError(failure, "IO_ERROR")]).toEqual([where, true]);
      fs.rules = [];
      // Reads keep working after the failure.
      for (const [k, v] of acked) if (!uncertain.has(k)) expect([where, k, text(await db.get(k))]).toEqual([where, k, v]);
      await db.close();
      if (fs.count > 0) injected.set(`random:${op}-${target}`, (injected.get(`random:${op}-${target}`) ?? 0) + fs.count);

      const reopened = await openDatabase(dir);
      for (const [k, v] of acked) {
        const got = text(await reopened.get(k));
        if (uncertain.has(k)) expect([where, k, uncertain.get(k)!.includes(got)]).toEqual([where, k, true]);
        else expect([where, k, got]).toEqual([where, k, v]);
      }
      await reopened.close();
      expect([where, (await checkDataFiles(dir)).problems]).toEqual([where, []]);
    }
  }, Math.max(60_000, ROUNDS * 500));
});
