import type { Server as HttpServer } from 'node:http';
import { ConfigurationError, describeError } from '@asyncmcp/core';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import express, { type RequestHandler } from 'express';
import { createDefaultLogger } from './default-logger.js';
import { GatewaySessions } from './gateway-sessions.js';
import { createLimitedHttpServer, resolveHttpLimits } from './http-limits.js';
import { announceListening, listenOn } from './listen-http.js';
import { mountMcpEndpoint } from './mcp-endpoint.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';
import { ProxyMetrics } from './proxy-metrics.js';
import type { ProxyServer, ProxyServerOptions } from './proxy-server-options.js';
import { bearerAuth, isLoopbackHost } from './security.js';

/**
 * The asyncmcp gateway: a standard MCP Streamable HTTP endpoint (the SDK's own transport, so POST/GET/
 * DELETE, SSE, sessions, protocol versions and resumption behave as every client expects) whose
 * sessions are each bridged to a transport from `backend`.
 */
export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const host = options.host ?? PROXY_DEFAULTS.host;
  const path = options.path ?? PROXY_DEFAULTS.path;
  if (!path.startsWith('/')) throw new ConfigurationError(`path must start with "/", got "${path}"`);
  if (options.authToken !== undefined && options.authToken.length < 8) {
    throw new ConfigurationError('authToken must be at least 8 characters');
  }
  const httpLimits = resolveHttpLimits(options.http);
  const logger = options.logger ?? createDefaultLogger();
  const backend = options.backend;
  const metrics = new ProxyMetrics(backend);
  const loopback = isLoopbackHost(host);
  const sessions = new GatewaySessions(options, metrics, logger);

  const app = express();
  app.disable('x-powered-by');

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', sessions: sessions.size });
  });
  app.get('/ready', async (_req, res) => {
    try {
      await backend.checkReady?.();
      res.json({ status: 'ready', backend: backend.name });
    } catch (error) {
      res.status(503).json({ status: 'unavailable', backend: backend.name, error: describeError(error) });
    }
  });
  const metricsGuard: RequestHandler[] =
    options.authToken !== undefined && !(options.publicMetrics ?? PROXY_DEFAULTS.publicMetrics)
      ? [bearerAuth(options.authToken)]
      : [];
  app.get('/metrics', ...metricsGuard, async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // A backend that receives over HTTP (webhooks) gets its route here: called by servers, not browsers,
  // so outside the Host/Origin/token checks below, and unparsed, since a signature covers the raw body.
  const route = backend.httpRoute;
  if (route) {
    app.use(route.path, (req, res, next) => {
      Promise.resolve(route.handle(req, res)).catch(next);
    });
  }

  // Probes and scrapes come from orchestrators by IP, so they sit before the Host check, which guards
  // the MCP endpoint (the only route a DNS-rebinding page could abuse).
  const allowedHosts = options.allowedHosts ?? (loopback ? ['localhost', '127.0.0.1', '[::1]'] : undefined);
  if (allowedHosts) app.use(hostHeaderValidation(allowedHosts));
  mountMcpEndpoint(app, { options, path, loopback, sessions, metrics, logger });

  let server: HttpServer | undefined;

  return {
    app,
    metrics,
    sessionIds: () => sessions.ids(),
    async listen() {
      const listening = createLimitedHttpServer(app, httpLimits);
      server = listening;
      const bound = await listenOn(listening, host, options.port ?? PROXY_DEFAULTS.port);
      try {
        await announceListening(backend, bound);
      } catch (error) {
        listening.close();
        listening.closeAllConnections();
        throw error;
      }
      const url = `${bound.boundOrigin}${path}`;
      logger.info({ url, backend: backend.name }, 'gateway listening');
      return { url, port: bound.port };
    },
    async close() {
      if (sessions.closing) return;
      sessions.closing = true;
      server?.close();
      const all = sessions.all();
      const drained = Promise.allSettled(all.map((session) => session.bridge.whenIdle()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        drained,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.shutdownTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
      await Promise.allSettled(
        all.map((session) => sessions.end(session, 'shutdown', 'the gateway shut down')),
      );
      sessions.dispose();
      await backend.close();
      server?.closeAllConnections();
      logger.info({}, 'gateway stopped');
    },
  };
}
