import { silentLogger } from '@asyncmcp/core';
import type { SnsSqsBackend } from '@asyncmcp/sns-sqs';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { assertBackendAvailable, type BackendSettings, createBackend } from './backends.js';
import { GatewayConfigError } from './config.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';
const RESPONSE_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/gateway-responses';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mcp-requests';
const RESPONSE_TOPIC = 'arn:aws:sns:us-east-1:123456789012:gateway-responses';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const base: BackendSettings = {
  backend: 'sqs',
  requestQueueUrl: QUEUE,
  responseQueueUrl: undefined,
  requestTopicArn: undefined,
  responseTopicArn: undefined,
  region: 'eu-west-1',
  endpointUrl: 'http://127.0.0.1:4566',
};

const snsSqs: BackendSettings = {
  ...base,
  backend: 'sns-sqs',
  requestQueueUrl: undefined,
  requestTopicArn: TOPIC,
};

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
      expect(factories.made.sqs).toEqual([{ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' }]);
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
    expect(made).toEqual([{}]);
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
      'no AWS region is configured: pass --region, set AWS_REGION, or add region to the config file',
    );
  });

  it('refuses the sqs backend without a request queue URL', async () => {
    const error = await createBackend(
      { ...base, requestQueueUrl: undefined },
      { logger: silentLogger },
    ).catch((caught: unknown) => caught);
    expect((error as GatewayConfigError).reason).toBe('missing-request-queue-url');
  });
});

describe('createBackend: sns-sqs', () => {
  it('builds the sns-sqs backend on an SNS and an SQS client with the same region and endpoint', async () => {
    const factories = recordingFactories();
    const handle = await createBackend(snsSqs, { logger: silentLogger, ...factories });
    try {
      expect(handle.backend.name).toBe('sns-sqs');
      const expected = { region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' };
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
    expect(factories.made).toEqual({ sqs: [{}], sns: [{}] });
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

  it('refuses the sns-sqs backend without a request topic ARN, before making a client', async () => {
    const factories = recordingFactories();
    const error = await createBackend(
      { ...snsSqs, requestTopicArn: undefined },
      { logger: silentLogger, ...factories },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).reason).toBe('missing-request-topic-arn');
    expect((error as GatewayConfigError).message).toBe(
      'the sns-sqs backend needs a request topic ARN: pass --request-topic-arn, set ASYNCMCP_REQUEST_TOPIC_ARN, or add requestTopicArn to the config file',
    );
    expect(factories.made).toEqual({ sqs: [], sns: [] });
  });
});

describe('assertBackendAvailable', () => {
  it.each(['webhook', 'hybrid'] as const)('says the %s backend is not available yet', async (name) => {
    const expected = `the ${name} backend is not available in this version (available: sqs, sns-sqs)`;
    expect(() => assertBackendAvailable(name)).toThrow(expected);
    const error = await createBackend({ ...base, backend: name }, { logger: silentLogger }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).reason).toBe('backend-unavailable');
    expect((error as GatewayConfigError).message).toBe(expected);
  });

  it.each(['sqs', 'sns-sqs'] as const)('accepts the %s backend as available', (name) => {
    expect(() => assertBackendAvailable(name)).not.toThrow();
  });
});
