/**
 * @module
 * Bearer-token authentication and the rule that keeps an open server off the network:
 * with a token configured, every request except `GET /health` must carry
 * `Authorization: Bearer <token>`; without one, the server binds only loopback
 * addresses unless the operator says `--insecure`.
 */
import { timingSafeEqual } from "node:crypto";
import { KvdbError } from "../engine/errors.ts";
import { HttpError } from "./errors.ts";

/** Paths that never need a token (liveness probes). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(["/health"]);

/** Returns a check that throws a 401 {@link HttpError} unless `request` carries `token`. */
export function bearerCheck(token: string): (request: Request) => void {
  const expected = Buffer.from(token);
  return (request) => {
    if (PUBLIC_PATHS.has(pathOf(request.url))) return;
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match) {
      const given = Buffer.from(match[1].trim());
      // Constant-time compare so the token cannot be guessed byte by byte from timings.
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
      throw new HttpError("UNAUTHORIZED", "the bearer token is not valid");
    }
    throw new HttpError("UNAUTHORIZED", "this server requires 'Authorization: Bearer <token>'");
  };
}

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** Throws unless binding `host` is safe: loopback, a token set, or `insecure` chosen. */
export function assertSafeBinding(host: string, hasToken: boolean, insecure: boolean): void {
  if (hasToken || insecure || isLoopbackHost(host)) return;
  throw new KvdbError(
    "INVALID_ARGUMENT",
    `refusing to listen on ${host} without an auth token: set --auth-token (or KVDB_AUTH_TOKEN), or pass --insecure`,
  );
}

/** The path of an absolute request URL, without parsing the whole URL. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}
