import { buildClientAttributes, type QueueMessage } from '@asyncmcp/core';
import { useSqsEmulator } from '@asyncmcp-internal/test-support';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsQueueSource, SqsSender } from '../src/index.js';

describe('batched sends and deletes', () => {
  const sqs = useSqsEmulator();

  function countingClient() {
    const client = sqs.newClient();
    const calls: Record<string, number> = {};
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls[context.commandName ?? '?'] = (calls[context.commandName ?? '?'] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    return { client, calls };
  }

  it('sends messages of one turn to one queue in batches of ten, and each promise settles', async () => {
    const queueUrl = await sqs.createQueue('batched');
    const { client, calls } = countingClient();
    const sender = new SqsSender(client);
    const message = { jsonrpc: '2.0' as const, method: 'notifications/message' };
    await Promise.all(
      Array.from({ length: 25 }, (_, index) =>
        sender.send({
          queueUrl,
          body: JSON.stringify({ ...message, params: { index } }),
          attributes: buildClientAttributes({ message, clientId: 'c' }),
          groupId: 'g',
        }),
      ),
    );
    expect(calls.SendMessageBatchCommand).toBe(3);
    expect(calls.SendMessageCommand ?? 0).toBe(0);
    const { Attributes } = await sqs.sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(25);
  });

  it('sends a lone message with SendMessage', async () => {
    const queueUrl = await sqs.createQueue('lone');
    const { client, calls } = countingClient();
    await new SqsSender(client).send({ queueUrl, body: '{}', attributes: {}, groupId: 'g' });
    expect(calls).toMatchObject({ SendMessageCommand: 1 });
    expect(calls.SendMessageBatchCommand).toBeUndefined();
  });

  it('deletes several messages with one DeleteMessageBatch call', async () => {
    const queueUrl = await sqs.createQueue('deletes');
    for (let i = 0; i < 3; i++) {
      await sqs.sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}` }));
    }
    const { client, calls } = countingClient();
    const source = new SqsQueueSource(client, queueUrl);
    const received: QueueMessage[] = [];
    for (let attempt = 0; attempt < 10 && received.length < 3; attempt++) {
      received.push(
        ...(await source.receive({
          maxMessages: 10,
          waitTimeSeconds: 1,
          visibilityTimeoutSeconds: 30,
          signal: new AbortController().signal,
        })),
      );
    }
    expect(received).toHaveLength(3);
    expect(await source.deleteBatch(received)).toEqual([]);
    expect(calls.DeleteMessageBatchCommand).toBe(1);
    const { Attributes } = await sqs.sqsClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(
      Number(Attributes?.ApproximateNumberOfMessages) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
    ).toBe(0);
  });
});
