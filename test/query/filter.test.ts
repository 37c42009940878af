import { describe, expect, test } from "bun:test";
import { filterToJson, MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_IN_VALUES, parseFilter } from "../../src/query/filter.ts";

/** The parsed filter in explicit form. */
const parsed = (filter: unknown) => filterToJson(parseFilter(filter));

/** The INVALID_ARGUMENT message for `filter`. */
function error(filter: unknown): string {
  try {
    parseFilter(filter);
  } catch (e) {
    expect((e as { code: string }).code).toBe("INVALID_ARGUMENT");
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(filter)}`);
}

describe("parsing", () => {
  test("absent, null and {} match everything", () => {
    expect(parseFilter(undefined)).toEqual({ kind: "all" });
    expect(parseFilter(null)).toEqual({ kind: "all" });
    expect(parseFilter({})).toEqual({ kind: "all" });
  });

  test("implicit equality, several fields ANDed", () => {
    expect(parsed({ city: "X" })).toEqual({ "$.city": { $eq: "X" } });
    expect(parsed({ city: "X", "address.zip": 90210 })).toEqual({
      $and: [{ "$.city": { $eq: "X" } }, { "$.address.zip": { $eq: 90210 } }],
    });
  });

  test("non-operator objects and arrays are values to compare with", () => {
    expect(parsed({ a: { b: 1 } })).toEqual({ "$.a": { $eq: { b: 1 } } });
    expect(parsed({ a: {} })).toEqual({ "$.a": { $eq: {} } });
    expect(parsed({ a: [1, "x", null] })).toEqual({ "$.a": { $eq: [1, "x", null] } });
    expect(parsed({ a: null, b: true })).toEqual({ $and: [{ "$.a": { $eq: null } }, { "$.b": { $eq: true } }] });
  });

  test("every field operator with a valid operand", () => {
    const cases: [string, unknown][] = [
      ["$eq", { x: [1] }],
      ["$ne", "a"],
      ["$gt", 1.5],
      ["$gte", "m"],
      ["$lt", -3],
      ["$lte", ""],
      ["$in", [1, "a", null, [2], { k: 1 }]],
      ["$nin", []],
      ["$exists", false],
      ["$prefix", "ab"],
      ["$contains", "b"],
      ["$contains", 3],
    ];
    for (const [op, operand] of cases) {
      expect(parsed({ f: { [op]: operand } }) as unknown).toEqual({ "$.f": { [op]: operand } });
    }
  });

  test("several operators on one field are ANDed", () => {
    expect(parsed({ age: { $gte: 30, $lt: 40 } })).toEqual({ $and: [{ "$.age": { $gte: 30 } }, { "$.age": { $lt: 40 } }] });
  });

  test("$and / $or / $not, with nested ands flattened", () => {
    expect(parsed({ $or: [{ a: 1 }, { b: 2 }] })).toEqual({ $or: [{ "$.a": { $eq: 1 } }, { "$.b": { $eq: 2 } }] });
    expect(parsed({ $and: [{ a: 1 }, { $and: [{ b: 2 }, { c: 3 }] }], d: 4 })).toEqual({
      $and: [{ "$.a": { $eq: 1 } }, { "$.b": { $eq: 2 } }, { "$.c": { $eq: 3 } }, { "$.d": { $eq: 4 } }],
    });
    expect(parsed({ $or: [{ a: 1 }] })).toEqual({ "$.a": { $eq: 1 } });
    expect(parsed({ $not: { a: 1 } })).toEqual({ $not: { "$.a": { $eq: 1 } } });
    expect(parsed({ $not: {} })).toEqual({ $not: {} });
  });

  test("field-level $not wraps the field's operators", () => {
    expect(parsed({ age: { $not: { $gt: 5, $lt: 9 } } })).toEqual({
      $not: { $and: [{ "$.age": { $gt: 5 } }, { "$.age": { $lt: 9 } }] },
    });
  });

  test("JSONPath keys and dotted keys name the same field", () => {
    expect(parsed({ "$.address.city": "X" })).toEqual(parsed({ "address.city": "X" }));
    expect(parsed({ "$['a.b']": 1 })).toEqual({ "$['a.b']": { $eq: 1 } });
  });

  test("$eq can match objects whose keys start with $", () => {
    expect(parsed({ a: { $eq: { $gt: 1 } } })).toEqual({ "$.a": { $eq: { $gt: 1 } } });
  });

  test("canonical form ignores key order", () => {
    const a = filterToJson(parseFilter({ x: 1, y: { $in: [{ p: 1, q: 2 }] } }), true);
    const b = filterToJson(parseFilter({ y: { $in: [{ q: 2, p: 1 }] }, x: 1 }), true);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = filterToJson(parseFilter({ x: 2, y: { $in: [{ q: 2, p: 1 }] } }), true);
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });
});

describe("errors say what and where", () => {
  test("the filter must be an object", () => {
    expect(error([])).toBe("filter: expected a filter object, got array");
    expect(error("x")).toBe("filter: expected a filter object, got string");
    expect(error({ $or: [{ a: 1 }, 5] })).toBe("filter.$or[1]: expected a filter object, got number");
    expect(error({ $not: [] })).toBe("filter.$not: expected a filter object, got array");
  });

  test("unknown operators, at both levels", () => {
    expect(error({ age: { $foo: 1 } })).toBe(
      'filter.age.$foo: unknown operator "$foo"; expected one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $prefix, $contains, $not',
    );
    expect(error({ $nor: [] })).toBe('filter.$nor: unknown operator "$nor"; expected a field path or one of $and, $or, $not');
    expect(error({ $where: "x" })).toContain('filter.$where: unknown operator "$where"');
  });

  test("operators at the wrong level", () => {
    expect(error({ $gt: 5 })).toBe(
      'filter.$gt: $gt applies to a field, e.g. {"age": {"$gt": ...}}; at this level use a field path or one of $and, $or, $not',
    );
    expect(error({ a: { $or: [{ b: 1 }] } })).toBe(
      'filter.a.$or: $or combines filters and belongs at the level of field names, e.g. {"$or": [{"a": 1}, {"b": 2}]}',
    );
  });

  test("operand types of each operator", () => {
    expect(error({ age: { $gt: {} } })).toBe("filter.age.$gt: expected a number or a string, got object");
    expect(error({ age: { $gte: null } })).toBe("filter.age.$gte: expected a number or a string, got null");
    expect(error({ age: { $lt: true } })).toBe("filter.age.$lt: expected a number or a string, got boolean true");
    expect(error({ age: { $lte: [1] } })).toBe("filter.age.$lte: expected a number or a string, got array");
    expect(error({ age: { $gt: NaN } })).toBe("filter.age.$gt: expected a number or a string, got NaN");
    expect(error({ tags: { $in: "red" } })).toBe('filter.tags.$in: expected an array of values, got string "red"');
    expect(error({ tags: { $nin: { a: 1 } } })).toBe("filter.tags.$nin: expected an array of values, got object");
    expect(error({ a: { $exists: 1 } })).toBe("filter.a.$exists: expected true or false, got number 1");
    expect(error({ a: { $prefix: 1 } })).toBe("filter.a.$prefix: expected a string, got number 1");
    expect(error({ a: { $not: 5 } })).toBe('filter.a.$not: expected an object of operators such as {"$gt": 5}, got number 5');
    expect(error({ a: { $not: { b: 1 } } })).toBe('filter.a.$not: expected an object of operators such as {"$gt": 5}, got object');
    expect(error({ $and: [] })).toBe("filter.$and: expected a non-empty array of filter objects, got an empty array");
    expect(error({ $or: {} })).toBe("filter.$or: expected a non-empty array of filter objects, got object");
  });

  test("values that are not JSON (embedded API)", () => {
    expect(error({ a: undefined })).toBe("filter.a: expected a JSON value, got undefined");
    expect(error({ a: { $eq: new Date(0) } })).toBe("filter.a.$eq: expected a JSON value, got Date");
    expect(error({ a: { $in: [1, Infinity] } })).toBe("filter.a.$in[1]: expected a JSON value, got Infinity");
    expect(error({ a: { b: 1n } })).toBe("filter.a.b: expected a JSON value, got bigint");
    expect(error({ a: [1, , 3] })).toBe("filter.a[1]: expected a JSON value, got undefined");
  });

  test("mixing operators and field names", () => {
    expect(error({ a: { $gt: 1, b: 2 } })).toBe(
      'filter.a: cannot mix operators ($gt) and field names ("b") in one object; to match an object with such keys exactly, use {"$eq": {...}}',
    );
  });

  test("bad paths, located by their key", () => {
    expect(error({ "a..b": 1 })).toBe('filter["a..b"]: bad field path "a..b": empty name at character 2');
    expect(error({ $or: [{ "$.x[*]": 1 }] })).toBe('filter.$or[0]["$.x[*]"]: bad field path "$.x[*]": wildcards ("*") are not supported');
    expect(error({ "": 1 })).toBe('filter[""]: bad field path "": a path must name a field');
  });

  test("limits: depth, node count, $in size", () => {
    let deep: unknown = { a: 1 };
    for (let i = 0; i < MAX_FILTER_DEPTH; i++) deep = { $not: deep };
    expect(error(deep)).toContain(`the filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
    let operand: unknown = 1;
    for (let i = 0; i < MAX_FILTER_DEPTH; i++) operand = [operand];
    expect(error({ a: operand })).toContain(`the filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);

    const wide = Object.fromEntries(Array.from({ length: MAX_FILTER_NODES + 1 }, (_, i) => [`f${i}`, i]));
    expect(error(wide)).toBe(`filter.f${MAX_FILTER_NODES}: the filter has more than ${MAX_FILTER_NODES} conditions`);
    const fits = Object.fromEntries(Array.from({ length: MAX_FILTER_NODES }, (_, i) => [`f${i}`, i]));
    expect(() => parseFilter(fits)).not.toThrow();

    const big = Array.from({ length: MAX_IN_VALUES + 1 }, (_, i) => i);
    expect(error({ a: { $in: big } })).toBe(`filter.a.$in: has ${MAX_IN_VALUES + 1} values; at most ${MAX_IN_VALUES} are allowed`);
    const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, { $in: big.slice(1) }]));
    expect(error(many)).toBe("filter.f10.$in: the filter's $in/$nin lists hold more than 10000 values in total");
  });
});
