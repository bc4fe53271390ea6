import { AsyncMcpErrorCode, buildServerAttributes, MessageTooLargeError } from '@asyncmcp/core';
import { type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { isFifoTopic, SNS_MAX_MESSAGE_BYTES, SnsPublisher } from './sns-publisher.js';

/** An SNS client that records each Publish and answers it without any network. */
function recordingClient(): { snsClient: SNSClient; published: PublishCommandInput[] } {
  const published: PublishCommandInput[] = [];
  const snsClient = new SNSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  snsClient.middlewareStack.add(
    (_next, context) => async (args) => {
      if (context.commandName === 'PublishCommand') published.push(args.input as PublishCommandInput);
      return { output: { MessageId: 'm', $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return { snsClient, published };
}

const message = { jsonrpc: '2.0' as const, id: 1, result: {} };

describe('SnsPublisher', () => {
  it('publishes the text as Message with the attributes in the shape SNS takes', async () => {
    const { snsClient, published } = recordingClient();
    const attributes = buildServerAttributes({ message, sessionId: 's1', now: 1_700_000_000_000 });
    await new SnsPublisher(snsClient).publish({
      topicArn: 'arn:aws:sns:us-east-1:1:t',
      body: '{}',
      attributes,
      groupId: 's1',
    });
    expect(published).toEqual([
      {
        TopicArn: 'arn:aws:sns:us-east-1:1:t',
        Message: '{}',
        MessageAttributes: {
          MessageType: { DataType: 'String', StringValue: 'jsonrpc' },
          Timestamp: { DataType: 'Number', StringValue: '1700000000' },
          SessionId: { DataType: 'String', StringValue: 's1' },
        },
      },
    ]);
  });

  it('adds a group id and a fresh deduplication id on FIFO topics', async () => {
    const { snsClient, published } = recordingClient();
    const publisher = new SnsPublisher(snsClient);
    const input = { topicArn: 'arn:aws:sns:us-east-1:1:t.fifo', body: '{}', attributes: {}, groupId: 'g' };
    await publisher.publish(input);
    await publisher.publish(input);
    expect(published.map((entry) => entry.MessageGroupId)).toEqual(['g', 'g']);
    expect(published[0]?.MessageDeduplicationId).toEqual(expect.any(String));
    expect(published[0]?.MessageDeduplicationId).not.toBe(published[1]?.MessageDeduplicationId);
    expect(isFifoTopic('arn:aws:sns:us-east-1:1:t')).toBe(false);
  });

  it('counts the attributes toward the limit and refuses before publishing', async () => {
    const { snsClient, published } = recordingClient();
    const publisher = new SnsPublisher(snsClient);
    const attributes = { SessionId: { DataType: 'String' as const, StringValue: 'abc' } };
    // 9 + 6 + 3 bytes of attribute: a body that fits alone no longer fits with them.
    const body = 'x'.repeat(SNS_MAX_MESSAGE_BYTES - 10);
    const refused = publisher.publish({ topicArn: 'arn:t', body, attributes, groupId: 'g' });
    await expect(refused).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(refused).rejects.toMatchObject({
      code: AsyncMcpErrorCode.MessageTooLarge,
      size: SNS_MAX_MESSAGE_BYTES + 8,
      limit: SNS_MAX_MESSAGE_BYTES,
      message: `Message of ${SNS_MAX_MESSAGE_BYTES + 8} bytes exceeds the SNS message limit of ${SNS_MAX_MESSAGE_BYTES} bytes`,
    });
    await expect(
      publisher.publish({
        topicArn: 'arn:t',
        body: 'é'.repeat(600),
        attributes: {},
        groupId: 'g',
        maxMessageBytes: 1_000,
      }),
    ).rejects.toThrow('Message of 1200 bytes exceeds the SNS message limit of 1000 bytes');
    expect(published).toEqual([]);
  });
});
