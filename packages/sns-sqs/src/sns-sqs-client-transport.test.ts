import { ConfigurationError, TransportStateError } from '@asyncmcp/core';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SnsSqsClientTransport } from './sns-sqs-client-transport.js';
import { SnsSqsSessionManager } from './sns-sqs-session-manager.js';

const config = {
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
};
const clients = { snsClient: new SNSClient(config), sqsClient: new SQSClient(config) };
const channel = {
  requestTopicArn: 'arn:aws:sns:us-east-1:000000000000:requests',
  responseTopicArn: 'arn:aws:sns:us-east-1:000000000000:responses',
  responseQueueUrl: 'http://127.0.0.1:9/000000000000/responses',
};

describe('SnsSqsClientTransport configuration', () => {
  it.each(['requestTopicArn', 'responseTopicArn', 'responseQueueUrl'] as const)('needs a %s', (name) => {
    expect(() => new SnsSqsClientTransport({ ...clients, ...channel, [name]: '' })).toThrow(
      new ConfigurationError(`SnsSqsClientTransport needs a ${name}`),
    );
  });

  it('refuses custom attributes that reuse a protocol name or exceed the attribute budget', () => {
    expect(
      () => new SnsSqsClientTransport({ ...clients, ...channel, messageAttributes: { SessionId: 'x' } }),
    ).toThrow(/SessionId/);
    expect(
      () =>
        new SnsSqsClientTransport({
          ...clients,
          ...channel,
          messageAttributes: { A: '1', B: '2', C: '3', D: '4' },
        }),
    ).toThrow(ConfigurationError);
  });

  it('refuses an invalid proposed session id', () => {
    expect(() => new SnsSqsClientTransport({ ...clients, ...channel, sessionId: 'has space' })).toThrow(
      ConfigurationError,
    );
  });

  it('refuses to send before start and after close', async () => {
    const transport = new SnsSqsClientTransport({ ...clients, ...channel });
    const ping = { jsonrpc: '2.0' as const, id: 1, method: 'ping' };
    await expect(transport.send(ping)).rejects.toBeInstanceOf(TransportStateError);
    let closed = 0;
    transport.onclose = () => closed++;
    await transport.close();
    await transport.close();
    expect(closed).toBe(1);
    await expect(transport.send(ping)).rejects.toThrow('The transport is closed');
    expect(transport.sessionId).toBeUndefined();
  });
});

describe('SnsSqsSessionManager configuration', () => {
  const createServer = () => {
    throw new Error('not called');
  };
  it('needs a request queue, an SNS client and a server factory', () => {
    expect(() => new SnsSqsSessionManager({ ...clients, requestQueueUrl: '', createServer })).toThrow(
      'SnsSqsSessionManager needs a requestQueueUrl',
    );
    expect(
      () =>
        new SnsSqsSessionManager({
          sqsClient: clients.sqsClient,
          requestQueueUrl: channel.responseQueueUrl,
          createServer,
        } as unknown as ConstructorParameters<typeof SnsSqsSessionManager>[0]),
    ).toThrow('SnsSqsSessionManager needs an snsClient');
  });
});
