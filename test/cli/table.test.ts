import { expect, test } from "bun:test";
import { formatTable, truncate } from "../../src/cli/table.ts";

test("columns are padded to their widest cell, numbers right-aligned, control characters escaped", () => {
  const out = formatTable(["NAME", "N", "NOTE"], [["a", "5", "x\ny"], ["long-name", "123", ""]], { alignRight: [1] });
  expect(out).toBe("NAME         N  NOTE\na            5  x\\ny\nlong-name  123\n");
});

test("with a width, every row is cut to it with an ellipsis; maxCell caps the leading columns", () => {
  const rows = [["user:1", "v".repeat(100)], ["k".repeat(30), "short"]];
  const out = formatTable(["KEY", "VALUE"], rows, { width: 30, maxCell: 10 });
  const lines = out.trimEnd().split("\n");
  for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(30);
  expect(lines[1]).toBe(`user:1      ${"v".repeat(17)}…`);
  expect(lines[2]).toBe(`${"k".repeat(9)}…  short`);
});

test("truncate counts code points and never splits a surrogate pair", () => {
  expect(truncate("😀😀😀", 3)).toBe("😀😀😀");
  expect(truncate("😀😀😀😀", 3)).toBe("😀😀…");
  expect(truncate("abc", 1)).toBe("…");
  expect(truncate("abc", 0)).toBe("");
});
