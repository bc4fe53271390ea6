import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Logger, ServerFactory } from '@asyncmcp/core';
import { isLoopbackHost } from '@asyncmcp/proxy';
import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import { SqsSessionManager, type SqsSessionManagerOptions } from '@asyncmcp/sqs';
import { HybridSessionManager, WebhookSessionManager } from '@asyncmcp/webhook';
import { type AwsClientFactories, createSnsSqsClients, createSqsClient } from './backends.js';
import { childEnvironment, childEnvironmentFields } from './child-environment.js';
import { GatewayConfigError } from './config/errors.js';
import type { Environment, ServeConfig, ServeHttpConfig, ServeQueueConfig } from './config/index.js';
import { ListenError } from './listen-error.js';
import { createHttpUpstreamFactory, createStdioServerFactory } from './upstream-server.js';

/**
 * `asyncmcp-proxy serve`: an existing MCP server, unchanged, on an async transport — an SQS request
 * queue (sqs), a queue subscribed to an SNS request topic with answers published to each client's
 * topic (sns-sqs), an HTTP endpoint answering on each client's webhook (webhook), or a Streamable HTTP
 * endpoint whose chosen tools answer on the webhook (hybrid). Each async session gets its own child
 * process (a stdio command) or its own upstream session (a Streamable HTTP URL), opened on
 * `initialize` and ended with the session.
 */

export interface RunningServe {
  /** webhook, hybrid: the endpoint's URL; undefined for the queue backends. */
  readonly url: string | undefined;
  /** Live sessions, each with its child process or upstream session. */
  readonly sessions: number;
  /** Stops receiving, gives running requests up to 10 s, ends every session (and child), releases the clients. */
  close(): Promise<void>;
}

export interface StartServeOptions extends AwsClientFactories {
  logger: Logger;
  /** The environment the command is looked up in and runs with. @default process.env */
  env?: Environment;
}

export async function startServe(config: ServeConfig, options: StartServeOptions): Promise<RunningServe> {
  const env = options.env ?? process.env;
  // A command that cannot run would otherwise fail every session, one initialize at a time.
  if (config.upstream.kind === 'command') assertRunnable(config.upstream.command, env);
  const createServer = upstreamFactory(config, options.logger, env);
  if (config.http !== undefined) {
    return startHttpServe(config.backend, config.http, config, createServer, options.logger);
  }
  return startQueueServe(config, createServer, options);
}

/** serve with sqs or sns-sqs: a session manager reading the request queue. */
async function startQueueServe(
  config: ServeQueueConfig,
  createServer: ServerFactory,
  options: StartServeOptions,
): Promise<RunningServe> {
  const { logger } = options;
  const { backend, requestQueueUrl } = config;
  const managerOptions = {
    requestQueueUrl,
    createServer,
    maxSessions: config.maxSessions,
    sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
    maxInFlightPerSession: config.maxInFlightPerSession,
    deadLetterQueueUrl: config.deadLetterQueueUrl,
    // Answers go only to the request queue's own endpoint and account, or to what the operator allowed.
    allowedResponseDestinations: config.allowedResponseQueues,
    // With several serve processes on the queue, a request for another's session goes back for it.
    releaseUnknownSessions: config.releaseUnknownSessions,
    inbox: config.inbox,
    aliveIntervalSeconds: config.aliveIntervalSeconds,
    stateless: config.stateless,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    // Signs every message and refuses requests not signed with the secret (injected ones).
    signingSecret: config.signingSecret,
    // Logs "session opened" and "session closed" (with the session id) itself.
    logger,
  } satisfies Omit<SqsSessionManagerOptions, 'sqsClient'>;
  // sqs answers on each client's response queue; sns-sqs publishes to each client's response topic.
  let manager: SqsSessionManager;
  let destroyClients: () => void;
  if (backend === 'sns-sqs') {
    const { sqsClient, snsClient, destroy } = await createSnsSqsClients(config, options);
    destroyClients = destroy;
    manager = guarded(
      () => new SnsSqsSessionManager({ ...managerOptions, sqsClient, snsClient }),
      destroyClients,
    );
  } else {
    const sqsClient = await createSqsClient(config, options.createSqsClient);
    destroyClients = () => sqsClient.destroy();
    // Only straight to SQS does SenderId name the client: through SNS every sender is SNS.
    const bindSessionsToSender = config.bindSessionsToSender;
    manager = guarded(
      () => new SqsSessionManager({ ...managerOptions, sqsClient, bindSessionsToSender }),
      destroyClients,
    );
  }
  try {
    await manager.start();
  } catch (error) {
    destroyClients();
    throw error;
  }
  logger.info(
    {
      backend,
      requestQueueUrl,
      ...upstreamFields(config),
      maxSessions: config.maxSessions,
      sessionIdleTimeoutSeconds: config.sessionIdleTimeoutMs / 1000,
      requestTimeoutSeconds: config.requestTimeoutMs / 1000,
      deadLetterQueueUrl: config.deadLetterQueueUrl,
      allowedResponseQueues: config.allowedResponseQueues ?? '(none)',
      releaseUnknownSessions: config.releaseUnknownSessions,
      inboxQueueUrl: manager.inboxQueueUrl,
      stateless: config.stateless,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      signing: config.signingSecret === undefined ? 'off' : 'on',
      bindSessionsToSender: config.bindSessionsToSender,
      configFile: config.configFile,
    },
    'serving',
  );

  let closing: Promise<void> | undefined;
  return {
    url: undefined,
    get sessions() {
      return manager.sessions.size;
    },
    close() {
      closing ??= (async () => {
        const sessions = manager.sessions.size;
        try {
          await manager.close();
        } finally {
          destroyClients();
        }
        logger.info({ sessions }, 'serve stopped');
      })();
      return closing;
    },
  };
}

