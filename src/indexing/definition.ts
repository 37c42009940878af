/**
 * @module
 * Index definitions: what `indexes.toml` (or an array given to `openDatabase`) declares,
 * validated into {@link IndexDefinition}s. An index's identity is its definition
 * ({@link definitionKey}): a reload rebuilds exactly the indexes whose key changed.
 *
 *   [[index]]
 *   name = "users_city"                 # [A-Za-z0-9_.-]{1,64}, unique
 *   scope_prefix = "user:"              # keys starting with this; "" = every key
 *   type = "equality"                   # or "range"
 *   extractor = { kind = "json_path", path = "$.city" }
 *   # or { kind = "regex", pattern = "^user:(\\d+)$", target = "key", flags = "i" }
 *
 * Every problem is an INVALID_ARGUMENT whose message names the file (when known), the
 * index (by name, or `index #2` by position when it has no valid name) and the problem,
 * e.g. `indexes.toml: index "users_age": extractor.path: bad JSONPath "$.a[": ...`.
 * The server shows that message when it refuses to start or rejects a reload.
 */
import * as fs from "node:fs";
import { parse, TomlError } from "smol-toml";
import { fromUtf8 } from "../engine/coding.ts";
import { KvdbError, ioError, isKvdbError } from "../engine/errors.ts";
import { compileExtractor, effectiveRegexFlags } from "./extractor.ts";

export type IndexType = "equality" | "range";

export type ExtractorSpec =
  | { kind: "json_path"; path: string }
  | { kind: "regex"; pattern: string; target: "value" | "key"; flags?: string };

export interface IndexDefinition {
  name: string;
  scope_prefix: string;
  type: IndexType;
  extractor: ExtractorSpec;
}

export const INDEX_TYPES: readonly IndexType[] = ["equality", "range"];
export const EXTRACTOR_KINDS: readonly ExtractorSpec["kind"][] = ["json_path", "regex"];
/** Names are used in URL paths: "." and ".." (which URL parsers resolve away) are excluded. */
export const INDEX_NAME = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,64}$/;

const INDEX_FIELDS = ["name", "scope_prefix", "type", "extractor"];
const EXTRACTOR_FIELDS: Record<ExtractorSpec["kind"], { required: string[]; optional: string[] }> = {
  json_path: { required: ["kind", "path"], optional: [] },
  regex: { required: ["kind", "pattern"], optional: ["target", "flags"] },
};

/** Parses the text of an `indexes.toml`; `source` (a file name) prefixes every error. */
export function parseIndexesToml(text: string, source?: string): IndexDefinition[] {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      // smol-toml's message is "Invalid TOML document: <what>\n\n<code block>".
      const what = e.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      throw invalid(source, `TOML syntax error at line ${e.line}, column ${e.column}: ${what}`);
    }
    throw invalid(source, `TOML syntax error: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const key of Object.keys(doc)) {
    if (key !== "index") throw invalid(source, `unknown top-level key ${JSON.stringify(key)}; declare indexes as [[index]] tables`);
  }
  if (!("index" in doc)) return [];
  if (!Array.isArray(doc.index)) throw invalid(source, `"index" must be an array of tables: write [[index]], not [index]`);
  return validateDefinitions(doc.index, source);
}

/** Reads and parses an `indexes.toml` file. */
export function loadIndexesFile(path: string): IndexDefinition[] {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw invalid(path, "no such file");
    if ((e as NodeJS.ErrnoException).code === "EISDIR") throw invalid(path, "is a directory, not an indexes file");
    throw ioError("read", path, e);
  }
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw invalid(path, "the file is not valid UTF-8");
  }
  return parseIndexesToml(text, path);
}

/**
 * Validates definitions (parsed from TOML, or given in code) and returns clean copies:
 * only the known fields, `target` defaulted to "value". Throws on the first problem.
 */
export function validateDefinitions(input: unknown, source?: string): IndexDefinition[] {
  if (!Array.isArray(input)) throw invalid(source, `expected an array of index definitions, got ${typeName(input)}`);
  const out: IndexDefinition[] = [];
  const positions = new Map<string, number>();
  input.forEach((item, i) => {
    const def = validateOne(item, i + 1, source);
    const earlier = positions.get(def.name);
    if (earlier !== undefined) {
      throw invalid(source, `index "${def.name}": duplicate name (index #${earlier} and index #${i + 1} are both named "${def.name}")`);
    }
    positions.set(def.name, i + 1);
    out.push(def);
  });
  return out;
}

