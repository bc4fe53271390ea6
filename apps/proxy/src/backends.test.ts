import { silentLogger } from '@asyncmcp/core';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { assertBackendAvailable, createBackend } from './backends.js';
import { GatewayConfigError } from './config.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';

const base = {
  backend: 'sqs' as const,
  requestQueueUrl: QUEUE,
  responseQueueUrl: undefined,
  region: 'eu-west-1',
  endpointUrl: 'http://127.0.0.1:4566',
};

describe('createBackend', () => {
  it('builds the sqs backend on a client made from the region and endpoint', async () => {
    const made: SQSClientConfig[] = [];
    const handle = await createBackend(base, {
      logger: silentLogger,
      createSqsClient: (config) => {
        made.push(config);
        return new SQSClient({ ...config, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      },
    });
    try {
      expect(handle.backend.name).toBe('sqs');
      expect(made).toEqual([{ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' }]);
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

  it.each([
    'sns-sqs',
    'webhook',
    'hybrid',
  ] as const)('says the %s backend is not available yet', async (name) => {
    const expected = `the ${name} backend is not available in this version (available: sqs)`;
    expect(() => assertBackendAvailable(name)).toThrow(expected);
    const error = await createBackend({ ...base, backend: name }, { logger: silentLogger }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).reason).toBe('backend-unavailable');
    expect((error as GatewayConfigError).message).toBe(expected);
  });

  it('accepts the sqs backend as available', () => {
    expect(() => assertBackendAvailable('sqs')).not.toThrow();
  });
});
