/**
 * @module
 * A raw HTTP/1.1 exchange over a TCP socket, for requests `fetch` refuses to send or
 * rewrites: bytes that are not UTF-8 in the request line, forbidden methods, odd or
 * missing Host headers, broken framing. The request is written as given (it should ask
 * for `Connection: close`); the answer is read until the server closes the connection or
 * the whole response (by Content-Length, or no body) has arrived, then parsed into a
 * status, headers and body.
 */
import * as net from "node:net";

export interface RawResponse {
  /** 0 when the server closed the connection without a parsable status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
}

/** Sends `request` to `host:port` and resolves with the parsed answer; rejects on a socket error or after `timeoutMs`. */
export function rawRequest(port: number, request: Uint8Array, timeoutMs = 30_000, host = "127.0.0.1"): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve({ ...parse(Buffer.concat(chunks)), ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on("connect", () => socket.write(Buffer.from(request)));
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      if (complete(Buffer.concat(chunks))) finish();
    });
    socket.on("end", () => finish());
    socket.on("close", () => finish());
    // A reset after a complete answer (the server closing a half-read request) is not an error.
    socket.on("error", (e) => (chunks.length > 0 ? finish() : finish(e)));
  });
}

function headerEnd(buf: Buffer): number {
  return buf.indexOf("\r\n\r\n");
}

function complete(buf: Buffer): boolean {
  const end = headerEnd(buf);
  if (end < 0) return false;
  const head = buf.subarray(0, end).toString("latin1");
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (m) return buf.length - (end + 4) >= Number(m[1]);
  // No length: a status without a body (204, 304) is complete; otherwise wait for the close.
  return /^HTTP\/1\.[01] (1\d\d|204|304)/.test(head) || !/\r\ntransfer-encoding:/i.test(head);
}

function parse(buf: Buffer): Omit<RawResponse, "ms"> {
  const end = headerEnd(buf);
  if (end < 0) return { status: 0, headers: {}, body: buf.toString("utf8") };
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = buf.subarray(end + 4);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = dechunk(body);
  return { status, headers, body: body.toString("utf8") };
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString("latin1"), 16);
    if (!(size > 0)) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
