import http from 'node:http';
import https from 'node:https';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { readResponseText } from './webhook-http.js';

/** One request of a webhook client transport to its server: every one is bounded in time and in what it reads. */
export interface ServerExchangeRequest {
  method: 'POST' | 'DELETE' | 'OPTIONS';
  headers: Readonly<Record<string, string>>;
  body?: string;
  /** The whole exchange, answer read included. */
  timeoutMs: number;
  /** Most bytes of the answer read; the rest is never read. */
  maxAnswerBytes: number;
  signal?: AbortSignal;
}

/** The server's answer: its status, a header, and a bounded prefix of its body. */
export interface ServerAnswer {
  status: number;
  header(name: string): string | undefined;
  text: string;
}

/** A 2xx status, as `Response.ok` says. */
export function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Sends a request to the server and reads its answer. Redirects are never followed. */
export type ServerExchange = (url: URL, request: ServerExchangeRequest) => Promise<ServerAnswer>;

/**
 * The exchange with `fetch` when one is given (a proxy, a test double, a runtime without `node:http`),
 * else with Node's own HTTP client on its shared keep-alive agent: the same request and checks, at about
 * a fifth of `fetch`'s CPU per request (bench/README.md), which a gateway pays on every message.
 */
export function serverExchange(fetch: FetchLike | undefined): ServerExchange {
  return fetch === undefined ? nodeHttpExchange : fetchExchange(fetch);
}

function fetchExchange(fetch: FetchLike): ServerExchange {
  return async (url, request) => {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: request.signal ? AbortSignal.any([timeout, request.signal]) : timeout,
    });
    const text = await readResponseText(response, request.maxAnswerBytes);
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      text,
    };
  };
}

const nodeHttpExchange: ServerExchange = (url, request) =>
  new Promise((resolve, reject) => {
    const { body, maxAnswerBytes } = request;
    const headers: Record<string, string> = { ...request.headers };
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const client = url.protocol === 'https:' ? https : http;
    const exchange = client.request(
      url,
      { method: request.method, headers, signal: request.signal },
      (answer) => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on('data', (chunk: Buffer) => {
          if (size > maxAnswerBytes) return;
          chunks.push(chunk);
          size += chunk.length;
          // Past the bound nothing more is read: the connection is dropped rather than drained.
          if (size > maxAnswerBytes) answer.destroy();
        });
        const settle = () => {
          clearTimeout(timer);
          const bytes = Buffer.concat(chunks);
          resolve({
            status: answer.statusCode ?? 0,
            header: (name) => {
              const value = answer.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            text: bytes.subarray(0, Math.min(bytes.length, maxAnswerBytes)).toString('utf8'),
          });
        };
        answer.once('end', settle);
        answer.once('close', () => (size > maxAnswerBytes ? settle() : undefined));
        answer.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(
      () => exchange.destroy(new Error(`no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    exchange.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    exchange.end(body);
  });
