import {
  AsyncMcpErrorCode,
  buildServerAttributes,
  DeliveryError,
  MessageTooLargeError,
} from '@asyncmcp/core';
import { type PublishBatchCommandInput, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { isFifoTopic, SNS_MAX_MESSAGE_BYTES, SnsPublisher } from './sns-publisher.js';

/**
 * An SNS client that records each Publish and PublishBatch and answers without any network; batch
 * entries whose message is in `refuse` are answered as failed.
 */
function recordingClient(refuse: string[] = []): {
  snsClient: SNSClient;
  published: PublishCommandInput[];
  batches: PublishBatchCommandInput[];
} {
  const published: PublishCommandInput[] = [];
  const batches: PublishBatchCommandInput[] = [];
  const snsClient = new SNSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  snsClient.middlewareStack.add(
    (_next, context) => async (args) => {
      if (context.commandName === 'PublishBatchCommand') {
        const input = args.input as PublishBatchCommandInput;
        batches.push(input);
        const entries = input.PublishBatchRequestEntries ?? [];
        const failed = entries.filter((entry) => refuse.includes(entry.Message ?? ''));
        return {
          output: {
            Successful: entries.filter((entry) => !failed.includes(entry)).map((entry) => ({ Id: entry.Id })),
            Failed: failed.map((entry) => ({ Id: entry.Id, Code: 'InvalidParameter', SenderFault: true })),
            $metadata: {},
          },
          response: {},
        };
      }
      if (context.commandName === 'PublishCommand') published.push(args.input as PublishCommandInput);
      return { output: { MessageId: 'm', $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return { snsClient, published, batches };
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

  it('publishes what one turn gathered to a topic as one PublishBatch, each entry settling alone', async () => {
    const { snsClient, published, batches } = recordingClient(['refused']);
    const publisher = new SnsPublisher(snsClient);
    const topicArn = 'arn:aws:sns:us-east-1:1:t';
    const outcomes = await Promise.allSettled(
      ['one', 'refused', 'three'].map((body) =>
        publisher.publish({ topicArn, body, attributes: {}, groupId: 'g' }),
      ),
    );
    expect(published).toEqual([]);
    expect(batches).toEqual([
      {
        TopicArn: topicArn,
        PublishBatchRequestEntries: [
          { Id: '0', Message: 'one', MessageAttributes: {} },
          { Id: '1', Message: 'refused', MessageAttributes: {} },
          { Id: '2', Message: 'three', MessageAttributes: {} },
        ],
      },
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = (outcomes[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(DeliveryError);
    expect(refused).toMatchObject({ isRetryable: false });
    expect(String(refused.message)).toContain(
      `SNS PublishBatch refused a message on ${topicArn}: InvalidParameter`,
    );
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
    const attributes = { SessionId: 'abc' };
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
