import { describeError, type Logger } from '@asyncmcp/core';
import { createProxyServer, isLoopbackHost, type ProxyStdio, proxyStdio } from '@asyncmcp/proxy';
import { type BackendHandle, createBackend } from './backends.js';
import type { GatewayConfig } from './config/index.js';
import { asListenError } from './listen-error.js';

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
        ...leaseOf(config),
        signing,
      };
    case 'sqs':
      return {
        requestQueueUrl: config.requestQueueUrl,
        responseQueueUrl: config.responseQueueUrl ?? created,
        ...leaseOf(config),
        signing,
      };
  }
}

/** The lease on a response queue the gateway makes; a queue it was given has none. */
function leaseOf(config: { responseQueueUrl: string | undefined; responseQueueLeaseSeconds: number }) {
  return config.responseQueueUrl === undefined
    ? { responseQueueLeaseSeconds: config.responseQueueLeaseSeconds }
    : {};
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
    // Also tells a webhook backend where it listens, for its webhook URLs.
    ({ url } = await proxy.listen());
  } catch (error) {
    throw asListenError(config, error);
  }
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
  let session: ProxyStdio;
  try {
    // A backend that receives webhooks gets an HTTP server for its route on --host/--port.
    session = await proxyStdio({
      backend: handle.backend,
      logger,
      requestTimeoutMs: config.requestTimeoutMs,
      host: config.host,
      port: config.port,
      http: config.http,
    });
  } catch (error) {
    throw asListenError(config, error);
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= session.close().then(() => handle.close());
    return closing;
  };
  return { url: undefined, ended: session.closed.then(close), close };
}
