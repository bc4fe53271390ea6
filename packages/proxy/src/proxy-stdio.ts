import type { Readable, Writable } from 'node:stream';
import { type Backend, generateSessionId, type Logger, sessionLogId } from '@asyncmcp/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type BackendRouteServer, serveBackendRoute } from './backend-route-server.js';
import { childLogger, createDefaultLogger } from './default-logger.js';
import type { ProxyHttpLimits } from './http-limits.js';
import { announceListening } from './listen-http.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';
import { SessionBridge } from './session-bridge.js';

export interface ProxyStdioOptions {
  backend: Backend;
  /** @default PROXY_DEFAULTS.requestTimeoutMs (300000) */
  requestTimeoutMs?: number;
  /**
   * Where the HTTP server for the backend's `httpRoute` (webhook deliveries) binds, for a backend that
   * has one; no other backend gets an HTTP server in stdio mode. @default PROXY_DEFAULTS.host ('127.0.0.1')
   */
  host?: string;
  /** The port of that server (0 picks a free one). @default PROXY_DEFAULTS.port (8080) */
  port?: number;
  /** That server's timeouts and connection cap. @default PROXY_DEFAULTS.http */
  http?: ProxyHttpLimits;
  /** @default JSON lines on stderr (stdout carries the protocol) */
  logger?: Logger;
  /** @default process.stdin */
  stdin?: Readable;
  /** @default process.stdout */
  stdout?: Writable;
}

export interface ProxyStdio {
  readonly sessionKey: string;
  /** Where the backend's route is served (`http://host:port`), when the backend has one. */
  readonly routeOrigin: string | undefined;
  /** Resolves once either side has ended and the backend (and the route's server) has been closed. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * The gateway with stdio in front: one session on stdin/stdout, so a desktop client can launch the
 * gateway as a local MCP server. A backend with an `httpRoute` gets an HTTP server for it on
 * `host`:`port`, and learns its address through `listening`, before the session opens. Resolves once
 * running; a port that cannot be bound rejects with a `ListenError`.
 */
export async function proxyStdio(options: ProxyStdioOptions): Promise<ProxyStdio> {
  const { backend } = options;
  const logger = options.logger ?? createDefaultLogger({ destination: 'stderr' });
  const route = backend.httpRoute;
  const routeServer =
    route === undefined
      ? undefined
      : await serveBackendRoute(route, {
          host: options.host ?? PROXY_DEFAULTS.host,
          port: options.port ?? PROXY_DEFAULTS.port,
          http: options.http,
        });
  try {
    if (routeServer) await announceListening(backend, routeServer);
    return await startSession(options, logger, routeServer);
  } catch (error) {
    await routeServer?.close();
    throw error;
  }
}

async function startSession(
  options: ProxyStdioOptions,
  logger: Logger,
  routeServer: BackendRouteServer | undefined,
): Promise<ProxyStdio> {
  const { backend } = options;
  const sessionKey = generateSessionId('hex');
  const log = childLogger(logger, { sessionId: sessionLogId(sessionKey) });
  const back = await backend.createTransport({ sessionKey, logger: log });
  const front = new StdioServerTransport(options.stdin, options.stdout);
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const bridge = new SessionBridge({
    front,
    back,
    requestTimeoutMs: options.requestTimeoutMs,
    logger: log,
    // The backend exists for this one session: release it (and any queue it created) with the session,
    // then the server that carried its route.
    onclose: () => {
      void backend
        .close()
        .catch(() => undefined)
        .then(() => routeServer?.close())
        .finally(markClosed);
    },
  });
  await bridge.start();
  // stdin ending is the client going away.
  (options.stdin ?? process.stdin).once('end', () => void bridge.close());
  log.info({ backend: backend.name }, 'stdio session started');
  return {
    sessionKey,
    routeOrigin: routeServer?.boundOrigin,
    closed,
    async close() {
      await bridge.close();
      await closed;
    },
  };
}
