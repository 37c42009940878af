import { expect, test } from "bun:test";
import * as fs from "node:fs";
import { serve, tempDir } from "./binary.ts";

test("kill -9 during concurrent PUTs: after a restart every acknowledged write is present", async () => {
  const dir = tempDir();
  try {
    const server = await serve(dir);
    const acknowledged = new Map<string, string>();
    let killed = false;
    const writer = async (w: number) => {
      for (let n = 0; !killed; n++) {
        const key = `w${w}/${n}`;
        const value = `value ${w} ${n} ${"x".repeat(n % 50)}`;
        try {
          const res = await fetch(`${server.url}/kv/${encodeURIComponent(key)}`, { method: "PUT", body: value });
          if (res.status === 204) acknowledged.set(key, value);
          else throw new Error(`unexpected status ${res.status}`);
        } catch (e) {
          if (!killed) throw e;
          return;
        }
      }
    };
    const writers = Array.from({ length: 32 }, (_, w) => writer(w));
    while (acknowledged.size < 1500) await Bun.sleep(5);
    killed = true;
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    await Promise.all(writers);
    console.log(`acknowledged before kill -9: ${acknowledged.size}`);

    const restarted = await serve(dir);
    try {
      const missing: string[] = [];
      const entries = [...acknowledged];
      for (let i = 0; i < entries.length; i += 64) {
        await Promise.all(
          entries.slice(i, i + 64).map(async ([key, value]) => {
            const res = await fetch(`${restarted.url}/kv/${encodeURIComponent(key)}`);
            if (res.status !== 200 || (await res.text()) !== value) missing.push(key);
          }),
        );
      }
      expect(missing).toEqual([]);
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
