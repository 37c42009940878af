/**
 * @module
 * Reading NDJSON (one JSON document per line) from a file or stdin as a stream: lines
 * are parsed as they arrive, so an import never holds the whole file in memory. Blank
 * lines are skipped; a line that is not JSON fails with its line number.
 */
import * as fs from "node:fs";
import { KvdbError } from "../engine/errors.ts";
import type { CliIO } from "./io.ts";

export interface Input {
  chunks: AsyncIterable<Uint8Array>;
  /** Size in bytes when reading a regular file (for the progress bar). */
  size?: number;
}

/** The input named on the command line: a file path, or "-" for stdin. */
export function openInput(name: string, io: CliIO): Input {
  if (name === "-") return { chunks: io.stdin() };
  let size: number;
  try {
    size = fs.statSync(name).size;
  } catch (e) {
    throw new KvdbError("INVALID_ARGUMENT", `cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { chunks: Bun.file(name).stream(), size };
}

export interface NdjsonLine {
  value: unknown;
  /** 1-based line number. */
  line: number;
  /** Bytes consumed so far, including this line. */
  bytes: number;
}

export async function* readNdjson(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<NdjsonLine> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  let line = 0;
  let bytes = 0;
  const parse = (text: string): NdjsonLine | undefined => {
    line++;
    if (text.trim() === "") return undefined;
    try {
      return { value: JSON.parse(text), line, bytes };
    } catch {
      throw new KvdbError("INVALID_ARGUMENT", `line ${line}: not valid JSON`);
    }
  };
  try {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      const text = decoder.decode(chunk, { stream: true });
      // A long line spans many chunks: only split once a line ends.
      if (!text.includes("\n")) {
        pending += text;
        continue;
      }
      const lines = (pending + text).split("\n");
      pending = lines.pop() ?? "";
      for (const text of lines) {
        const parsed = parse(text);
        if (parsed) yield parsed;
      }
    }
    pending += decoder.decode();
  } catch (e) {
    if (e instanceof TypeError) throw new KvdbError("INVALID_ARGUMENT", `line ${line + 1}: not valid UTF-8`);
    throw e;
  }
  const last = parse(pending);
  if (last) yield last;
}
