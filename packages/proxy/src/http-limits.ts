import { createServer, type RequestListener, type Server } from 'node:http';
import { ConfigurationError } from '@asyncmcp/core';
import { PROXY_DEFAULTS } from './proxy-defaults.js';

/**
 * The limits of the gateway's HTTP server, explicit rather than Node's defaults, so a client that opens
 * connections and sends nothing (or sends slowly) cannot hold sockets for long or exhaust them.
 */
export interface ProxyHttpLimits {
  /** A client must send its request headers within this time. @default PROXY_DEFAULTS.http.headersTimeoutMs (20000) */
  headersTimeoutMs?: number;
  /**
   * A client must send its whole request (headers and body) within this time; the response (an SSE
   * stream) is not limited by it. @default PROXY_DEFAULTS.http.requestTimeoutMs (60000)
   */
  requestTimeoutMs?: number;
  /**
   * An idle keep-alive connection is closed after this long. Behind a load balancer, make it longer than
   * the balancer's own idle timeout. @default PROXY_DEFAULTS.http.keepAliveTimeoutMs (5000)
   */
  keepAliveTimeoutMs?: number;
  /** Most open connections; a connection beyond it is closed at once. @default PROXY_DEFAULTS.http.maxConnections (2048) */
  maxConnections?: number;
}

/** The limits with every default filled in, checked. */
export function resolveHttpLimits(limits: ProxyHttpLimits = {}): Required<ProxyHttpLimits> {
  const resolved = {
    headersTimeoutMs: limits.headersTimeoutMs ?? PROXY_DEFAULTS.http.headersTimeoutMs,
    requestTimeoutMs: limits.requestTimeoutMs ?? PROXY_DEFAULTS.http.requestTimeoutMs,
    keepAliveTimeoutMs: limits.keepAliveTimeoutMs ?? PROXY_DEFAULTS.http.keepAliveTimeoutMs,
    maxConnections: limits.maxConnections ?? PROXY_DEFAULTS.http.maxConnections,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigurationError(`http.${name} must be a positive whole number, got ${value}`);
    }
  }
  // Node refuses a headers timeout longer than the request timeout: the headers are part of the request.
  if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    throw new ConfigurationError(
      `http.headersTimeoutMs (${resolved.headersTimeoutMs}) must not be longer than http.requestTimeoutMs (${resolved.requestTimeoutMs})`,
    );
  }
  return resolved;
}

/** An HTTP server for `handler` with `limits` applied. */
export function createLimitedHttpServer(handler: RequestListener, limits: ProxyHttpLimits = {}): Server {
  const resolved = resolveHttpLimits(limits);
  const server = createServer(
    {
      headersTimeout: resolved.headersTimeoutMs,
      requestTimeout: resolved.requestTimeoutMs,
      keepAliveTimeout: resolved.keepAliveTimeoutMs,
      // Node checks the two timeouts only this often (30 s by default): a quarter of the shorter one
      // enforces them within a quarter of their length.
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(30_000, Math.floor(Math.min(resolved.headersTimeoutMs, resolved.requestTimeoutMs) / 4)),
      ),
    },
    handler,
  );
  server.maxConnections = resolved.maxConnections;
  return server;
}
