/**
 * @module
 * Parses and validates a filter into a {@link FilterNode} tree. The tree is what the
 * matcher compiles into closures, what the planner inspects to choose an index, and what
 * `explain` shows. Every problem is an INVALID_ARGUMENT naming its location:
 * `filter.$and[1].age.$gt: expected a number or a string, got object`.
 *
 * Shape of a filter object: each key is either a combinator (`$and`, `$or`, `$not`) or a
 * field path (dotted, or JSONPath starting with `$.`/`$[`). A field's value is either an
 * object whose keys are all operators (`{ "$gte": 30, "$lt": 40 }`) or any other JSON
 * value, meaning equality (`{ "city": "X" }` is `{ "city": { "$eq": "X" } }`). Several
 * keys in one object, and several operators on one field, are ANDed.
 *
 * Normalization: implicit equalities become `$eq`; nested `and`s are flattened; a
 * single-condition `and` is the condition itself; field-level `$not` becomes a `not`
 * node around the field's conditions.
 */
import type { JsonValue } from "./types.ts";
import { compareCodePoints } from "./compare.ts";
import { atIndex, atKey, invalidQuery } from "./invalid.ts";
import { checkJsonValue, isPlainObject, jsonTypeName } from "./json_value.ts";
import { type FieldPath, isJsonPathKey, parseFieldPath } from "./path.ts";

/** How deep the filter JSON may nest (objects and arrays, operands included). */
export const MAX_FILTER_DEPTH = 32;
/** Most conditions and combinators in one filter. */
export const MAX_FILTER_NODES = 1000;
/** Most values in one `$in`/`$nin` list. */
export const MAX_IN_VALUES = 1000;
/** Most values across all `$in`/`$nin` lists of one filter. */
export const MAX_TOTAL_IN_VALUES = 10_000;

export type FieldOperator =
  | "$eq"
  | "$ne"
  | "$gt"
  | "$gte"
  | "$lt"
  | "$lte"
  | "$in"
  | "$nin"
  | "$exists"
  | "$prefix"
  | "$contains";

/** One operator applied to one field. Operand types are checked by the parser (see OPERAND). */
export interface FieldCondition {
  readonly kind: "field";
  readonly path: FieldPath;
  readonly op: FieldOperator;
  /**
   * `$gt..$lte`: number | string. `$in`/`$nin`: JsonValue[]. `$exists`: boolean.
   * `$prefix`: string. `$eq`/`$ne`/`$contains`: any JSON value.
   */
  readonly operand: JsonValue;
}

export type FilterNode =
  | { readonly kind: "all" }
  | { readonly kind: "and"; readonly children: readonly FilterNode[] }
  | { readonly kind: "or"; readonly children: readonly FilterNode[] }
  | { readonly kind: "not"; readonly child: FilterNode }
  | FieldCondition;

const FIELD_OPERATORS: readonly string[] = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$prefix", "$contains", "$not"];
const COMBINATORS: readonly string[] = ["$and", "$or", "$not"];

const EXPECTS_COMPARABLE = "expected a number or a string";

interface Budget {
  nodes: number;
  inValues: number;
}

/**
 * Parses a filter (absent/null/`{}` → matches every document). `at` names the filter in
 * errors ("filter").
 */
export function parseFilter(filter: unknown, at = "filter"): FilterNode {
  if (filter === undefined || filter === null) return ALL;
  const budget: Budget = { nodes: 0, inValues: 0 };
  return parseFilterObject(filter, at, 1, budget);
}

const ALL: FilterNode = { kind: "all" };

function countNode(budget: Budget, at: string): void {
  if (++budget.nodes > MAX_FILTER_NODES) throw invalidQuery(at, `the filter has more than ${MAX_FILTER_NODES} conditions`);
}

