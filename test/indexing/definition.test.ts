import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { isKvdbError } from "../../src/engine/errors.ts";
import {
  definitionKey,
  type IndexDefinition,
  loadIndexesFile,
  parseIndexesToml,
  validateDefinitions,
} from "../../src/indexing/definition.ts";
import { tempDir } from "../support/tmpdir.ts";

const ROADMAP_EXAMPLE = `
# indexes.toml

[[index]]
name = "users_city"
scope_prefix = "user:"
type = "equality"
extractor = { kind = "json_path", path = "$.city" }

[[index]]
name = "users_age"
scope_prefix = "user:"
type = "range"
extractor = { kind = "json_path", path = "$.age" }
`;

const USERS_CITY: IndexDefinition = {
  name: "users_city",
  scope_prefix: "user:",
  type: "equality",
  extractor: { kind: "json_path", path: "$.city" },
};

/** The INVALID_ARGUMENT message `fn` throws. */
function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!isKvdbError(e, "INVALID_ARGUMENT")) throw e;
    return e.message;
  }
  throw new Error("expected an INVALID_ARGUMENT");
}

/** One `[[index]]` table with the given lines replacing the defaults (a null value removes the line). */
function table(overrides: Record<string, string | null> = {}): string {
  const lines: Record<string, string | null> = {
    name: `"users_city"`,
    scope_prefix: `"user:"`,
    type: `"equality"`,
    extractor: `{ kind = "json_path", path = "$.city" }`,
    ...overrides,
  };
  return "[[index]]\n" + Object.entries(lines).filter(([, v]) => v !== null).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n";
}

describe("parseIndexesToml", () => {
  test("the roadmap's example", () => {
    expect(parseIndexesToml(ROADMAP_EXAMPLE)).toEqual([
      USERS_CITY,
      { name: "users_age", scope_prefix: "user:", type: "range", extractor: { kind: "json_path", path: "$.age" } },
    ]);
  });

  test("the repository's indexes.toml", () => {
    const defs = loadIndexesFile(join(import.meta.dir, "../../indexes.toml"));
    expect(defs.map((d) => d.name)).toEqual(["users_city", "users_age"]);
  });

  test("an empty file (or only comments) declares no indexes", () => {
    expect(parseIndexesToml("")).toEqual([]);
    expect(parseIndexesToml("# nothing yet\n")).toEqual([]);
  });

  test("regex extractors: target defaults to value; flags kept when given", () => {
    const defs = parseIndexesToml(
      table({ name: `"by_id"`, extractor: `{ kind = "regex", pattern = '^user:(\\d+)$', target = "key" }` }) +
        table({ name: `"by_city"`, extractor: `{ kind = "regex", pattern = '"city":"([^"]*)"', flags = "i" }` }),
    );
    expect(defs[0].extractor).toEqual({ kind: "regex", pattern: "^user:(\\d+)$", target: "key" });
    expect(defs[1].extractor).toEqual({ kind: "regex", pattern: '"city":"([^"]*)"', target: "value", flags: "i" });
  });

  test("the extractor may be written as a sub-table", () => {
    const text = `[[index]]\nname = "a"\nscope_prefix = ""\ntype = "range"\n[index.extractor]\nkind = "json_path"\npath = "$.n"\n`;
    expect(parseIndexesToml(text)).toEqual([{ name: "a", scope_prefix: "", type: "range", extractor: { kind: "json_path", path: "$.n" } }]);
  });

  test("returned definitions are plain objects with only the known fields", () => {
    const [def] = parseIndexesToml(table());
    expect(Object.getPrototypeOf(def)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(def.extractor)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(def))).toEqual(USERS_CITY);
  });
});

