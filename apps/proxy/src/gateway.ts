import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BackendHttpRoute, describeError, type Logger } from '@asyncmcp/core';
import { createLimitedHttpServer, createProxyServer, isLoopbackHost, proxyStdio } from '@asyncmcp/proxy';
import { type BackendHandle, createBackend } from './backends.js';
import type { GatewayConfig } from './config/index.js';

export interface RunningGateway {
  /** The MCP endpoint; undefined in stdio mode. */
  readonly url: string | undefined;
  /** Resolves when the gateway ended on its own (stdio: the client went away). */
  readonly ended: Promise<void>;
  /** Stops accepting, lets running requests finish, closes sessions, the backend and its clients. */
  close(): Promise<void>;
}

/** Starts the gateway the configuration describes: Streamable HTTP, or one session on stdio. */
export async function startGateway(
  config: GatewayConfig,
  { logger }: { logger: Logger },
): Promise<RunningGateway> {
  // First, so a configuration the backend refuses (no region …) fails before anything is logged.
  const handle = await createBackend(config, { logger });
  logger.info(
    {
      backend: config.backend,
      ...backendFields(config),
      mode: config.stdio ? 'stdio' : 'http',
      configFile: config.configFile,
      auth: config.authToken === undefined ? 'none' : 'bearer token',
    },
    'starting the gateway',
  );
  try {
    return config.stdio ? await startStdio(config, handle, logger) : await startHttp(config, handle, logger);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** What the start-up log says about the backend; never the signing secret. */
function backendFields(config: GatewayConfig): Record<string, unknown> {
  const created = '(created on first session)';
  const signing = config.signingSecret === undefined ? 'off' : 'on';
  switch (config.backend) {
    case 'webhook':
    case 'hybrid':
      return {
        serverUrl: redactUrl(config.serverUrl),
        webhookBaseUrl: config.webhookBaseUrl ?? '(the listening address)',
        webhookPath: config.webhookPath,
        signing,
      };
    case 'sns-sqs':
      return {
        requestTopicArn: config.requestTopicArn,
        responseTopicArn: config.responseTopicArn ?? created,
        responseQueueUrl: config.responseQueueUrl ?? created,
        signing,
      };
    case 'sqs':
      return {
        requestQueueUrl: config.requestQueueUrl,
        responseQueueUrl: config.responseQueueUrl ?? created,
        signing,
      };
  }
}

/** A URL fit for logs: no credentials, no query (either may carry a secret). */
function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Completes a webhook backend with the address now listening, and says where webhooks are received. */
function announceWebhooks(handle: BackendHandle, origin: string, logger: Logger): void {
  const route = handle.backend.httpRoute;
  if (handle.listening === undefined || route === undefined) return;
  handle.listening(origin);
  logger.info(
    { backend: handle.backend.name, webhookUrl: `${handle.webhookBaseUrl}${route.path}/<session>` },
    'receiving webhooks',
  );
}

async function startHttp(
  config: GatewayConfig,
  handle: BackendHandle,
  logger: Logger,
): Promise<RunningGateway> {
  const proxy = createProxyServer({
    backend: handle.backend,
    host: config.host,
    port: config.port,
    path: config.path,
    authToken: config.authToken,
    corsOrigins: config.corsOrigins,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    maxSessions: config.maxSessions,
    sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    enableJsonResponse: config.jsonResponse,
    maxInFlightPerSession: config.maxInFlightPerSession,
    publicMetrics: config.publicMetrics,
    http: config.http,
    logger,
  });
  let url: string;
  try {
    ({ url } = await proxy.listen());
  } catch (error) {
    throw new ListenError(config, error);
  }
  announceWebhooks(handle, new URL(url).origin, logger);
  if (!isLoopbackHost(config.host) && config.authToken === undefined) {
    // Only with --insecure-no-auth: the configuration refuses it otherwise.
    logger.warn(
      { host: config.host },
      'the gateway is reachable from the network without --auth-token (--insecure-no-auth): anyone who can reach it can use it',
    );
  }
  // Not fatal: the server may come up later, and /ready reports 503 until it does.
  handle.backend.checkReady?.().then(
    () => logger.info({ backend: handle.backend.name }, 'backend ready'),
    (error: unknown) =>
      logger.warn({ backend: handle.backend.name, err: describeError(error) }, 'backend not ready yet'),
  );
  return {
    url,
    ended: new Promise<void>(() => {}),
    async close() {
      await proxy.close();
      await handle.close();
    },
  };
}

async function startStdio(
  config: GatewayConfig,
  handle: BackendHandle,
  logger: Logger,
): Promise<RunningGateway> {
  // stdio has no HTTP server of its own: a backend that receives webhooks gets one on --host/--port.
  const route = handle.backend.httpRoute;
  const receiver = route === undefined ? undefined : await listenForRoute(route, config);
  let session: Awaited<ReturnType<typeof proxyStdio>>;
  try {
    if (receiver) announceWebhooks(handle, receiver.origin, logger);
    session = await proxyStdio({
      backend: handle.backend,
      logger,
      requestTimeoutMs: config.requestTimeoutMs,
    });
  } catch (error) {
    await receiver?.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= session
      .close()
      .then(() => handle.close())
      .finally(() => receiver?.close());
    return closing;
  };
  return { url: undefined, ended: session.closed.then(close), close };
}

/** An HTTP server for a backend's route alone (stdio mode); everything else gets 404. */
async function listenForRoute(
  route: BackendHttpRoute,
  config: Pick<GatewayConfig, 'host' | 'port' | 'http'>,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createLimitedHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path !== route.path && !path.startsWith(`${route.path}/`)) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    Promise.resolve(route.handle(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end();
    });
  }, config.http);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new ListenError(config, error);
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The HTTP port could not be bound; the message says which and what to do. */
export class ListenError extends Error {
  constructor(config: Pick<GatewayConfig, 'host' | 'port'>, cause: unknown) {
    const code = (cause as { code?: unknown }).code;
    const where = `${config.host}:${config.port}`;
    const message =
      code === 'EADDRINUSE'
        ? `cannot listen on ${where}: the port is in use; pass another --port (0 picks a free one)`
        : code === 'EACCES'
          ? `cannot listen on ${where}: permission denied; use a port above 1023`
          : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
            ? `cannot listen on ${where}: no such interface on this machine; check --host`
            : `cannot listen on ${where}: ${describeError(cause)}`;
    super(message, { cause });
    this.name = 'ListenError';
  }
}
