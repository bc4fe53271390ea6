import { silentLogger } from '@asyncmcp/core';
import type { SnsSqsBackend } from '@asyncmcp/sns-sqs';
import { AWS_CLIENT_DEFAULTS } from '@asyncmcp/sqs';
import type { WebhookBackend } from '@asyncmcp/webhook';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import { type BackendSettings, createBackend } from './backends.js';
import { GatewayConfigError } from './config/index.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';
const RESPONSE_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/gateway-responses';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mcp-requests';
const RESPONSE_TOPIC = 'arn:aws:sns:us-east-1:123456789012:gateway-responses';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const base = {
  backend: 'sqs',
  requestQueueUrl: QUEUE,
  responseQueueUrl: undefined,
  responseQueueLeaseSeconds: 900,
  requestTopicArn: undefined,
  responseTopicArn: undefined,
  region: 'eu-west-1',
  endpointUrl: 'http://127.0.0.1:4566',
} satisfies BackendSettings;

const snsSqs = {
  ...base,
  backend: 'sns-sqs',
  requestQueueUrl: undefined,
  requestTopicArn: TOPIC,
} satisfies BackendSettings;

/** Client factories that record the settings each client was made with. */
function recordingFactories(sqsRegion?: () => Promise<string>) {
  const made: { sqs: SQSClientConfig[]; sns: SNSClientConfig[] } = { sqs: [], sns: [] };
  const clients: { sqs: SQSClient[]; sns: SNSClient[] } = { sqs: [], sns: [] };
  return {
    made,
    clients,
    createSqsClient: (config: SQSClientConfig) => {
      made.sqs.push(config);
      const client = new SQSClient({ ...config, credentials, ...(sqsRegion ? { region: sqsRegion } : {}) });
      clients.sqs.push(client);
      return client;
    },
    createSnsClient: (config: SNSClientConfig) => {
      made.sns.push(config);
      const client = new SNSClient({ ...config, credentials });
      clients.sns.push(client);
      return client;
    },
  };
}

