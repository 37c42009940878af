import { expect, test } from "bun:test";
import { integerFlag, parseCommandArgs, UsageError } from "../../src/cli/args.ts";

const options = { limit: { type: "string" as const, description: "n" }, host: { type: "string" as const, env: "KVDB_HOST", description: "h" } };

test("common flags, command flags and positionals are separated; env supplies defaults; flags win over env", () => {
  const p = parseCommandArgs("scan", ["pos", "--limit", "5", "--json", "-v", "--data-dir", "/d"], options, { KVDB_HOST: "h1", KVDB_DATA_DIR: "/env" });
  expect(p.positionals).toEqual(["pos"]);
  expect(p.flags).toEqual({ limit: "5", host: "h1" });
  expect(p.common).toMatchObject({ dataDir: "/d", json: true, verbose: true, help: false });
  expect(parseCommandArgs("scan", [], options, { KVDB_DATA_DIR: "/env" }).common.dataDir).toBe("/env");
  expect(parseCommandArgs("scan", [], options, {}).common.dataDir).toBe("./data");
  expect(parseCommandArgs("scan", ["--host", "h2"], options, { KVDB_HOST: "h1" }).flags.host).toBe("h2");
  expect(parseCommandArgs("scan", [], options, { KVDB_AUTH_TOKEN: "tok" }).common.authToken).toBe("tok");
});

test("unknown flags and missing flag values are one-line usage errors", () => {
  for (const argv of [["--nope"], ["--limit"], ["-x"], ["--json=yes"]]) {
    let error: unknown;
    try {
      parseCommandArgs("scan", argv, options, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain("\n");
    expect((error as Error).message).toStartWith("scan: ");
  }
});

test("'-' and values after '--' are positionals", () => {
  expect(parseCommandArgs("set", ["k", "-"], {}, {}).positionals).toEqual(["k", "-"]);
  expect(parseCommandArgs("set", ["k", "--", "--not-a-flag"], {}, {}).positionals).toEqual(["k", "--not-a-flag"]);
});

test("integer flags", () => {
  expect(integerFlag("scan", "limit", "10")).toBe(10);
  expect(integerFlag("scan", "limit", undefined)).toBeUndefined();
  for (const bad of ["-1", "1.5", "abc", "", "1e3"]) expect(() => integerFlag("scan", "limit", bad)).toThrow(UsageError);
  expect(() => integerFlag("serve", "max-body-bytes", "0", 1)).toThrow(UsageError);
});
