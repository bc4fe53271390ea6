import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, type Logger } from '@asyncmcp/core';
import { WEBHOOK_DEFAULTS } from './webhook-defaults.js';

/**
 * A plain Node request handler. It fits `http.createServer(handler)` and is usable as Express middleware
 * (`app.post('/webhook', handler)`): Express's request and response extend these types.
 */
export type NodeRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The default bound on a body we read: 4 MiB, the limit the MCP SDK's own HTTP transport uses. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export type BodyResult =
  | { kind: 'raw'; bytes: Buffer }
  /** A body parser (e.g. `express.json()`) already read and parsed the body. */
  | { kind: 'parsed'; value: unknown }
  | { kind: 'too-large' }
  /** Something read the stream and left nothing in `req.body`. */
  | { kind: 'consumed' };

/**
 * Reads a request body, bounded. When mounted behind Express, a body parser may have read the stream
 * already: its result in `req.body` is used then (a Buffer or string as the raw body, anything else as
 * parsed JSON).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const preread = (req as IncomingMessage & { body?: unknown }).body;
  if (Buffer.isBuffer(preread)) return preread.length > limit ? { kind: 'too-large' } : raw(preread);
  if (typeof preread === 'string') {
    const bytes = Buffer.from(preread, 'utf8');
    return bytes.length > limit ? { kind: 'too-large' } : raw(bytes);
  }
  if (preread !== undefined && preread !== null && (typeof preread !== 'object' || !isEmptyObject(preread))) {
    return { kind: 'parsed', value: preread };
  }
  if (req.readableEnded) return { kind: 'consumed' };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Drain without keeping anything, so the answer can still be written on this connection.
    req.resume();
    return { kind: 'too-large' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(buffer);
  }
  return tooLarge ? { kind: 'too-large' } : raw(Buffer.concat(chunks));
}

function raw(bytes: Buffer): BodyResult {
  return { kind: 'raw', bytes };
}

// Express sets `req.body = {}` when no parser matched the content type: that is not a parsed body.
function isEmptyObject(value: object): boolean {
  return !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Writes a JSON answer (compact, as Python's orjson writes it). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The first value of a request header, if present. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0];
  return value;
}

/** The request's path without its query, as routed (Express keeps the full path in `originalUrl`). */
export function requestPath(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export interface ListenOptions {
  /** `0` picks a free port. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export interface RunningHttpServer {
  readonly server: Server;
  /** `http://host:port`, with the port actually bound. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Starts a node:http server for `handler`. A handler that throws answers 500 instead of leaving the
 * request open; `close()` ends idle keep-alive connections too, so it returns promptly.
 */
export async function startHttpServer(
  handler: NodeRequestHandler,
  options: ListenOptions,
  logger?: Logger,
): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      logger?.error({ err: describeError(error) }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error' });
      else res.end();
    });
  });
  const host = options.host ?? WEBHOOK_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    server,
    origin,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Open streams (an SSE response, a webhook still being answered) would hold close() forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * How much of a peer's answer we read when only its status or a short acknowledgement matters: 64 KiB.
 * Whatever a peer sends beyond it is not read; the connection is closed instead.
 */
export const DEFAULT_MAX_RESPONSE_BODY_BYTES = 64 * 1024;

/**
 * Throws away a response body we do not need, bounded in bytes and in time: past `limit` bytes, or once
 * `timeoutMs` has gone by without its end, the response (and its socket) is destroyed. A body read to
 * its end leaves a keep-alive connection reusable; a peer that streams without end costs one socket for
 * at most `timeoutMs`, not forever.
 */
export function discardResponseBody(
  response: IncomingMessage,
  { limit, timeoutMs }: { limit: number; timeoutMs: number },
): void {
  let read = 0;
  const timer = setTimeout(() => response.destroy(), timeoutMs);
  timer.unref();
  const done = () => clearTimeout(timer);
  response.on('data', (chunk: Buffer | string) => {
    read += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (read > limit) response.destroy();
  });
  response.once('end', done);
  response.once('close', done);
  response.on('error', () => undefined);
}

/**
 * The text of a fetch `Response`, at most `limit` bytes of it: the rest is never read (the body is
 * cancelled), so a peer cannot make us buffer without bound. A body cut short decodes to its first
 * `limit` bytes.
 */
export async function readResponseText(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    if (size > limit) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  const bytes = Buffer.concat(chunks);
  return bytes.subarray(0, Math.min(bytes.length, limit)).toString('utf8');
}

/** A URL fit for logs: no credentials, no query (either may carry a secret). */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/**
 * A URL fit for logs that outlive a session: scheme and host only. A webhook path may be a capability —
 * the gateway's ends in a per-session secret, and whoever knows it can deliver into that session — so
 * it is left out (`/…`).
 */
export function originForLog(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '/' : '/…'}`;
  } catch {
    return '<invalid url>';
  }
}

/** A server of its own for one handler at one path; every other path gets 404. */
export function startHttpServerAt(
  path: string,
  handler: NodeRequestHandler,
  options: ListenOptions,
  logger: Logger,
): Promise<RunningHttpServer> {
  return startHttpServer(
    async (req, res) => {
      if (requestPath(req) !== path) return sendJson(res, 404, { error: 'Not found' });
      await handler(req, res);
    },
    options,
    logger,
  );
}