describe('createBackend: sqs', () => {
  it('builds the sqs backend on a client made from the region and endpoint', async () => {
    const factories = recordingFactories();
    const handle = await createBackend(base, { logger: silentLogger, ...factories });
    try {
      expect(handle.backend.name).toBe('sqs');
      expect(factories.made.sqs).toEqual([
        { ...AWS_CLIENT_DEFAULTS, region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' },
      ]);
      // No SNS client for the sqs backend.
      expect(factories.made.sns).toEqual([]);
    } finally {
      await handle.close();
    }
  });

  it('leaves region and endpoint to the SDK when they are not configured', async () => {
    const made: SQSClientConfig[] = [];
    const handle = await createBackend(
      { ...base, region: undefined, endpointUrl: undefined },
      {
        logger: silentLogger,
        createSqsClient: (config) => {
          made.push(config);
          // Stands in for the region the SDK would find in AWS_REGION or a profile.
          return new SQSClient({ ...config, region: 'us-east-2' });
        },
      },
    );
    await handle.close();
    expect(made).toEqual([{ ...AWS_CLIENT_DEFAULTS }]);
  });

  it('refuses, before any network call, a client with no region', async () => {
    const error = await createBackend(base, {
      logger: silentLogger,
      createSqsClient: () =>
        new SQSClient({
          region: (): Promise<string> => Promise.reject(new Error('Region is missing')),
        }),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).reason).toBe('missing-region');
    expect((error as GatewayConfigError).message).toBe(
      'no AWS region is configured and the queue URL or topic ARN names none: pass --region, set AWS_REGION, or add region to the config file',
    );
  });

  it('takes no sqs backend without a request queue URL: its settings require one', () => {
    // The configuration refuses it with missing-request-queue-url (config.test.ts); the type keeps it so.
    // @ts-expect-error the sqs backend's settings require requestQueueUrl
    const settings: BackendSettings = { ...base, requestQueueUrl: undefined };
    expect(settings.requestQueueUrl).toBeUndefined();
  });
});

describe('createBackend: sns-sqs', () => {
  it('builds the sns-sqs backend on an SNS and an SQS client with the same region and endpoint', async () => {
    const factories = recordingFactories();
    const handle = await createBackend(snsSqs, { logger: silentLogger, ...factories });
    try {
      expect(handle.backend.name).toBe('sns-sqs');
      const expected = { ...AWS_CLIENT_DEFAULTS, region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' };
      expect(factories.made.sqs).toEqual([expected]);
      expect(factories.made.sns).toEqual([expected]);
      // Nothing is made before the first session.
      const backend = handle.backend as SnsSqsBackend;
      expect(backend.responseTopicArn).toBeUndefined();
      expect(backend.responseQueueUrl).toBeUndefined();
    } finally {
      await handle.close();
    }
  });

  it('hands the response topic (and queue) to the backend', async () => {
    const handle = await createBackend(
      { ...snsSqs, responseTopicArn: RESPONSE_TOPIC, responseQueueUrl: RESPONSE_QUEUE },
      { logger: silentLogger, ...recordingFactories() },
    );
    try {
      const backend = handle.backend as SnsSqsBackend;
      // The queue in use is reported once the backend has started; the topic is known at once.
      expect(backend.responseTopicArn).toBe(RESPONSE_TOPIC);
    } finally {
      await handle.close();
    }
  });

  it('leaves region and endpoint to the SDK for both clients when they are not configured', async () => {
    const factories = recordingFactories(() => Promise.resolve('us-east-2'));
    const handle = await createBackend(
      { ...snsSqs, region: undefined, endpointUrl: undefined },
      { logger: silentLogger, ...factories },
    );
    await handle.close();
    expect(factories.made).toEqual({ sqs: [{ ...AWS_CLIENT_DEFAULTS }], sns: [{ ...AWS_CLIENT_DEFAULTS }] });
  });

  it('checks the region once, and makes no SNS client when there is none', async () => {
    let asked = 0;
    const factories = recordingFactories(() => {
      asked++;
      return Promise.reject(new Error('Region is missing'));
    });
    const error = await createBackend(snsSqs, { logger: silentLogger, ...factories }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).reason).toBe('missing-region');
    expect(asked).toBe(1);
    expect(factories.made.sns).toEqual([]);
  });

  it('takes no sns-sqs backend without a request topic ARN: its settings require one', () => {
    // The configuration refuses it with missing-request-topic-arn (config.test.ts); the type keeps it so.
    // @ts-expect-error the sns-sqs backend's settings require requestTopicArn
    const settings: BackendSettings = { ...snsSqs, requestTopicArn: undefined };
    expect(settings.requestTopicArn).toBeUndefined();
  });
});

describe('createBackend: every backend name', () => {
  it.each(['sqs', 'sns-sqs', 'webhook', 'hybrid'] as const)('builds the %s backend', async (name) => {
    const settings: BackendSettings =
      name === 'sqs' || name === 'sns-sqs'
        ? name === 'sqs'
          ? base
          : snsSqs
        : {
            backend: name,
            serverUrl: 'http://mcp.internal:8000/mcp',
            webhookBaseUrl: undefined,
            webhookPath: '/webhooks',
          };
    const handle = await createBackend(settings, { logger: silentLogger, ...recordingFactories() });
    expect(handle.backend.name).toBe(name);
    await handle.close();
  });
});

/** A fetch that records each request to the server and answers 202 (or what `answer` says). */
function recordingFetch(answer: () => Response = () => new Response(null, { status: 202 })) {
  const requests: Array<{ url: string; method: string; headers: Headers; body: string }> = [];
  const fetch: FetchLike = async (input, init) => {
    requests.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
    });
    return answer();
  };
  return { requests, fetch };
}

const SERVER = 'http://mcp.internal:8000/mcp/request';
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

const webhook = {
  ...base,
  backend: 'webhook',
  requestQueueUrl: undefined,
  responseQueueLeaseSeconds: undefined,
  region: undefined,
  endpointUrl: undefined,
  serverUrl: SERVER,
  webhookBaseUrl: 'http://gateway-1.internal:8080',
  webhookPath: '/webhooks',
  signingSecret: undefined,
} satisfies BackendSettings;

const initialize = {
  jsonrpc: '2.0' as const,
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '1.0.0' } },
};

