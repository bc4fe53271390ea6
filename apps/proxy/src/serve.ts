import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Logger, ServerFactory } from '@asyncmcp/core';
import { createHttpUpstreamFactory, createStdioServerFactory } from '@asyncmcp/proxy';
import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import { SqsSessionManager, type SqsSessionManagerOptions } from '@asyncmcp/sqs';
import {
  type AwsClientFactories,
  assertBackendAvailable,
  createSnsSqsClients,
  createSqsClient,
} from './backends.js';
import {
  type Environment,
  GatewayConfigError,
  missingRequestQueueUrlError,
  type ServeConfig,
} from './config.js';

/**
 * `asyncmcp-proxy serve`: an existing MCP server, unchanged, on an async transport — an SQS request
 * queue (sqs), or a queue subscribed to an SNS request topic with answers published to each client's
 * topic (sns-sqs). Each async session gets its own child process (a stdio command) or its own upstream
 * session (a Streamable HTTP URL), opened on `initialize` and ended with the session.
 */

export interface RunningServe {
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
  const { logger } = options;
  const env = options.env ?? process.env;
  const backend = config.backend;
  assertBackendAvailable(backend);
  if (config.requestQueueUrl === undefined) throw missingRequestQueueUrlError(backend);
  const requestQueueUrl = config.requestQueueUrl;
  // A command that cannot run would otherwise fail every session, one initialize at a time.
  if (config.upstream.kind === 'command') assertRunnable(config.upstream.command, env);

  const upstreamOptions = { requestTimeoutMs: config.requestTimeoutMs, logger };
  const createServer: ServerFactory =
    config.upstream.kind === 'command'
      ? createStdioServerFactory(
          {
            command: config.upstream.command,
            args: config.upstream.args,
            // The server runs as it would from this shell: the whole environment, this directory.
            env: definedOnly(env),
            stderr: 'inherit',
          },
          upstreamOptions,
        )
      : createHttpUpstreamFactory(config.upstream.url, {
          ...upstreamOptions,
          headers: config.upstream.headers,
        });

  const managerOptions = {
    requestQueueUrl,
    createServer,
    maxSessions: config.maxSessions,
    sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
    deadLetterQueueUrl: config.deadLetterQueueUrl,
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
    manager = guarded(() => new SqsSessionManager({ ...managerOptions, sqsClient }), destroyClients);
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
      ...(config.upstream.kind === 'command'
        ? { command: config.upstream.command, args: config.upstream.args }
        : // Header values are often credentials: names only.
          { upstreamUrl: config.upstream.url, upstreamHeaders: Object.keys(config.upstream.headers) }),
      maxSessions: config.maxSessions,
      sessionIdleTimeoutSeconds: config.sessionIdleTimeoutMs / 1000,
      requestTimeoutSeconds: config.requestTimeoutMs / 1000,
      deadLetterQueueUrl: config.deadLetterQueueUrl,
      configFile: config.configFile,
    },
    'serving',
  );

  let closing: Promise<void> | undefined;
  return {
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

function definedOnly(env: Environment): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) defined[name] = value;
  return defined;
}
