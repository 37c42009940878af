/**
 * @module
 * The file system behind an interface (LevelDB's `Env`): the engine touches disk only
 * through {@link FileSystem}, so tests can inject failing fsyncs, ENOSPC and short writes.
 *
 * Durability is explicit: `WritableFile.sync()` is an fdatasync on a descriptor the
 * engine owns, and `syncDir()` makes creations, renames and deletions durable.
 * `Bun.write(..., {flush})` and `FileSink` are not used because they do not guarantee
 * an fsync (see docs/DESIGN.md).
 */
import * as fs from "node:fs";
import { ioError } from "./errors.ts";

export interface WritableFile {
  readonly path: string;
  /** Bytes written so far (including any existing content when opened for append). */
  readonly size: number;
  /** Appends all of `data` or throws; a throw may leave a prefix of `data` written. */
  append(data: Uint8Array): void;
  /** fdatasync: resolves once everything appended so far is on stable storage. */
  sync(): Promise<void>;
  close(): void;
}

export interface FileSystem {
  mkdirp(dir: string): void;
  /** Names (not paths) of the entries in `dir`. */
  list(dir: string): string[];
  exists(path: string): boolean;
  size(path: string): number;
  readFile(path: string): Uint8Array;
  /** Read-only, private mapping of an immutable file (never written through). */
  map(path: string): Uint8Array;
  /** Opens for appending, creating the file if needed; `truncate` empties it first. */
  openWritable(path: string, options?: { truncate?: boolean }): WritableFile;
  truncate(path: string, size: number): Promise<void>;
  rename(from: string, to: string): void;
  /** A hard link `to` → `from` (a copy where the file system cannot link, e.g. across devices). */
  link(from: string, to: string): void;
  /** Writes a new file with `data` and fdatasyncs it. */
  writeDurable(path: string, data: Uint8Array): Promise<void>;
  remove(path: string): void;
  /** fsync of a directory, so that entries created, renamed or removed in it survive a crash. */
  syncDir(dir: string): Promise<void>;
}

function fsyncAsync(fd: number, data: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: NodeJS.ErrnoException | null) => (err ? reject(err) : resolve());
    if (data) fs.fdatasync(fd, done);
    else fs.fsync(fd, done);
  });
}

class NodeWritableFile implements WritableFile {
  private fd: number;
  size: number;

  constructor(
    readonly path: string,
    truncate: boolean,
  ) {
    try {
      this.fd = fs.openSync(path, truncate ? "w" : "a");
      this.size = fs.fstatSync(this.fd).size;
    } catch (e) {
      throw ioError("open", path, e);
    }
  }

  append(data: Uint8Array): void {
    let off = 0;
    try {
      while (off < data.length) {
        off += fs.writeSync(this.fd, data, off, data.length - off);
      }
    } catch (e) {
      throw ioError("write", this.path, e);
    } finally {
      this.size += off;
    }
  }

  async sync(): Promise<void> {
    try {
      await fsyncAsync(this.fd, true);
    } catch (e) {
      throw ioError("fdatasync", this.path, e);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.closeSync(fd);
    } catch (e) {
      throw ioError("close", this.path, e);
    }
  }
}

/** The real file system, through `node:fs` and `Bun.mmap`. */
export class NodeFileSystem implements FileSystem {
  mkdirp(dir: string): void {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw ioError("mkdir", dir, e);
    }
  }

  list(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch (e) {
      throw ioError("readdir", dir, e);
    }
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  size(path: string): number {
    try {
      return fs.statSync(path).size;
    } catch (e) {
      throw ioError("stat", path, e);
    }
  }

  readFile(path: string): Uint8Array {
    try {
      return new Uint8Array(fs.readFileSync(path));
    } catch (e) {
      throw ioError("read", path, e);
    }
  }

  map(path: string): Uint8Array {
    try {
      // Private mapping: Bun.mmap defaults to a shared, writable mapping, where a stray
      // write into a returned value would change the file on disk.
      return Bun.mmap(path, { shared: false });
    } catch (e) {
      throw ioError("mmap", path, e);
    }
  }

  openWritable(path: string, options?: { truncate?: boolean }): WritableFile {
    return new NodeWritableFile(path, options?.truncate ?? false);
  }

  async truncate(path: string, size: number): Promise<void> {
    let fd = -1;
    try {
      fd = fs.openSync(path, "r+");
      fs.ftruncateSync(fd, size);
      await fsyncAsync(fd, false);
    } catch (e) {
      throw ioError("truncate", path, e);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  rename(from: string, to: string): void {
    try {
      fs.renameSync(from, to);
    } catch (e) {
      throw ioError("rename", `${from} -> ${to}`, e);
    }
  }

  link(from: string, to: string): void {
    try {
      fs.linkSync(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EXDEV" && (e as NodeJS.ErrnoException).code !== "EPERM") throw ioError("link", `${from} -> ${to}`, e);
      try {
        fs.copyFileSync(from, to);
      } catch (copyError) {
        throw ioError("copy", `${from} -> ${to}`, copyError);
      }
    }
  }

  async writeDurable(path: string, data: Uint8Array): Promise<void> {
    const file = this.openWritable(path, { truncate: true });
    try {
      file.append(data);
      await file.sync();
    } finally {
      file.close();
    }
  }

  remove(path: string): void {
    try {
      fs.rmSync(path, { force: true });
    } catch (e) {
      throw ioError("remove", path, e);
    }
  }

  async syncDir(dir: string): Promise<void> {
    let fd = -1;
    try {
      fd = fs.openSync(dir, "r");
      await fsyncAsync(fd, false);
    } catch (e) {
      throw ioError("fsync", dir, e);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
}

export const defaultFileSystem: FileSystem = new NodeFileSystem();