describe('createBackend: webhook and hybrid', () => {
  it('builds the webhook backend on its route, a webhook per session below the base URL', async () => {
    const { requests, fetch } = recordingFetch();
    const handle = await createBackend(webhook, { logger: silentLogger, fetch });
    try {
      expect(handle.backend.name).toBe('webhook');
      expect(handle.backend.httpRoute?.path).toBe('/webhooks');
      expect((handle.backend as WebhookBackend).webhookBaseUrl).toBe('http://gateway-1.internal:8080');
      // No AWS client for an HTTP backend.
      const transport = await handle.backend.createTransport({ sessionKey: 'k1' });
      await transport.start();
      await transport.send(initialize);
      const [sent] = requests;
      expect(sent?.url).toBe(SERVER);
      expect(sent?.method).toBe('POST');
      // A random session id is proposed and a random path named in _meta: neither is the gateway's key
      // (the HTTP session id), and neither is the other.
      const proposed = sent?.headers.get('x-session-id') as string;
      expect(proposed).toMatch(/^[0-9a-f]{32}$/);
      const webhookUrl = JSON.parse(sent?.body ?? '{}').params._meta.webhookUrl as string;
      expect(webhookUrl).toMatch(/^http:\/\/gateway-1\.internal:8080\/webhooks\/[A-Za-z0-9_-]{22}$/);
      expect(webhookUrl).not.toContain('k1');
      expect(webhookUrl).not.toContain(proposed);
      // Unsigned without a secret.
      expect(sent?.headers.get('webhook-signature')).toBeNull();
      await transport.close();
    } finally {
      await handle.close();
    }
  });

  it('signs the requests to a webhook server with the signing secret', async () => {
    const { requests, fetch } = recordingFetch();
    const handle = await createBackend(
      { ...webhook, signingSecret: SECRET, webhookPath: '/hooks' },
      { logger: silentLogger, fetch },
    );
    try {
      const transport = await handle.backend.createTransport({ sessionKey: 'k2' });
      await transport.start();
      await transport.send(initialize);
      expect(requests[0]?.headers.get('webhook-signature')).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(requests[0]?.headers.get('webhook-id')).toMatch(/^msg_/);
      expect(JSON.parse(requests[0]?.body ?? '{}').params._meta.webhookUrl).toMatch(
        /^http:\/\/gateway-1\.internal:8080\/hooks\/[A-Za-z0-9_-]{22}$/,
      );
      await transport.close();
    } finally {
      await handle.close();
    }
  });

  it('builds the hybrid backend, proposing the session key to a Streamable HTTP server', async () => {
    const { requests, fetch } = recordingFetch(
      () => new Response('{"error":"no"}', { status: 400, headers: { 'content-type': 'application/json' } }),
    );
    const handle = await createBackend(
      { ...webhook, backend: 'hybrid', serverUrl: 'http://mcp.internal:8000/mcp' },
      { logger: silentLogger, fetch },
    );
    try {
      expect(handle.backend.name).toBe('hybrid');
      expect(handle.backend.httpRoute?.path).toBe('/webhooks');
      const transport = await handle.backend.createTransport({ sessionKey: 'k3' });
      await transport.start();
      await transport.send(initialize).catch(() => undefined);
      const post = requests.find((request) => request.method === 'POST');
      expect(post?.url).toBe('http://mcp.internal:8000/mcp');
      // Neither the proposed session id nor the webhook path is the gateway's key.
      expect(post?.headers.get('x-session-id')).toMatch(/^[0-9a-f]{32}$/);
      const webhookUrl = JSON.parse(post?.body ?? '{}').params._meta.webhookUrl as string;
      expect(webhookUrl).toMatch(/^http:\/\/gateway-1\.internal:8080\/webhooks\/[A-Za-z0-9_-]{22}$/);
      expect(webhookUrl).not.toContain('k3');
      await transport.close();
    } finally {
      await handle.close();
    }
  });

  // The webhook package's tests (webhook-backend-address.test.ts) cover the backend before and after it
  // learns its address; here, that the gateway's backends leave it to the listening address.
  it('without a base URL, leaves the webhook address to the gateway listening', async () => {
    const { requests, fetch } = recordingFetch();
    const handle = await createBackend(
      { ...webhook, webhookBaseUrl: undefined, webhookPath: undefined },
      { logger: silentLogger, fetch },
    );
    try {
      const backend = handle.backend as WebhookBackend;
      expect(backend.httpRoute.path).toBe('/webhooks');
      expect(backend.webhookBaseUrl).toBeUndefined();
      await backend.listening({ origin: 'http://127.0.0.1:43210' });
      const transport = await backend.createTransport({ sessionKey: 'k4' });
      await transport.start();
      await transport.send(initialize);
      expect(JSON.parse(requests[0]?.body ?? '{}').params._meta.webhookUrl).toMatch(
        /^http:\/\/127\.0\.0\.1:43210\/webhooks\/[A-Za-z0-9_-]{22}$/,
      );
      await transport.close();
    } finally {
      await handle.close();
    }
  });

  it('takes no webhook or hybrid backend without a server URL: their settings require one', () => {
    // The configuration refuses it with missing-server-url (config.test.ts); the type keeps it so.
    for (const backend of ['webhook', 'hybrid'] as const) {
      // @ts-expect-error the webhook and hybrid backends' settings require serverUrl
      const settings: BackendSettings = { ...webhook, backend, serverUrl: undefined };
      expect(settings.serverUrl).toBeUndefined();
    }
  });
});
