/**
 * @module
 * The one place where failures become HTTP responses. Every 4xx/5xx body has the shape
 * `{"error":{"code":"...","message":"..."}}`: database errors keep their stable
 * {@link ErrorCode}; failures of the HTTP layer itself (no such route, bad JSON, missing
 * token, body too large) get codes of their own, listed in {@link HttpErrorCode}.
 */
import { KvdbError, type ErrorCode } from "../engine/errors.ts";

/** Codes produced by the HTTP layer rather than by the database. */
export type HttpErrorCode = "UNAUTHORIZED" | "ROUTE_NOT_FOUND" | "INVALID_JSON" | "INTERNAL";

export type ApiErrorCode = ErrorCode | HttpErrorCode;

/** HTTP status of each database error code. */
export const STATUS_OF_CODE: Record<ApiErrorCode, number> = {
  INVALID_KEY: 400,
  INVALID_VALUE: 400,
  INVALID_ARGUMENT: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  TOO_LARGE: 413,
  // The directory is held by another process: "423 Locked" says exactly that.
  LOCKED: 423,
  CORRUPTION: 500,
  IO_ERROR: 500,
  INTERNAL: 500,
  // Closing (shutdown in progress): retry against the next server.
  CLOSED: 503,
};

/** An error raised by the HTTP layer with the status and code it must produce. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
    this.status = STATUS_OF_CODE[code];
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** A JSON error response. */
export function errorResponse(status: number, code: string, message: string): Response {
  const body: ErrorBody = { error: { code, message } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Maps anything a request can throw to its error response: our errors, database errors
 * and Elysia's own (`code` is Elysia's lifecycle error code: VALIDATION, PARSE, NOT_FOUND…).
 */
export function responseForError(e: unknown, elysiaCode?: string | number, request?: Request): Response {
  // Elysia wraps whatever a body parser throws (our 413, our INVALID_JSON) in a ParseError.
  if (elysiaCode === "PARSE" && e instanceof Error && (e.cause instanceof HttpError || e.cause instanceof KvdbError)) {
    return responseForError(e.cause);
  }
  if (e instanceof HttpError) return errorResponse(e.status, e.code, e.message);
  if (e instanceof KvdbError) return errorResponse(STATUS_OF_CODE[e.code] ?? 500, e.code, e.message);
  switch (elysiaCode) {
    case "VALIDATION":
      // A response that fails its own schema is our bug, not the client's.
      if ((e as ValidationErrorLike).type === "response") return errorResponse(500, "INTERNAL", validationMessage(e));
      return errorResponse(400, "INVALID_ARGUMENT", validationMessage(e));
    case "PARSE":
      return errorResponse(400, "INVALID_JSON", "the request body is not valid JSON");
    case "NOT_FOUND": {
      const where = request ? `${request.method} ${new URL(request.url).pathname}` : "this path";
      return errorResponse(404, "ROUTE_NOT_FOUND", `no route for ${where}`);
    }
  }
  const status = (e as { status?: unknown })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return errorResponse(status, "INVALID_ARGUMENT", e instanceof Error ? e.message : String(e));
  }
  const message = e instanceof Error ? e.message : String(e);
  return errorResponse(500, "INTERNAL", message);
}

/** The shape of Elysia's ValidationError that we read (its `message` is a JSON dump). */
interface ValidationErrorLike {
  type?: string;
  /** The schema's own `error` text, when it has one. */
  customError?: unknown;
  valueError?: { path?: string; message?: string; schema?: { anyOf?: { const?: unknown }[] } };
}

/** "query.limit: Expected integer to be less or equal to 1000" from Elysia's ValidationError. */
export function validationMessage(e: unknown): string {
  const v = e as ValidationErrorLike;
  if (typeof v.customError === "string") return v.customError;
  const where = v.type === "property" || !v.type ? "" : v.type;
  const first = v.valueError;
  if (!first) return `invalid ${where || "request"}`;
  const path = (first.path ?? "").split("/").filter(Boolean);
  const location = [where, ...path].filter(Boolean).join(".") || "value";
  // TypeBox says "Expected union value" for a union of literals; name the allowed values instead.
  const literals = first.schema?.anyOf?.map((s) => s.const).filter((c) => c !== undefined);
  const message =
    literals && literals.length > 0 ? `expected one of ${literals.map((l) => JSON.stringify(l)).join(", ")}` : first.message;
  return `${location}: ${message}`;
}
