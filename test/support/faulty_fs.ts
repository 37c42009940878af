/**
 * @module
 * A FileSystem that injects faults (LevelDB's fault_injection_test): failing fsyncs,
 * ENOSPC on write, and short writes, switchable per path pattern while a test runs.
 */
import { NodeFileSystem, type FileSystem, type WritableFile } from "../../src/engine/fs.ts";

export interface Faults {
  /** Paths matching this fail their next and later syncs. */
  failSync?: RegExp;
  /** Paths matching this fail appends with ENOSPC before writing anything. */
  failWrite?: RegExp;
  /** Paths matching this write only half of an append, then fail. */
  shortWrite?: RegExp;
  /** Directory syncs fail. */
  failDirSync?: boolean;
}

function enospc(path: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: "ENOSPC" });
}

export class FaultyFileSystem extends NodeFileSystem {
  faults: Faults = {};
  injected = { sync: 0, write: 0, short: 0, dirSync: 0 };

  override openWritable(path: string, options?: { truncate?: boolean }): WritableFile {
    const inner = super.openWritable(path, options);
    const fs = this;
    return {
      path,
      get size() {
        return inner.size;
      },
      append(data: Uint8Array) {
        if (fs.faults.failWrite?.test(path)) {
          fs.injected.write++;
          throw enospc(path);
        }
        if (fs.faults.shortWrite?.test(path) && data.length > 1) {
          fs.injected.short++;
          inner.append(data.subarray(0, data.length >> 1));
          throw enospc(path);
        }
        inner.append(data);
      },
      async sync() {
        if (fs.faults.failSync?.test(path)) {
          fs.injected.sync++;
          throw Object.assign(new Error(`EIO: i/o error, fdatasync '${path}'`), { code: "EIO" });
        }
        await inner.sync();
      },
      close: () => inner.close(),
    };
  }

  override async syncDir(dir: string): Promise<void> {
    if (this.faults.failDirSync) {
      this.injected.dirSync++;
      throw Object.assign(new Error(`EIO: i/o error, fsync '${dir}'`), { code: "EIO" });
    }
    await super.syncDir(dir);
  }
}

export const asFileSystem = (f: FaultyFileSystem): FileSystem => f;