describe("each problem gives its message, naming the file and the index", () => {
  const cases: [string, string, string[]][] = [
    ["TOML syntax error", `[[index]]\nname = "a"\nscope_prefix = \n`, ["indexes.toml: TOML syntax error at line 3", "column"]],
    ["TOML redefinition", `[[index]]\nname = "a"\nname = "b"\n`, ["indexes.toml: TOML syntax error at line 3"]],
    ["[index] instead of [[index]]", `[index]\nname = "a"\n`, ['indexes.toml: "index" must be an array of tables', "[[index]]"]],
    ["unknown top-level key", `version = 2\n` + table(), ['indexes.toml: unknown top-level key "version"']],
    ["index that is not a table", `index = [1]\n`, ["indexes.toml: index #1: expected a table, got an integer"]],
    ["missing name", table() + table({ name: null }), ['indexes.toml: index #2: missing field "name"']],
    ["name not a string", table({ name: "7" }), ['indexes.toml: index #1: "name" must be a string, got an integer']],
    ["empty name", table({ name: `""` }), ['indexes.toml: index #1: invalid name ""', "1 to 64 letters"]],
    ["name with a space", table({ name: `"users city"` }), ['index #1: invalid name "users city"']],
    ["name too long", table({ name: `"${"n".repeat(65)}"` }), ["index #1: invalid name"]],
    ["name \"..\" (unusable in a URL path)", table({ name: `".."` }), ['index #1: invalid name ".."', "not \".\" or \"..\""]],
    ["duplicate name", table() + table(), ['indexes.toml: index "users_city": duplicate name', "index #1 and index #2"]],
    ["missing scope_prefix", table({ scope_prefix: null }), ['indexes.toml: index "users_city": missing field "scope_prefix"']],
    ["missing type", table({ type: null }), ['index "users_city": missing field "type"']],
    ["missing extractor", table({ extractor: null }), ['index "users_city": missing field "extractor"']],
    ["unknown field", table({ unique: "true" }), ['index "users_city": unknown field "unique"']],
    ["scope_prefix not a string", table({ scope_prefix: "[1]" }), ['index "users_city": "scope_prefix" must be a string, got an array']],
    ["unknown type", table({ type: `"fulltext"` }), ['index "users_city": unknown type "fulltext"', '"equality" or "range"']],
    ["type not a string", table({ type: "1.5" }), ['"type" must be a string, got a float']],
    ["extractor not a table", table({ extractor: `"$.city"` }), ['index "users_city": "extractor" must be a table']],
    ["extractor without kind", table({ extractor: `{ path = "$.city" }` }), ['index "users_city": extractor: missing field "kind"']],
    ["unknown extractor kind", table({ extractor: `{ kind = "custom", path = "$.city" }` }), ['index "users_city": unknown extractor kind "custom"', '"json_path" or "regex"']],
    ["json_path without path", table({ extractor: `{ kind = "json_path" }` }), ['extractor: missing field "path"']],
    ["unknown extractor field", table({ extractor: `{ kind = "json_path", path = "$.a", target = "key" }` }), ['extractor: unknown field "target" for kind "json_path"']],
    ["path not a string", table({ extractor: `{ kind = "json_path", path = 3 }` }), ["extractor.path must be a string, got an integer"]],
    ["empty path", table({ extractor: `{ kind = "json_path", path = "" }` }), ['index "users_city": extractor.path: bad JSONPath "": the path is empty']],
    ["path without $", table({ extractor: `{ kind = "json_path", path = "city" }` }), ['bad JSONPath "city"', 'starts with "$"']],
    ["bad JSONPath", table({ extractor: `{ kind = "json_path", path = "$.a[" }` }), ['index "users_city": extractor.path: bad JSONPath "$.a["']],
    ["bad filter expression", table({ extractor: `{ kind = "json_path", path = "$.a[?(@.x >)]" }` }), ["bad JSONPath", "Expected expression"]],
    ["regex without pattern", table({ extractor: `{ kind = "regex", target = "key" }` }), ['extractor: missing field "pattern"']],
    ["bad regex", table({ extractor: `{ kind = "regex", pattern = "(a" }` }), ['index "users_city": extractor.pattern: bad regex /(a/']],
    ["regex without a group", table({ extractor: `{ kind = "regex", pattern = "a+" }` }), ["no capture group"]],
    ["bad regex flags", table({ extractor: `{ kind = "regex", pattern = "(a)", flags = "z" }` }), ["bad regex /(a)/z"]],
    ["bad target", table({ extractor: `{ kind = "regex", pattern = "(a)", target = "both" }` }), ['extractor.target must be "value" or "key", got "both"']],
  ];
  for (const [what, text, parts] of cases) {
    test(what, () => {
      const message = problem(() => parseIndexesToml(text, "indexes.toml"));
      for (const part of parts) expect(message).toContain(part);
    });
  }

  test("without a source the message starts with the index", () => {
    expect(problem(() => parseIndexesToml(table({ type: `"x"` })))).toStartWith('index "users_city": unknown type "x"');
  });

  test("a valid name is used even when later fields are wrong; the position when the name is invalid", () => {
    expect(problem(() => parseIndexesToml(table() + table({ name: `"b"`, type: `"x"` }), "f"))).toStartWith('f: index "b": ');
    expect(problem(() => parseIndexesToml(table() + table({ name: `"a b"`, type: `"x"` }), "f"))).toStartWith("f: index #2: ");
  });
});

