import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUE_DEFAULTS, silentLogger } from '@asyncmcp/core';
import { AWS_CLIENT_DEFAULTS } from '@asyncmcp/sqs';
import { startSqsEmulator } from '@asyncmcp-internal/test-support';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { GatewayConfigError, type ServeConfig, type ServeHttpConfig } from './config/index.js';
import { ListenError } from './listen-error.js';
import { assertRunnable, startServe } from './serve.js';

const posix = process.platform !== 'win32';

function refusalOf(run: () => unknown): GatewayConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    return error as GatewayConfigError;
  }
  throw new Error('expected a configuration error');
}

describe.runIf(posix)('assertRunnable', () => {
  const directory = mkdtempSync(join(tmpdir(), 'asyncmcp-serve-unit-'));
  const script = join(directory, 'server.sh');
  writeFileSync(script, '#!/bin/sh\n');
  const notExecutable = join(directory, 'server.js');
  writeFileSync(notExecutable, '');
  chmodSync(script, 0o755);
  chmodSync(notExecutable, 0o644);

  it('accepts a name found on PATH and an executable path', () => {
    expect(() => assertRunnable('server.sh', { PATH: `/nonexistent:${directory}` })).not.toThrow();
    expect(() => assertRunnable(script, { PATH: '' })).not.toThrow();
    expect(() => assertRunnable('node', process.env)).not.toThrow();
  });

  it('refuses a name on no directory of PATH', () => {
    const error = refusalOf(() => assertRunnable('server.sh', { PATH: '/nonexistent' }));
    expect(error.reason).toBe('command-not-runnable');
    expect(error.message).toBe(
      'cannot run "server.sh": not found on PATH; check the command after -- (or command in the config file)',
    );
  });

  it('refuses a path that does not exist, or is not executable', () => {
    expect(refusalOf(() => assertRunnable(join(directory, 'missing'))).message).toBe(
      `cannot run "${join(directory, 'missing')}": no such file; check the command after -- (or command in the config file)`,
    );
    expect(refusalOf(() => assertRunnable(notExecutable)).message).toBe(
      `cannot run "${notExecutable}": the file is not executable; chmod +x it, or run it through its interpreter (node ${notExecutable})`,
    );
    // A non-executable file on PATH is not a match either.
    expect(refusalOf(() => assertRunnable('server.js', { PATH: directory })).reason).toBe(
      'command-not-runnable',
    );
  });
});

