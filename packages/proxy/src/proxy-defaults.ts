import { SESSION_DEFAULTS } from '@asyncmcp/core';

/**
 * The gateway's limits, in one place: `createProxyServer`'s options document these values with
 * `@default`, and `asyncmcp-proxy` reads them from here for its settings. Every one is finite, so a
 * client (careless or hostile) cannot hold memory, sockets or sessions without bound.
 */
export const PROXY_DEFAULTS = {
  /** The interface the gateway binds: loopback, so nothing is exposed by accident. */
  host: '127.0.0.1',
  /** The HTTP port (0 picks a free one). */
  port: 8080,
  /** The MCP endpoint's path. */
  path: '/mcp',
  maxSessions: SESSION_DEFAULTS.maxSessions,
  sessionIdleTimeoutMs: SESSION_DEFAULTS.sessionIdleTimeoutMs,
  /** Most requests one gateway session may have waiting for the backend at once. */
  maxInFlightPerSession: SESSION_DEFAULTS.maxInFlightPerSession,
  /**
   * Whether `/metrics` is served without the bearer token when one is set. Off: metrics tell who is
   * using the gateway how much (sessions, methods, errors), which is the token holders' business.
   */
  publicMetrics: false,
  /** A request the backend (or an upstream server) does not answer in this time gets a JSON-RPC error. */
  requestTimeoutMs: 300_000,
  /**
   * How long a request for a session another instance opened waits for the servers to say whether they
   * hold it (one `ping`) before it gets 503; no longer than the request timeout.
   */
  adoptTimeoutMs: 15_000,
  /** What the resumption store keeps of each session's streams (see `BoundedEventStore`). */
  eventStore: {
    maxEvents: 1_000,
    /** 4 MiB per session. */
    maxBytesPerSession: 4 * 1024 * 1024,
    /** 64 MiB for all the gateway's sessions together. */
    maxTotalBytes: 64 * 1024 * 1024,
  },
  /** The HTTP server's own limits (see `ProxyHttpLimits`). */
  http: {
    /** A client must send its request headers within this time. */
    headersTimeoutMs: 20_000,
    /** …and its whole request (headers and body) within this time; responses (SSE streams) are not limited. */
    requestTimeoutMs: 60_000,
    /** An idle keep-alive connection is closed after this long. */
    keepAliveTimeoutMs: 5_000,
    /** Most open connections; more are closed at once. Each session holds one or two (POST, GET stream). */
    maxConnections: 2_048,
  },
} as const;

/**
 * What a server put on a transport through child processes or an upstream (`asyncmcp-proxy serve`)
 * starts from: fewer sessions than a gateway, since each one is a process or an upstream session.
 */
export const SERVE_DEFAULTS = {
  maxSessions: 100,
} as const;