describe("validateDefinitions (arrays given in code)", () => {
  test("accepts definitions and fills the default target", () => {
    const defs = validateDefinitions([USERS_CITY, { name: "by_id", scope_prefix: "", type: "equality", extractor: { kind: "regex", pattern: "(\\d+)" } }]);
    expect(defs[0]).toEqual(USERS_CITY);
    expect(defs[1].extractor).toEqual({ kind: "regex", pattern: "(\\d+)", target: "value" });
  });

  test("returns copies: later changes to the input do not reach the registry", () => {
    const input = structuredClone(USERS_CITY);
    const [def] = validateDefinitions([input]);
    input.extractor = { kind: "json_path", path: "$.other" };
    expect(def).toEqual(USERS_CITY);
  });

  test("refuses what is not an array, non-plain objects, and JavaScript-only values", () => {
    expect(problem(() => validateDefinitions(USERS_CITY))).toContain("expected an array of index definitions, got a table");
    expect(problem(() => validateDefinitions([new Map()]))).toContain("index #1: expected a table");
    expect(problem(() => validateDefinitions([{ ...USERS_CITY, scope_prefix: undefined }]))).toContain('"scope_prefix" must be a string, got nothing');
    expect(problem(() => validateDefinitions([{ ...USERS_CITY, scope_prefix: "\ud800" }]))).toContain("lone surrogate");
    expect(problem(() => validateDefinitions([{ ...USERS_CITY, name: undefined }], "api"))).toContain('api: index #1: "name" must be a string');
  });
});

describe("loadIndexesFile", () => {
  test("reads a file and names it in errors", () => {
    const dir = tempDir();
    const good = join(dir, "good.toml");
    writeFileSync(good, ROADMAP_EXAMPLE);
    expect(loadIndexesFile(good).length).toBe(2);

    const bad = join(dir, "bad.toml");
    writeFileSync(bad, table({ type: `"hash"` }));
    expect(problem(() => loadIndexesFile(bad))).toStartWith(`${bad}: index "users_city": unknown type "hash"`);
  });

  test("a missing file, a directory, a file that is not UTF-8", () => {
    const dir = tempDir();
    expect(problem(() => loadIndexesFile(join(dir, "none.toml")))).toContain("none.toml: no such file");
    expect(problem(() => loadIndexesFile(dir))).toContain("is a directory");
    const binary = join(dir, "bin.toml");
    writeFileSync(binary, new Uint8Array([0x61, 0x3d, 0xff]));
    expect(problem(() => loadIndexesFile(binary))).toContain("not valid UTF-8");
  });
});

describe("definitionKey", () => {
  test("canonical: key order and defaults do not matter", () => {
    const a: IndexDefinition = { name: "r", scope_prefix: "user:", type: "equality", extractor: { kind: "regex", pattern: "(\\d+)", target: "value" } };
    const b = JSON.parse(`{"extractor":{"target":"value","pattern":"(\\\\d+)","flags":"","kind":"regex"},"type":"equality","scope_prefix":"user:","name":"r"}`);
    expect(definitionKey(b)).toBe(definitionKey(a));
    expect(definitionKey({ ...a, extractor: { kind: "regex", pattern: "(\\d+)", target: "value", flags: "gi" } })).toBe(
      definitionKey({ ...a, extractor: { kind: "regex", pattern: "(\\d+)", target: "value", flags: "i" } }),
    );
    expect(definitionKey(USERS_CITY)).toBe('{"extractor":{"kind":"json_path","path":"$.city"},"name":"users_city","scope_prefix":"user:","type":"equality"}');
  });

  test("any change that changes the entries changes the key", () => {
    const base = definitionKey(USERS_CITY);
    const variants: IndexDefinition[] = [
      { ...USERS_CITY, name: "other" },
      { ...USERS_CITY, scope_prefix: "users:" },
      { ...USERS_CITY, type: "range" },
      { ...USERS_CITY, extractor: { kind: "json_path", path: "$.town" } },
      { ...USERS_CITY, extractor: { kind: "regex", pattern: "(x)", target: "value" } },
    ];
    const keys = new Set(variants.map(definitionKey));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(base)).toBe(false);
    const regex: IndexDefinition = { ...USERS_CITY, extractor: { kind: "regex", pattern: "(x)", target: "value" } };
    expect(definitionKey({ ...regex, extractor: { kind: "regex", pattern: "(x)", target: "key" } })).not.toBe(definitionKey(regex));
    expect(definitionKey({ ...regex, extractor: { kind: "regex", pattern: "(x)", target: "value", flags: "i" } })).not.toBe(definitionKey(regex));
  });
});
