import { expect, test } from "bun:test";
import { readNdjson } from "../../src/cli/ndjson.ts";

async function collect(chunks: (string | Uint8Array)[]) {
  const stream = new Blob(chunks).stream();
  const out = [];
  for await (const line of readNdjson(stream)) out.push(line);
  return out;
}

function split(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const parts = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.slice(i, i + size));
  return parts;
}

test("lines split across chunks (even inside a multi-byte character) parse whole; blank lines are skipped", async () => {
  const text = '{"key":"é✓😀","value":"1"}\n\n  \n{"key":"b"}\r\n{"key":"c"}';
  for (const size of [1, 2, 3, 7, 1000]) {
    const lines = await collect(split(text, size));
    expect(lines.map((l) => l.value)).toEqual([{ key: "é✓😀", value: "1" }, { key: "b" }, { key: "c" }]);
    expect(lines.map((l) => l.line)).toEqual([1, 4, 5]);
  }
});

test("a line that is not JSON fails with its line number", async () => {
  await expect(collect(['{"a":1}\n', "{oops\n"])).rejects.toThrow("line 2: not valid JSON");
  await expect(collect([new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])])).rejects.toThrow("not valid UTF-8");
});