function validateOne(item: unknown, position: number, source: string | undefined): IndexDefinition {
  let who = `index #${position}`;
  const fail = (problem: string) => invalid(source, `${who}: ${problem}`);
  if (!isTable(item)) throw fail(`expected a table, got ${typeName(item)}`);

  if (!("name" in item)) throw fail(`missing field "name"`);
  const name = item.name;
  if (typeof name !== "string") throw fail(`"name" must be a string, got ${typeName(name)}`);
  if (!INDEX_NAME.test(name)) {
    throw fail(`invalid name ${JSON.stringify(name)}: use 1 to 64 letters, digits, "_", "." or "-" (not "." or "..")`);
  }
  who = `index "${name}"`;

  for (const key of Object.keys(item)) {
    if (!INDEX_FIELDS.includes(key)) throw fail(`unknown field ${JSON.stringify(key)}; expected ${INDEX_FIELDS.join(", ")}`);
  }
  for (const key of INDEX_FIELDS) {
    if (!(key in item)) throw fail(`missing field "${key}"`);
  }

  const scope = item.scope_prefix;
  if (typeof scope !== "string") throw fail(`"scope_prefix" must be a string, got ${typeName(scope)}`);
  if (!scope.isWellFormed()) throw fail(`"scope_prefix" is not valid Unicode (lone surrogate)`);

  const type = item.type;
  if (typeof type !== "string") throw fail(`"type" must be a string, got ${typeName(type)}`);
  if (!INDEX_TYPES.includes(type as IndexType)) {
    throw fail(`unknown type ${JSON.stringify(type)}; expected ${INDEX_TYPES.map((t) => `"${t}"`).join(" or ")}`);
  }

  const extractor = validateExtractor(item.extractor, fail);
  return { name, scope_prefix: scope, type: type as IndexType, extractor };
}

function validateExtractor(raw: unknown, fail: (problem: string) => KvdbError): ExtractorSpec {
  if (!isTable(raw)) throw fail(`"extractor" must be a table such as { kind = "json_path", path = "$.city" }, got ${typeName(raw)}`);
  if (!("kind" in raw)) throw fail(`extractor: missing field "kind"`);
  const kind = raw.kind;
  if (typeof kind !== "string") throw fail(`extractor.kind must be a string, got ${typeName(kind)}`);
  if (!EXTRACTOR_KINDS.includes(kind as ExtractorSpec["kind"])) {
    throw fail(`unknown extractor kind ${JSON.stringify(kind)}; expected ${EXTRACTOR_KINDS.map((k) => `"${k}"`).join(" or ")}`);
  }
  const fields = EXTRACTOR_FIELDS[kind as ExtractorSpec["kind"]];
  const allowed = [...fields.required, ...fields.optional];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw fail(`extractor: unknown field ${JSON.stringify(key)} for kind "${kind}"; expected ${allowed.join(", ")}`);
  }
  for (const key of fields.required) {
    if (!(key in raw)) throw fail(`extractor: missing field "${key}"`);
  }
  for (const key of allowed) {
    if (key in raw && typeof raw[key] !== "string") throw fail(`extractor.${key} must be a string, got ${typeName(raw[key])}`);
  }

  let spec: ExtractorSpec;
  if (kind === "json_path") {
    spec = { kind, path: raw.path as string };
  } else {
    const target = raw.target ?? "value";
    if (target !== "value" && target !== "key") throw fail(`extractor.target must be "value" or "key", got ${JSON.stringify(target)}`);
    spec = { kind: "regex", pattern: raw.pattern as string, target };
    if (raw.flags !== undefined) spec.flags = raw.flags as string;
  }
  try {
    compileExtractor(spec);
  } catch (e) {
    if (isKvdbError(e, "INVALID_ARGUMENT")) throw fail(`extractor.${kind === "json_path" ? "path" : "pattern"}: ${e.message}`);
    throw e;
  }
  return spec;
}

/**
 * The identity of an index: canonical JSON of its definition, keys sorted and defaults
 * filled (`target` "value", `flags` ""; flags sorted, without `g`/`y`, which extractors
 * ignore). Two definitions with the same key index exactly the same entries.
 */
export function definitionKey(def: IndexDefinition): string {
  const e = def.extractor;
  const extractor =
    e.kind === "json_path"
      ? { kind: e.kind, path: e.path }
      : { flags: effectiveRegexFlags(e.flags ?? ""), kind: e.kind, pattern: e.pattern, target: e.target ?? "value" };
  return JSON.stringify({ extractor, name: def.name, scope_prefix: def.scope_prefix, type: def.type });
}

function invalid(source: string | undefined, message: string): KvdbError {
  return new KvdbError("INVALID_ARGUMENT", source ? `${source}: ${message}` : message);
}

/** A TOML table or plain object (smol-toml builds tables without a prototype). */
function isTable(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The type of `v` as a TOML user would call it. */
function typeName(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date-time";
  if (typeof v === "object") return "a table";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a float";
  if (typeof v === "bigint") return "an integer";
  if (typeof v === "boolean") return "a boolean";
  return `a ${typeof v}`;
}
