/**
 * @module
 * Typed errors with stable codes. The server maps codes to HTTP statuses and the
 * CLI prints `code: message`, so codes never change meaning once published.
 */

export type ErrorCode =
  | "NOT_FOUND"
  | "INVALID_KEY"
  | "INVALID_VALUE"
  | "INVALID_ARGUMENT"
  | "TOO_LARGE"
  | "CORRUPTION"
  | "LOCKED"
  | "IO_ERROR"
  | "CLOSED";

export class KvdbError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "KvdbError";
  }
}

export function corruption(file: string, what: string, offset?: number): KvdbError {
  const at = offset === undefined ? "" : ` at offset ${offset}`;
  return new KvdbError("CORRUPTION", `${file}: ${what}${at}`);
}

export function ioError(op: string, path: string, cause: unknown): KvdbError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KvdbError("IO_ERROR", `${op} ${path} failed: ${reason}`, { cause });
}

export function isKvdbError(e: unknown, code?: ErrorCode): e is KvdbError {
  return e instanceof KvdbError && (code === undefined || e.code === code);
}
