/**
 * @module
 * `kvdb set KEY VALUE` (VALUE `-` reads the value's bytes from stdin).
 */
import type { Command } from "../command.ts";
import type { CliIO } from "../io.ts";
import { writeJson } from "../output.ts";

/** All of stdin as bytes. */
export async function readAll(io: CliIO): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of io.stdin()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export const setCommand: Command = {
  name: "set",
  summary: "Set a key to a value",
  usage: "KEY VALUE|-",
  description: "VALUE is stored as its UTF-8 bytes; '-' stores the bytes read from stdin, unchanged. Returns once the write is durable.",
  args: { min: 2, max: 2 },
  async run({ args, common, io, store }) {
    const [key, text] = args;
    const value = text === "-" ? await readAll(io) : text;
    await (await store()).put(key, value);
    if (common.json) writeJson(io.stdout, { ok: true });
    return 0;
  },
};
