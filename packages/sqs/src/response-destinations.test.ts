import { AsyncMcpError, DestinationRefusedError } from '@asyncmcp/core';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  assertQueueAllowed,
  assertTopicAllowed,
  type DestinationScope,
  destinationScopeOf,
  loggableUrl,
  queueRefusal,
  topicRefusal,
} from './response-destinations.js';

const REQUESTS = 'https://sqs.eu-west-1.amazonaws.com/111122223333/mcp-requests';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function scope(allowed: readonly string[] = []): DestinationScope {
  return {
    origins: ['https://sqs.eu-west-1.amazonaws.com'],
    account: '111122223333',
    region: 'eu-west-1',
    allowed,
  };
}

describe('destinationScopeOf', () => {
  it("reads the request queue's origin, account and region; no explicit endpoint means no other origin", async () => {
    const sqsClient = new SQSClient({ region: 'us-east-1', credentials });
    expect(await destinationScopeOf({ sqsClient, homeQueueUrl: REQUESTS })).toEqual(scope());
    sqsClient.destroy();
  });

  it("adds the client's explicit endpoint, and takes the client's region when the host names none", async () => {
    const sqsClient = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', credentials });
    const read = await destinationScopeOf({
      sqsClient,
      homeQueueUrl: 'http://localhost:4566/000000000000/requests',
      allowed: ['arn:aws:sns:us-east-1:000000000000:*'],
    });
    expect(read).toEqual({
      origins: ['http://localhost:4566', 'http://127.0.0.1:4566'],
      account: '000000000000',
      region: 'us-east-1',
      allowed: ['arn:aws:sns:us-east-1:000000000000:*'],
    });
    sqsClient.destroy();
  });
});

describe('queueRefusal', () => {
  it("allows queues on the request queue's endpoint and account", () => {
    expect(queueRefusal(scope(), 'https://sqs.eu-west-1.amazonaws.com/111122223333/replies')).toBeUndefined();
    expect(queueRefusal(scope(), 'https://sqs.eu-west-1.amazonaws.com/111122223333/r.fifo')).toBeUndefined();
  });

  it('refuses another host, port, scheme, region or account, and what is no queue URL', () => {
    const refused = {
      'https://attacker.example/111122223333/replies': 'attacker.example is not the SQS endpoint',
      'https://sqs.eu-west-1.amazonaws.com.attacker.example/111122223333/q': 'is not the SQS endpoint',
      'https://sqs.eu-west-1.amazonaws.com:8443/111122223333/q': 'is not the SQS endpoint',
      'http://sqs.eu-west-1.amazonaws.com/111122223333/q': 'is not the SQS endpoint',
      'https://sqs.us-east-1.amazonaws.com/111122223333/q': 'is not the SQS endpoint',
      'https://sqs.eu-west-1.amazonaws.com/999999999999/q': 'account 999999999999',
      'https://sqs.eu-west-1.amazonaws.com/111122223333/q/extra': 'not a queue URL',
      'https://sqs.eu-west-1.amazonaws.com/111122223333/q?Action=x': 'not a queue URL',
      'https://user:secret@sqs.eu-west-1.amazonaws.com/111122223333/q': 'credentials',
      'file:///etc/passwd': 'scheme file:',
      'not a url': 'not a URL',
    };
    for (const [url, reason] of Object.entries(refused)) {
      expect(queueRefusal(scope(), url), url).toContain(reason);
    }
  });

  it('allows what an allow-list prefix names, comparing origins parsed, not as text', () => {
    const allowing = scope(['https://sqs.us-east-1.amazonaws.com/444455556666/replies-']);
    expect(
      queueRefusal(allowing, 'https://sqs.us-east-1.amazonaws.com/444455556666/replies-1'),
    ).toBeUndefined();
    expect(queueRefusal(allowing, 'https://sqs.us-east-1.amazonaws.com/444455556666/other')).toBeDefined();
    expect(
      queueRefusal(allowing, 'https://sqs.us-east-1.amazonaws.com.attacker.example/444455556666/replies-1'),
    ).toBeDefined();
    // An ARN entry allows topics, not queues.
    expect(queueRefusal(scope(['arn:aws:sns:eu-west-1:1:*']), 'https://attacker.example/1/q')).toBeDefined();
  });

  it('throws a DestinationRefusedError that names the queue without its credentials or query', () => {
    let thrown: unknown;
    try {
      assertQueueAllowed(scope(), 'https://user:secret@attacker.example/1/q?token=abc');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DestinationRefusedError);
    expect(AsyncMcpError.isInstance(thrown) && thrown.code).toBe('ASYNCMCP_DESTINATION_REFUSED');
    expect((thrown as DestinationRefusedError).destination).toBe('https://attacker.example/1/q');
    expect(String((thrown as Error).message)).not.toMatch(/secret|token=abc/);
    expect(loggableUrl('nope')).toBe('(not a URL)');
  });
});

describe('topicRefusal', () => {
  it("allows topics in the request queue's account and region, and refuses others", () => {
    expect(topicRefusal(scope(), 'arn:aws:sns:eu-west-1:111122223333:replies')).toBeUndefined();
    expect(topicRefusal(scope(), 'arn:aws:sns:us-east-1:111122223333:replies')).toContain('region us-east-1');
    expect(topicRefusal(scope(), 'arn:aws:sns:eu-west-1:999999999999:replies')).toContain('account');
    expect(topicRefusal(scope(), 'arn:aws:sqs:eu-west-1:111122223333:replies')).toContain('not an SNS topic');
    expect(topicRefusal(scope(), 'https://attacker.example/')).toContain('not an SNS topic');
  });

  it('allows an exact ARN, or a prefix ending in *, from the allow-list', () => {
    const allowing = scope([
      'arn:aws:sns:us-east-1:444455556666:replies',
      'arn:aws:sns:us-west-2:777788889999:*',
    ]);
    expect(topicRefusal(allowing, 'arn:aws:sns:us-east-1:444455556666:replies')).toBeUndefined();
    expect(topicRefusal(allowing, 'arn:aws:sns:us-east-1:444455556666:replies-evil')).toBeDefined();
    expect(topicRefusal(allowing, 'arn:aws:sns:us-west-2:777788889999:any')).toBeUndefined();
    expect(() => assertTopicAllowed(scope(), 'arn:aws:sns:eu-west-1:9:x')).toThrow(DestinationRefusedError);
  });
});
