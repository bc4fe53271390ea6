import { describeError, type Logger } from '@asyncmcp/core';
import { createProxyServer, isLoopbackHost, proxyStdio } from '@asyncmcp/proxy';
import { type BackendHandle, createBackend } from './backends.js';
import type { GatewayConfig } from './config.js';

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
  const created = '(created on first session)';
  logger.info(
    {
      backend: config.backend,
      ...(config.backend === 'sns-sqs'
        ? {
            requestTopicArn: config.requestTopicArn,
            responseTopicArn: config.responseTopicArn ?? created,
            responseQueueUrl: config.responseQueueUrl ?? created,
          }
        : { requestQueueUrl: config.requestQueueUrl, responseQueueUrl: config.responseQueueUrl ?? created }),
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
    logger,
  });
  let url: string;
  try {
    ({ url } = await proxy.listen());
  } catch (error) {
    throw new ListenError(config, error);
  }
  if (!isLoopbackHost(config.host) && config.authToken === undefined) {
    logger.warn(
      { host: config.host },
      'the gateway is reachable from the network without --auth-token: anyone who can reach it can use it',
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
  const session = await proxyStdio({
    backend: handle.backend,
    logger,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= session.close().then(() => handle.close());
    return closing;
  };
  return { url: undefined, ended: session.closed.then(close), close };
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