/** The server of each session: a child process running the command, or a session on the upstream URL. */
function upstreamFactory(config: ServeConfig, logger: Logger, env: Environment): ServerFactory {
  const upstreamOptions = { requestTimeoutMs: config.requestTimeoutMs, logger };
  return config.upstream.kind === 'command'
    ? createStdioServerFactory(
        {
          command: config.upstream.command,
          args: config.upstream.args,
          // A minimal environment plus what --env names (or all of it with --pass-environment): the
          // child never sees serve's own secrets unless told to. The directory is this one.
          env: childEnvironment(config.childEnvironment, env),
          stderr: 'inherit',
        },
        upstreamOptions,
      )
    : createHttpUpstreamFactory(config.upstream.url, {
        ...upstreamOptions,
        headers: config.upstream.headers,
      });
}

/** What the `serving` log line says about the server being served (header names only: values are secrets). */
function upstreamFields(config: ServeConfig): Record<string, unknown> {
  return config.upstream.kind === 'command'
    ? {
        command: config.upstream.command,
        args: config.upstream.args,
        ...childEnvironmentFields(config.childEnvironment),
      }
    : { upstreamUrl: config.upstream.url, upstreamHeaders: Object.keys(config.upstream.headers) };
}

/**
 * serve with webhook or hybrid: a session manager on an HTTP server of its own. The SSRF guard on the
 * webhooks clients name is the manager's; `--allow-private-networks` and `--allowed-webhook-host` set it.
 */
async function startHttpServe(
  backend: 'webhook' | 'hybrid',
  http: ServeHttpConfig,
  config: ServeConfig,
  createServer: ServerFactory,
  logger: Logger,
): Promise<RunningServe> {
  const common = {
    createServer,
    path: http.path,
    signingSecret: config.signingSecret,
    allowPrivateNetworks: http.allowPrivateNetworks,
    allowedWebhookHosts: http.allowedWebhookHosts,
    maxSessions: config.maxSessions,
    sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
    logger,
  };
  const manager =
    backend === 'webhook'
      ? new WebhookSessionManager({ ...common, maxInFlightPerSession: config.maxInFlightPerSession })
      : new HybridSessionManager({ ...common, webhookTools: http.webhookTools ?? [] });
  let url: string;
  try {
    url = await manager.listen({ port: http.port, host: http.host });
  } catch (error) {
    await manager.close().catch(() => undefined);
    throw new ListenError(http, error);
  }
  logger.info(
    {
      backend,
      url,
      ...upstreamFields(config),
      signing: config.signingSecret === undefined ? 'off' : 'on',
      allowPrivateNetworks: http.allowPrivateNetworks,
      allowedWebhookHosts: http.allowedWebhookHosts ?? '(any)',
      ...(http.webhookTools === undefined ? {} : { webhookTools: http.webhookTools }),
      maxSessions: config.maxSessions,
      sessionIdleTimeoutSeconds: config.sessionIdleTimeoutMs / 1000,
      requestTimeoutSeconds: config.requestTimeoutMs / 1000,
      configFile: config.configFile,
    },
    'serving',
  );
  if (!isLoopbackHost(http.host)) {
    if (backend === 'hybrid') {
      logger.warn(
        { host: http.host },
        'the hybrid endpoint takes Streamable HTTP requests from anyone who can reach it: put it behind an authenticating proxy',
      );
    } else if (config.signingSecret === undefined) {
      logger.warn(
        { host: http.host },
        'serving on the network without --signing-secret: anyone who can reach the endpoint can use the server',
      );
    }
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    get sessions() {
      return manager.sessions.size;
    },
    close() {
      closing ??= (async () => {
        const sessions = manager.sessions.size;
        await manager.close();
        logger.info({ sessions }, 'serve stopped');
      })();
      return closing;
    },
  };
}

/** What `make` returns; if it throws, `release` runs first (the clients it was to own). */
function guarded<T>(make: () => T, release: () => void): T {
  try {
    return make();
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Refuses, with a configuration error, a command that names no executable file: a path that does not
 * exist or cannot be executed, or a name found in no directory of PATH. (Windows resolves names with
 * PATHEXT; there the spawn itself reports it.)
 */
export function assertRunnable(command: string, env: Environment = process.env): void {
  if (process.platform === 'win32') return;
  const hint = 'check the command after -- (or command in the config file)';
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(command);
    if (!isFile(path)) {
      throw new GatewayConfigError('command-not-runnable', `cannot run "${command}": no such file; ${hint}`);
    }
    if (!isExecutable(path)) {
      throw new GatewayConfigError(
        'command-not-runnable',
        `cannot run "${command}": the file is not executable; chmod +x it, or run it through its interpreter (node ${command})`,
      );
    }
    return;
  }
  const directories = (env.PATH ?? '').split(delimiter).map((directory) => directory || '.');
  if (
    directories.some(
      (directory) => isFile(join(directory, command)) && isExecutable(join(directory, command)),
    )
  )
    return;
  throw new GatewayConfigError('command-not-runnable', `cannot run "${command}": not found on PATH; ${hint}`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
