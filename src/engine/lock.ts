/**
 * @module
 * The directory lock: one process at a time may open a data directory. `<dir>/LOCK` is
 * held with `flock(LOCK_EX | LOCK_NB)` (libc through `bun:ffi`), which the kernel
 * releases when the process exits in any way, even `kill -9`, so a crash never leaves a
 * stale lock. The holder writes its pid followed by "\n" into LOCK so that others can
 * say who has it (and the CLI can find a running server); the pid is informational, the
 * flock is the lock.
 *
 * flock locks belong to an open file description, so a second open of the same
 * directory in the same process fails too; a module-level registry gives that case a
 * clear message. The lock is taken through node:fs directly (not the FileSystem layer):
 * it needs a raw file descriptor and is not data to fault-inject.
 */
import { dlopen, FFIType, read } from "bun:ffi";
import * as fs from "node:fs";
import * as path from "node:path";
import { ioError, KvdbError } from "./errors.ts";
import { LOCK_FILE } from "./filenames.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EINTR = 4;
const EWOULDBLOCK = 11;

function openLibc() {
  try {
    return dlopen("libc.so.6", {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    }).symbols;
  } catch (e) {
    throw ioError("load libc for", "flock", e);
  }
}

let libc: ReturnType<typeof openLibc> | undefined;

/** True if the lock was taken, false if someone else holds it; throws on any other error. */
function tryFlock(fd: number, op: number, lockPath: string): boolean {
  libc ??= openLibc();
  for (;;) {
    if (libc.flock(fd, op) === 0) return true;
    const errnoPtr = libc.__errno_location();
    const errno = errnoPtr === null ? -1 : read.i32(errnoPtr, 0);
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw ioError("flock", lockPath, new Error(`errno ${errno}`));
  }
}

/** Directories locked by this process, by canonical path. */
const held = new Set<string>();

function canonical(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

function readPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A held directory lock. */
export class DirLock {
  private fd: number;

  /** @internal Use {@link acquireLock}. */
  constructor(
    readonly dir: string,
    private readonly key: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  get held(): boolean {
    return this.fd >= 0;
  }

  /** Unlocks and closes; idempotent. */
  release(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    held.delete(this.key);
    // Closing the only descriptor releases the flock even if the explicit unlock failed.
    try {
      libc?.flock(fd, LOCK_UN);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Locks `dir` (which must exist) for this process, creating `<dir>/LOCK` if needed.
 * Throws LOCKED naming the directory and the holder's pid if it is already held, by
 * another process or by this one.
 */
export function acquireLock(dir: string): DirLock {
  const key = canonical(dir);
  if (held.has(key)) throw new KvdbError("LOCKED", `${dir} is already open in this process (pid ${process.pid})`);
  const lockPath = path.join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  } catch (e) {
    throw ioError("open", lockPath, e);
  }
  try {
    // Two short retries ride out readLockHolder's momentary probe from another process.
    let locked = tryFlock(fd, LOCK_EX | LOCK_NB, lockPath);
    for (let i = 0; !locked && i < 2; i++) {
      Bun.sleepSync(10);
      locked = tryFlock(fd, LOCK_EX | LOCK_NB, lockPath);
    }
    if (!locked) {
      const pid = readPid(lockPath);
      throw new KvdbError("LOCKED", `${dir} is locked by another kvdb process (pid ${pid ?? "unknown"})`);
    }
    try {
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${process.pid}\n`, 0);
    } catch (e) {
      throw ioError("write", lockPath, e);
    }
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  held.add(key);
  return new DirLock(dir, key, fd);
}

/**
 * The pid of the process holding the lock on `dir`, or undefined if nobody holds it
 * (the pid in a LOCK file left by an exited process is ignored).
 */
export function readLockHolder(dir: string): number | undefined {
  if (held.has(canonical(dir))) return process.pid;
  const lockPath = path.join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = fs.openSync(lockPath, fs.constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioError("open", lockPath, e);
  }
  try {
    // A shared probe: fails only while someone holds the exclusive lock.
    if (tryFlock(fd, LOCK_SH | LOCK_NB, lockPath)) {
      libc?.flock(fd, LOCK_UN);
      return undefined;
    }
    return readPid(lockPath);
  } finally {
    fs.closeSync(fd);
  }
}