function checkDepth(depth: number, at: string): void {
  if (depth > MAX_FILTER_DEPTH) throw invalidQuery(at, `the filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
}

/** A filter object (the top level, or an element of `$and`/`$or`, or `$not`'s operand). */
function parseFilterObject(filter: unknown, at: string, depth: number, budget: Budget): FilterNode {
  checkDepth(depth, at);
  if (!isPlainObject(filter)) throw invalidQuery(at, `expected a filter object, got ${jsonTypeName(filter)}`);
  const parts: FilterNode[] = [];
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    const here = atKey(at, key);
    if (key.startsWith("$") && !isJsonPathKey(key)) {
      parts.push(parseCombinator(key, value, here, depth, budget));
    } else {
      const path = parseFieldPath(key, here);
      parts.push(parseFieldValue(path, value, here, depth + 1, budget));
    }
  }
  return and(parts);
}

function parseCombinator(key: string, value: unknown, at: string, depth: number, budget: Budget): FilterNode {
  countNode(budget, at);
  if (key === "$and" || key === "$or") {
    checkDepth(depth + 1, at);
    if (!Array.isArray(value) || value.length === 0) {
      throw invalidQuery(at, `expected a non-empty array of filter objects, got ${describe(value)}`);
    }
    const children = value.map((f, i) => parseFilterObject(f, atIndex(at, i), depth + 2, budget));
    return key === "$and" ? and(children) : or(children);
  }
  if (key === "$not") return { kind: "not", child: parseFilterObject(value, at, depth + 1, budget) };
  if (FIELD_OPERATORS.includes(key)) {
    throw invalidQuery(at, `${key} applies to a field, e.g. {"age": {"${key}": ...}}; at this level use a field path or one of ${COMBINATORS.join(", ")}`);
  }
  throw invalidQuery(at, `unknown operator "${key}"; expected a field path or one of ${COMBINATORS.join(", ")}`);
}

/** What a field maps to: an operator object, or a value meaning equality. */
function parseFieldValue(path: FieldPath, value: unknown, at: string, depth: number, budget: Budget): FilterNode {
  if (isOperatorObject(value, at)) return parseOperators(path, value, at, depth, budget);
  countNode(budget, at);
  return { kind: "field", path, op: "$eq", operand: checkJsonValue(value, at, depth, MAX_FILTER_DEPTH) };
}

/** True for a non-empty object whose keys all start with "$"; refuses a mix. */
function isOperatorObject(value: unknown, at: string): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  const ops = keys.filter((k) => k.startsWith("$"));
  if (ops.length === 0) return false;
  if (ops.length !== keys.length) {
    const field = keys.find((k) => !k.startsWith("$"));
    throw invalidQuery(
      at,
      `cannot mix operators (${ops[0]}) and field names (${JSON.stringify(field)}) in one object; ` +
        `to match an object with such keys exactly, use {"$eq": {...}}`,
    );
  }
  return true;
}

function parseOperators(path: FieldPath, ops: Record<string, unknown>, at: string, depth: number, budget: Budget): FilterNode {
  checkDepth(depth, at);
  const parts: FilterNode[] = [];
  for (const op of Object.keys(ops)) {
    const here = atKey(at, op);
    countNode(budget, here);
    parts.push(parseOperator(path, op, ops[op], here, depth + 1, budget));
  }
  return and(parts);
}

function parseOperator(path: FieldPath, op: string, operand: unknown, at: string, depth: number, budget: Budget): FilterNode {
  const field = (o: FieldOperator, v: JsonValue): FieldCondition => ({ kind: "field", path, op: o, operand: v });
  switch (op) {
    case "$eq":
    case "$ne":
    case "$contains":
      return field(op, checkJsonValue(operand, at, depth, MAX_FILTER_DEPTH));
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
      if (typeof operand === "string") return field(op, operand);
      if (typeof operand === "number" && Number.isFinite(operand)) return field(op, operand);
      throw invalidQuery(at, `${EXPECTS_COMPARABLE}, got ${describe(operand)}`);
    case "$in":
    case "$nin": {
      if (!Array.isArray(operand)) throw invalidQuery(at, `expected an array of values, got ${describe(operand)}`);
      if (operand.length > MAX_IN_VALUES) throw invalidQuery(at, `has ${operand.length} values; at most ${MAX_IN_VALUES} are allowed`);
      budget.inValues += operand.length;
      if (budget.inValues > MAX_TOTAL_IN_VALUES) {
        throw invalidQuery(at, `the filter's $in/$nin lists hold more than ${MAX_TOTAL_IN_VALUES} values in total`);
      }
      return field(op, checkJsonValue(operand, at, depth, MAX_FILTER_DEPTH));
    }
    case "$exists":
      if (typeof operand !== "boolean") throw invalidQuery(at, `expected true or false, got ${describe(operand)}`);
      return field(op, operand);
    case "$prefix":
      if (typeof operand !== "string") throw invalidQuery(at, `expected a string, got ${describe(operand)}`);
      return field(op, operand);
    case "$not":
      if (!isOperatorObject(operand, at)) {
        throw invalidQuery(at, `expected an object of operators such as {"$gt": 5}, got ${describe(operand)}`);
      }
      return { kind: "not", child: parseOperators(path, operand, at, depth, budget) };
    default:
      if (COMBINATORS.includes(op)) {
        throw invalidQuery(at, `${op} combines filters and belongs at the level of field names, e.g. {"${op}": [{"a": 1}, {"b": 2}]}`);
      }
      throw invalidQuery(at, `unknown operator "${op}"; expected one of ${FIELD_OPERATORS.join(", ")}`);
  }
}

