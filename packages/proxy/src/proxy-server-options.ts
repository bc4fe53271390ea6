import type { Backend, Clock, Logger } from '@asyncmcp/core';
import type { Express } from 'express';
import type { ProxyHttpLimits } from './http-limits.js';
import type { ProxyMetrics } from './proxy-metrics.js';

export interface ProxyServerOptions {
  /** Where sessions are forwarded: any asyncmcp backend (`sqsBackend(...)`, …). Closed by `close()`. */
  backend: Backend;
  /** Interface to bind. Anything but loopback exposes the gateway to the network. @default '127.0.0.1' */
  host?: string;
  /** @default 8080 (0 picks a free port) */
  port?: number;
  /** The MCP endpoint. @default '/mcp' */
  path?: string;
  /** When set, MCP requests (and `/metrics`, unless `publicMetrics`) need `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /**
   * Serve `/metrics` without the bearer token even when `authToken` is set, for a scraper that cannot
   * send one. Off by default: metrics tell how the gateway is used (sessions, methods, errors), which is
   * no business of whoever can merely reach the port. @default PROXY_DEFAULTS.publicMetrics (false)
   */
  publicMetrics?: boolean;
  /** Accepted `Host` header names. @default loopback names when bound to loopback, any otherwise */
  allowedHosts?: string[];
  /** Accepted `Origin` headers. @default loopback origins when bound to loopback, none otherwise */
  allowedOrigins?: string[];
  /** Browser origins allowed by CORS (they are also accepted as origins). @default none */
  corsOrigins?: string[];
  /** Most live sessions; a new one beyond it gets 503. @default PROXY_DEFAULTS.maxSessions (1000) */
  maxSessions?: number;
  /**
   * Sessions with no traffic and nothing running for this long are closed.
   * @default PROXY_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  sessionIdleTimeoutMs?: number;
  /**
   * Most requests of one session waiting for the backend at once; beyond it a request gets a JSON-RPC
   * error at once, so one client cannot pile work on the backend. @default PROXY_DEFAULTS.maxInFlightPerSession (32)
   */
  maxInFlightPerSession?: number;
  /**
   * What the resumption store keeps (`Last-Event-ID`), oldest dropped first: `maxEvents` and `maxBytes`
   * per session, `maxTotalBytes` for all sessions together. @default PROXY_DEFAULTS.eventStore
   */
  eventStore?: { maxEvents?: number; maxBytes?: number; maxTotalBytes?: number };
  /** The HTTP server's timeouts and connection cap. @default PROXY_DEFAULTS.http */
  http?: ProxyHttpLimits;
  /** A request the backend does not answer in this time gets a JSON-RPC error. @default PROXY_DEFAULTS.requestTimeoutMs (300000, 5 min) */
  requestTimeoutMs?: number;
  /**
   * Time source of idle eviction and request timeouts. Tests pass a clock they move themselves
   * (`ManualClock` from `@asyncmcp/core/testing`). @default systemClock
   */
  clock?: Clock;
  /** Largest accepted JSON body. @default '4mb' */
  maxBodySize?: string | number;
  /** How long `close()` lets running requests finish. @default 10000 */
  shutdownTimeoutMs?: number;
  /**
   * Answer each POST with one JSON body instead of an SSE stream: less work per call for clients and
   * gateway, but a call's answer cannot be resumed after a lost connection, and a server's progress, log
   * and sampling/elicitation messages during a call reach the client only on the session's GET stream.
   * SDK clients open that stream after initializing; a client without one misses those messages (they
   * wait in the event store for a GET that resumes), and a call waiting on a server request then ends
   * only with `requestTimeoutMs`. @default false
   */
  enableJsonResponse?: boolean;
  /** Structured logger (pino or compatible). @default JSON lines on stdout */
  logger?: Logger;
}

export interface ProxyServer {
  /**
   * The Express app: add routes before `listen()`, or mount it on a server of your own instead of
   * calling `listen()` — then tell the backend where that server listens (`backend.listening?.(…)`),
   * as `listen()` would.
   */
  readonly app: Express;
  readonly metrics: ProxyMetrics;
  /** Live session ids. */
  readonly sessionIds: () => string[];
  /**
   * Binds the HTTP server, then tells the backend where it listens (`Backend.listening`). Rejects with a
   * `ListenError` when the address cannot be bound, or with the backend's reason when it refuses.
   */
  listen(): Promise<{ url: string; port: number }>;
  /**
   * Stops accepting, lets running requests finish (up to `shutdownTimeoutMs`), then closes sessions (a call
   * still running gets a JSON-RPC error) and the backend.
   */
  close(): Promise<void>;
}
