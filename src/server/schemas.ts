/**
 * @module
 * Schemas shared by several routes, and the helper that documents error responses.
 * Every 4xx/5xx body is {@link ErrorSchema}.
 */
import { t, type TSchema } from "elysia";
import { STATUS_OF_CODE } from "./errors.ts";

export const ErrorSchema = t.Object(
  {
    error: t.Object({
      code: t.String({ description: "Stable code: " + Object.keys(STATUS_OF_CODE).join(", ") }),
      message: t.String({ description: "What went wrong, for people." }),
    }),
  },
  { title: "Error" },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request (bad key, value, parameter or JSON)",
  401: "Missing or wrong bearer token (when the server has one)",
  404: "Not found",
  413: "Body, value or batch too large",
  500: "Internal error (I/O failure or corruption)",
  503: "The database is closing",
};

/** OpenAPI `responses` entries for the given error statuses; 401, 500 and 503 are always added. */
export function errorResponses(...statuses: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of new Set([...statuses, 401, 500, 503])) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}

/** A success response documented with a schema that is not validated at run time. */
export function documented(status: number, description: string, schema: TSchema, type = "application/json"): Record<string, unknown> {
  return { [status]: { description, content: { [type]: { schema: JSON.parse(JSON.stringify(schema)) } } } };
}

/** The OpenAPI component schemas referenced by `$ref`. */
export const COMPONENT_SCHEMAS: Record<string, Record<string, unknown>> = {
  Error: JSON.parse(JSON.stringify(ErrorSchema)),
};