describe('startServe', () => {
  /** What serve's configuration holds whatever the backend. */
  const common = {
    signingSecret: undefined,
    upstream: { kind: 'command', command: process.execPath, args: [] },
    maxSessions: 100,
    sessionIdleTimeoutMs: 1_800_000,
    requestTimeoutMs: 300_000,
    maxInFlightPerSession: 32,
    childEnvironment: { passEnvironment: false, variables: [] },
    deadLetterQueueUrl: undefined,
    allowedResponseQueues: undefined,
    releaseUnknownSessions: 0,
    aliveIntervalSeconds: 3,
    stateless: false,
    bindSessionsToSender: false,
    visibilityTimeoutSeconds: QUEUE_DEFAULTS.visibilityTimeoutSeconds,
    logLevel: 'info',
    configFile: undefined,
  } satisfies Partial<ServeConfig>;
  const config: ServeConfig = {
    ...common,
    backend: 'sqs',
    requestQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests',
    http: undefined,
    inbox: 'create',
    region: undefined,
    endpointUrl: undefined,
  };

  it('refuses, before polling anything, a client with no region', async () => {
    const error = await startServe(config, {
      logger: silentLogger,
      createSqsClient: () =>
        new SQSClient({ region: (): Promise<string> => Promise.reject(new Error('Region is missing')) }),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).reason).toBe('missing-region');
  });

  it('refuses, with sns-sqs, a client with no region after one check, before making the SNS client', async () => {
    let asked = 0;
    let snsClients = 0;
    const error = await startServe(
      { ...config, backend: 'sns-sqs' },
      {
        logger: silentLogger,
        createSqsClient: () =>
          new SQSClient({
            region: (): Promise<string> => {
              asked++;
              return Promise.reject(new Error('Region is missing'));
            },
          }),
        createSnsClient: (settings) => {
          snsClients++;
          return new SNSClient(settings);
        },
      },
    ).catch((caught: unknown) => caught);
    expect((error as GatewayConfigError).reason).toBe('missing-region');
    expect(asked).toBe(1);
    expect(snsClients).toBe(0);
  });

  it.each([
    'webhook',
    'hybrid',
  ] as const)('takes no %s backend without its HTTP settings: its configuration requires them', (backend) => {
    // The configuration refuses it with missing-port (serve-config.test.ts); the type keeps it so.
    // @ts-expect-error serve over webhook or hybrid requires http
    const incomplete: ServeConfig = { ...config, backend, requestQueueUrl: undefined };
    expect(incomplete.http).toBeUndefined();
  });

  const http: ServeHttpConfig = {
    port: 0,
    host: '127.0.0.1',
    path: '/mcp/request',
    allowPrivateNetworks: false,
    allowedWebhookHosts: undefined,
    webhookTools: undefined,
  };

  it('serves webhook on an HTTP endpoint of its own, at the URL it returns', async () => {
    const served = await startServe({ ...common, backend: 'webhook', http }, { logger: silentLogger });
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp\/request$/);
      expect(served.sessions).toBe(0);
      // The endpoint answers: OPTIONS is not one of its methods.
      const response = await fetch(served.url!, { method: 'OPTIONS', signal: AbortSignal.timeout(5_000) });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST, DELETE');
    } finally {
      await served.close();
    }
  });

  it('serves hybrid on its path, and refuses a port that is taken with a one-line error', async () => {
    const served = await startServe(
      {
        ...common,
        backend: 'hybrid',
        http: { ...http, path: '/custom/mcp', webhookTools: ['slow'] },
      },
      { logger: silentLogger },
    );
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/custom\/mcp$/);
      const port = Number(new URL(served.url!).port);
      const error = await startServe(
        { ...common, backend: 'webhook', http: { ...http, port } },
        { logger: silentLogger },
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ListenError);
      expect((error as ListenError).message).toBe(
        `cannot listen on 127.0.0.1:${port}: the port is in use; pass another --port (0 picks a free one)`,
      );
    } finally {
      await served.close();
    }
  });

  it('checks the command before listening with webhook', async () => {
    const error = await startServe(
      {
        ...common,
        backend: 'webhook',
        http,
        upstream: { kind: 'command', command: 'no-such-server-z', args: [] },
      },
      { logger: silentLogger, env: { PATH: '/nonexistent' } },
    ).catch((caught: unknown) => caught);
    expect((error as GatewayConfigError).reason).toBe('command-not-runnable');
  });

  it('serves sns-sqs on an SNS and an SQS client made with the same region and endpoint', async () => {
    const emulator = await startSqsEmulator();
    try {
      const requestQueueUrl = await emulator.createQueue('serve-unit-requests');
      const made: { sqs: SQSClientConfig[]; sns: SNSClientConfig[] } = { sqs: [], sns: [] };
      const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
      const served = await startServe(
        {
          ...config,
          backend: 'sns-sqs',
          requestQueueUrl,
          region: 'us-east-1',
          endpointUrl: emulator.endpoint,
        },
        {
          logger: silentLogger,
          createSqsClient: (settings) => {
            made.sqs.push(settings);
            return new SQSClient({ ...settings, credentials });
          },
          createSnsClient: (settings) => {
            made.sns.push(settings);
            return new SNSClient({ ...settings, credentials });
          },
        },
      );
      expect(served.sessions).toBe(0);
      await served.close();
      const expected = { ...AWS_CLIENT_DEFAULTS, region: 'us-east-1', endpoint: emulator.endpoint };
      expect(made).toEqual({ sqs: [expected], sns: [expected] });
    } finally {
      emulator.sqsClient.destroy();
      emulator.snsClient.destroy();
      await emulator.stop();
    }
  });

  it.runIf(posix)('refuses a command that cannot run before making a client', async () => {
    let made = 0;
    const error = await startServe(
      { ...config, upstream: { kind: 'command', command: 'no-such-mcp-server', args: [] } },
      {
        logger: silentLogger,
        env: { PATH: '/nonexistent' },
        createSqsClient: (settings) => {
          made++;
          return new SQSClient(settings);
        },
      },
    ).catch((caught: unknown) => caught);
    expect((error as GatewayConfigError).reason).toBe('command-not-runnable');
    expect(made).toBe(0);
  });
});
