import { expect, test } from "bun:test";
import { manifestFileName, parseFileName, tableFileName, tempFileName, walFileName } from "../../src/engine/filenames.ts";

test("file names are zero-padded to six digits and grow past them", () => {
  expect(walFileName(12)).toBe("000012.wal");
  expect(tableFileName(13)).toBe("000013.sst");
  expect(manifestFileName(14)).toBe("MANIFEST-000014");
  expect(walFileName(12345678)).toBe("12345678.wal");
  expect(tempFileName("CURRENT")).toBe("CURRENT.tmp");
});

test("parseFileName classifies kvdb's files and round-trips numbers", () => {
  expect(parseFileName(walFileName(12))).toEqual({ type: "wal", number: 12 });
  expect(parseFileName(tableFileName(12345678))).toEqual({ type: "table", number: 12345678 });
  expect(parseFileName(manifestFileName(0))).toEqual({ type: "manifest", number: 0 });
  expect(parseFileName("CURRENT")).toEqual({ type: "current" });
  expect(parseFileName("LOCK")).toEqual({ type: "lock" });
  expect(parseFileName("CURRENT.tmp")).toEqual({ type: "temp" });
  expect(parseFileName("000013.sst.tmp")).toEqual({ type: "temp", number: 13 });
});

test("files kvdb does not own are left unclassified", () => {
  for (const name of ["notes.tmp", ".tmp", "x.wal", "000012.wal.bak", "MANIFEST-", "manifest-000001", "000001.sst.tmp.tmp", "current", "99999999999999999999.sst"]) {
    expect(parseFileName(name)).toBeUndefined();
  }
});