/** A value's type for an error message; short scalars are shown themselves. */
function describe(v: unknown): string {
  if (typeof v === "number") return Number.isFinite(v) ? `number ${v}` : String(v);
  if (typeof v === "boolean") return `boolean ${v}`;
  if (typeof v === "string") return v.length <= 40 ? `string ${JSON.stringify(v)}` : "string";
  if (Array.isArray(v) && v.length === 0) return "an empty array";
  return jsonTypeName(v);
}

function and(children: FilterNode[]): FilterNode {
  const flat: FilterNode[] = [];
  for (const c of children) {
    if (c.kind === "and") flat.push(...c.children);
    else if (c.kind !== "all") flat.push(c);
  }
  if (flat.length === 0) return ALL;
  return flat.length === 1 ? flat[0] : { kind: "and", children: flat };
}

function or(children: FilterNode[]): FilterNode {
  return children.length === 1 ? children[0] : { kind: "or", children };
}

/** Every field path the filter reads. */
export function fieldPaths(node: FilterNode): FieldPath[] {
  switch (node.kind) {
    case "all":
      return [];
    case "and":
    case "or":
      return node.children.flatMap(fieldPaths);
    case "not":
      return fieldPaths(node.child);
    case "field":
      return [node.path];
  }
}

/**
 * The filter as JSON, in explicit form: `{"$and": [{"$.city": {"$eq": "X"}}, ...]}`.
 * With `canonical`, the children of `$and`/`$or` and the keys of object operands are
 * sorted, so two filters that mean the same up to key order give the same text (the
 * cursor's query fingerprint relies on this).
 */
export function filterToJson(node: FilterNode, canonical = false): JsonValue {
  switch (node.kind) {
    case "all":
      return {};
    case "and":
    case "or": {
      const children = node.children.map((c) => filterToJson(c, canonical));
      if (canonical) sortByText(children);
      return { [node.kind === "and" ? "$and" : "$or"]: children };
    }
    case "not":
      return { $not: filterToJson(node.child, canonical) };
    case "field":
      return { [node.path.canonical]: { [node.op]: canonical ? sortKeys(node.operand) : node.operand } };
  }
}

function sortByText(values: JsonValue[]): void {
  const text = new Map(values.map((v) => [v, JSON.stringify(v)]));
  values.sort((a, b) => compareCodePoints(text.get(a)!, text.get(b)!));
}

function sortKeys(v: JsonValue): JsonValue {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(sortKeys);
  const out: { [k: string]: JsonValue } = {};
  for (const k of Object.keys(v).sort(compareCodePoints)) out[k] = sortKeys(v[k]);
  return out;
}
