import { describe, expect, test } from "bun:test";
import { Engine, type EngineOp, type PrepareBatch } from "../../src/engine/engine.ts";
import { KIND_DELETE, KIND_PUT } from "../../src/engine/iterator.ts";
import { concatBytes, utf8 } from "../../src/engine/coding.ts";
import { tempDir } from "../support/tmpdir.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const put = (key: string, value: string): EngineOp => ({ kind: KIND_PUT, key: utf8(key), value: utf8(value) });

/** A prepare hook that keeps a running log of every key written, appended through merge operands. */
const appendLog: PrepareBatch = (ops, reader) => {
  const logKey = utf8("log");
  const operand = utf8(ops.map((o) => new TextDecoder().decode(o.key) + ";").join(""));
  const current = reader.get(logKey) ?? new Uint8Array(0);
  return [...ops, { kind: KIND_PUT, key: logKey, value: concatBytes([current, operand]), operand, replaceable: true, internal: true }];
};

describe("engine hooks for higher layers", () => {
  test("prepareBatch sees earlier batches of the same commit group, and merges replay from the WAL", async () => {
    const dir = tempDir();
    let engine = await Engine.open(dir, { prepareBatch: appendLog, sync: "always" });
    // Concurrent writers land in one group: each prepare must see the previous one's log.
    await Promise.all(Array.from({ length: 50 }, (_, i) => engine.write([put(`k${i}`, "v")])));
    const expected = Array.from({ length: 50 }, (_, i) => `k${i};`).join("");
    expect(text(engine.get(utf8("log")))).toBe(expected);
    // Internal ops are not counted as user writes.
    expect(engine.counters.puts).toBe(50);
    await engine.close(); // no flush: the log is rebuilt from merge operands in the WAL
    engine = await Engine.open(dir, { prepareBatch: appendLog });
    expect(text(engine.get(utf8("log")))).toBe(expected);
    await engine.write([put("after", "v")]);
    expect(text(engine.get(utf8("log")))).toBe(expected + "after;");
    await engine.close();
  });

  test("merge operands replay on top of a value already in a table", async () => {
    const dir = tempDir();
    let engine = await Engine.open(dir, { prepareBatch: appendLog });
    await engine.write([put("a", "1")]);
    await engine.flush();
    await engine.write([put("b", "1")]);
    await engine.close();
    engine = await Engine.open(dir);
    expect(text(engine.get(utf8("log")))).toBe("a;b;");
    await engine.close();
  });

  test("a throwing prepareBatch rejects only its own batch", async () => {
    const engine = await Engine.open(tempDir(), {
      prepareBatch: (ops) => {
        if (text(ops[0].value) === "bad") throw new Error("rejected by the hook");
        return ops;
      },
    });
    const results = await Promise.allSettled([engine.write([put("x", "ok")]), engine.write([put("y", "bad")]), engine.write([put("z", "ok")])]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(text(engine.get(utf8("x")))).toBe("ok");
    expect(engine.get(utf8("y"))).toBeUndefined();
    await engine.write([put("w", "still writable")]);
    await engine.close();
  });

  test("replaceable values are overwritten in place only when no open scan can see them", async () => {
    const engine = await Engine.open(tempDir(), { sync: "none" });
    const key = utf8("block");
    const write = (v: string) => engine.write([{ kind: KIND_PUT, key, value: utf8(v.repeat(1000)), replaceable: true }]);
    await write("a");
    const before = engine.snapshotState().activeBytes;
    for (const v of "bcdefgh") await write(v);
    // Replaced in place: the MemTable did not grow by seven copies.
    expect(engine.snapshotState().activeBytes).toBe(before);
    const view = engine.readView();
    await write("i");
    await write("j");
    expect(text(view.get(key))).toBe("h".repeat(1000));
    const it = view.iterator();
    it.seekToFirst();
    expect(text(it.value())).toBe("h".repeat(1000));
    view.release();
    expect(text(engine.get(key))).toBe("j".repeat(1000));
    await engine.write([{ kind: KIND_DELETE, key, value: new Uint8Array(0), replaceable: true }]);
    expect(engine.get(key)).toBeUndefined();
    await engine.close();
  });
});
