import { afterAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock, readLockHolder } from "../../src/engine/lock.ts";

const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
afterAll(() => nodeFs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
function freshDir(): string {
  const d = path.join(root, `db${++counter}`);
  nodeFs.mkdirSync(d);
  return d;
}

function lockedError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect((e as { code?: string }).code).toBe("LOCKED");
    return e as Error;
  }
  throw new Error("expected LOCKED");
}

/** Starts a process that holds the lock on `dir` until killed; resolves once it holds it. */
async function childHoldingLock(dir: string) {
  const modulePath = path.resolve(import.meta.dir, "../../src/engine/lock.ts");
  const code = `
    const { acquireLock } = await import(${JSON.stringify(modulePath)});
    acquireLock(${JSON.stringify(dir)});
    console.log("locked");
    setInterval(() => {}, 1000);
  `;
  const child = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child exited before locking: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return child;
}

describe("directory lock", () => {
  test("a second acquire in the same process throws LOCKED naming the directory, until released", () => {
    const dir = freshDir();
    const lock = acquireLock(dir);
    expect(nodeFs.readFileSync(path.join(dir, "LOCK"), "utf8")).toBe(`${process.pid}\n`);
    expect(lockedError(() => acquireLock(dir)).message).toContain(dir);
    // Another spelling of the same directory is the same directory.
    expect(lockedError(() => acquireLock(`${dir}/./`)).message).toContain(`pid ${process.pid}`);
    expect(readLockHolder(dir)).toBe(process.pid);
    lock.release();
    lock.release();
    expect(lock.held).toBe(false);
    expect(readLockHolder(dir)).toBeUndefined();
    acquireLock(dir).release();
  });

  test("an unlocked directory has no holder, even with a pid left in LOCK", () => {
    const dir = freshDir();
    expect(readLockHolder(dir)).toBeUndefined();
    nodeFs.writeFileSync(path.join(dir, "LOCK"), "999999\n");
    expect(readLockHolder(dir)).toBeUndefined();
  });

  test("a missing directory is an IO_ERROR, not a lock", () => {
    expect(() => acquireLock(path.join(root, "missing"))).toThrow(expect.objectContaining({ code: "IO_ERROR" }));
  });

  test("another process holding the lock makes acquire fail with its pid; after kill -9 acquire succeeds", async () => {
    const dir = freshDir();
    const child = await childHoldingLock(dir);
    try {
      const e = lockedError(() => acquireLock(dir));
      expect(e.message).toBe(`${dir} is locked by another kvdb process (pid ${child.pid})`);
      expect(readLockHolder(dir)).toBe(child.pid);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
    expect(child.signalCode).toBe("SIGKILL");
    expect(readLockHolder(dir)).toBeUndefined();
    const lock = acquireLock(dir);
    expect(nodeFs.readFileSync(path.join(dir, "LOCK"), "utf8")).toBe(`${process.pid}\n`);
    lock.release();
  });
});
