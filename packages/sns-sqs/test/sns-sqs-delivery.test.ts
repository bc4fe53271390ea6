import { randomUUID } from 'node:crypto';
import { sessionLogId } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import type { PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  SnsSqsClientTransport,
  type SnsSqsClientTransportOptions,
  type SnsSqsSessionManagerOptions,
  snsSqsBackend,
} from '../src/index.js';
import {
  connectedClient,
  type Delivered,
  destroyAfterTest,
  echoText,
  initializeRequest,
  isCompactJson,
  publish,
  QueueReader,
  snsEnvelope,
  startManager,
  testServerFactory,
  textOf,
  useQueueTestBed,
} from './support.js';

const request = { timeout: 20_000 };

const { emulator, cleanups } = useQueueTestBed();

/** A request topic with the server's queue subscribed to it, and a manager reading that queue. */
async function startServer(
  options: { raw?: boolean; fifo?: boolean; manager?: Partial<SnsSqsSessionManagerOptions> } = {},
) {
  const fifo = options.fifo ? { topic: { FifoTopic: 'true' }, queue: { FifoQueue: 'true' } } : undefined;
  const requestTopicArn = await emulator.createTopic('requests', fifo?.topic);
  const requestQueueUrl = await emulator.createQueue('requests', fifo?.queue);
  await emulator.subscribe(requestTopicArn, requestQueueUrl, { raw: options.raw });
  const logger = new RecordingLogger();
  const fixture = { calls: new Map<string, number>() };
  const manager = await startManager(emulator, cleanups, {
    requestQueueUrl,
    createServer: testServerFactory(fixture),
    logger,
    ...options.manager,
  });
  return { manager, requestTopicArn, requestQueueUrl, logger, fixture };
}

/** A client's response topic with its queue subscribed, raw or in envelopes. */
async function responseChannel(options: {
  raw?: boolean;
  fifo?: boolean;
  filterPolicy?: Record<string, unknown>;
}) {
  const responseTopicArn = await emulator.createTopic(
    'responses',
    options.fifo ? { FifoTopic: 'true' } : undefined,
  );
  const responseQueueUrl = await emulator.createQueue(
    'responses',
    options.fifo ? { FifoQueue: 'true' } : undefined,
  );
  await emulator.subscribe(responseTopicArn, responseQueueUrl, {
    raw: options.raw,
    filterPolicy: options.filterPolicy,
  });
  return { responseTopicArn, responseQueueUrl };
}

async function connectClient(
  requestTopicArn: string,
  options: {
    raw?: boolean;
    channel?: { responseTopicArn: string; responseQueueUrl: string };
    transport?: Partial<SnsSqsClientTransportOptions>;
  } = {},
) {
  const channel = options.channel ?? (await responseChannel({ raw: options.raw }));
  const logger = new RecordingLogger();
  const transport = new SnsSqsClientTransport({
    snsClient: emulator.snsClient,
    sqsClient: emulator.sqsClient,
    requestTopicArn,
    ...channel,
    waitTimeSeconds: 1,
    logger,
    ...options.transport,
  });
  const client = await connectedClient(transport, cleanups, 'delivery-client');
  return { client, transport, logger, ...channel };
}

/** Records every Publish an SNS client makes. */
function capturePublishes(snsClient: SNSClient): PublishCommandInput[] {
  const published: PublishCommandInput[] = [];
  snsClient.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PublishCommand')
        published.push({ ...(args.input as PublishCommandInput) });
      return next(args);
    },
    { step: 'initialize', name: 'capturePublish' },
  );
  return published;
}

describe('delivery forms', () => {
  it.each([
    { server: 'envelope', client: 'envelope' },
    { server: 'envelope', client: 'raw' },
    { server: 'raw', client: 'envelope' },
    { server: 'raw', client: 'raw' },
  ])('serves a session with $server delivery to the server and $client delivery to the client', async (forms) => {
    const { requestTopicArn, manager } = await startServer({ raw: forms.server === 'raw' });
    const channel = await responseChannel({ raw: forms.client === 'raw' });
    // Two more queues on the client's topic, one per form: what SNS fans out to each, side by side.
    const rawCopy = new QueueReader(emulator.sqsClient, await emulator.createQueue('observer-raw'));
    const envelopeCopy = new QueueReader(emulator.sqsClient, await emulator.createQueue('observer-envelope'));
    await emulator.subscribe(channel.responseTopicArn, rawCopy.queueUrl, { raw: true });
    await emulator.subscribe(channel.responseTopicArn, envelopeCopy.queueUrl);

    const { client, transport } = await connectClient(requestTopicArn, { channel });
    expect(manager.sessions.has(transport.sessionId as string)).toBe(true);
    expect(await echoText(client, 'both forms')).toBe('both forms');

    const isEcho = (message: Delivered) => JSON.stringify(message.rpc.result ?? {}).includes('both forms');
    const raw = await rawCopy.next(isEcho);
    const wrapped = await envelopeCopy.next(isEcho);
    // Raw delivery: the published text is the body; the attributes are SQS attributes.
    expect(raw.envelope).toBeUndefined();
    expect(isCompactJson(raw.raw.Body ?? '')).toBe(true);
    expect(raw.raw.MessageAttributes?.SessionId).toEqual({
      DataType: 'String',
      StringValue: transport.sessionId,
    });
    expect(raw.raw.MessageAttributes?.Timestamp?.DataType).toBe('Number');
    // SNS envelope: the same text in `Message`, the attributes inside as {Type, Value}, none on SQS.
    expect(wrapped.envelope).toMatchObject({ Type: 'Notification', TopicArn: channel.responseTopicArn });
    expect(wrapped.raw.MessageAttributes).toBeUndefined();
    expect(wrapped.envelope?.MessageAttributes).toMatchObject({
      SessionId: { Type: 'String', Value: transport.sessionId },
      MessageType: { Type: 'String', Value: 'jsonrpc' },
      Timestamp: { Type: 'Number', Value: expect.stringMatching(/^\d+$/) },
    });
    expect(wrapped.text).toBe(raw.text);
    expect(wrapped.attributes).toEqual(raw.attributes);
  });
});

describe('the merge rule (SQS attributes first, the envelope’s for names not already present)', () => {
  it('the server takes ClientId from SQS over the envelope, and everything else from the envelope', async () => {
    const { manager, requestQueueUrl } = await startServer();
    const answers = new QueueReader(emulator.sqsClient, await emulator.createQueue('merge-answers'));
    const responseTopicArn = await emulator.createTopic('merge-answers');
    await emulator.subscribe(responseTopicArn, answers.queueUrl, { raw: true });
    const initialize = JSON.stringify(
      initializeRequest(1, {
        clientInfo: { name: 'merge', version: '1' },
        meta: { clientTopicArn: responseTopicArn },
      }),
    );
    const proposed = `merge-${randomUUID()}`;
    await emulator.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: requestQueueUrl,
        MessageBody: snsEnvelope(
          { Message: initialize },
          { ClientId: 'from-envelope', MessageType: 'jsonrpc', Method: 'initialize', SessionId: proposed },
        ),
        MessageAttributes: { ClientId: { DataType: 'String', StringValue: 'from-sqs' } },
      }),
    );
    const answer = await answers.nextRpc((rpc) => rpc.id === 1);
    // SessionId existed only in the envelope: it was read from there (and adopted as proposed).
    expect(answer.attributes.SessionId).toBe(proposed);
    expect(manager.sessions.get(proposed)?.clientId).toBe('from-sqs');
  });

  it('the client routes by the SQS SessionId when the envelope names another', async () => {
    const { requestTopicArn } = await startServer();
    const { client, transport, logger, responseQueueUrl } = await connectClient(requestTopicArn);
    const sessionId = transport.sessionId as string;
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(String(notification.params.data));
    });
    const notification = (data: string) =>
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data } });
    const sessionAttribute = (value: string) => ({ SessionId: { DataType: 'String', StringValue: value } });

    // SQS says this session, the envelope another: delivered.
    await emulator.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: responseQueueUrl,
        MessageBody: snsEnvelope({ Message: notification('mine') }, { SessionId: 'someone-else' }),
        MessageAttributes: sessionAttribute(sessionId),
      }),
    );
    // SQS says another session, the envelope this one: not delivered.
    const before = logger.entries.length;
    await emulator.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: responseQueueUrl,
        MessageBody: snsEnvelope({ Message: notification('not mine') }, { SessionId: sessionId }),
        MessageAttributes: sessionAttribute('someone-else'),
      }),
    );
    const dropped = await logger.waitFor('message for another session deleted', 15_000, before);
    expect(dropped.fields).toMatchObject({
      sessionId: sessionLogId(sessionId),
      other: sessionLogId('someone-else'),
    });
    await expect.poll(() => logs, { timeout: 10_000 }).toEqual(['mine']);
    await expect.poll(() => emulator.queueDepth(responseQueueUrl), { timeout: 10_000 }).toBe(0);
  });
});

describe('SNS control messages', () => {
  const confirmation = (topicArn: string) =>
    snsEnvelope({
      Type: 'SubscriptionConfirmation',
      TopicArn: topicArn,
      Token: 'token-1',
      Message: `You have chosen to subscribe to the topic ${topicArn}.`,
      SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=token-1`,
    });

  it('the session manager logs and deletes a SubscriptionConfirmation, and is not poisoned by it', async () => {
    const { manager, requestTopicArn, requestQueueUrl, logger } = await startServer();
    await emulator.sqsClient.send(
      new SendMessageCommand({ QueueUrl: requestQueueUrl, MessageBody: confirmation(requestTopicArn) }),
    );
    const line = await logger.waitFor('SNS control message deleted');
    expect(line.fields).toEqual({ kind: 'subscription-confirmation', topicArn: requestTopicArn });
    await expect.poll(() => emulator.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
    await emulator.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: requestQueueUrl,
        MessageBody: snsEnvelope({
          Type: 'UnsubscribeConfirmation',
          TopicArn: requestTopicArn,
          Message: 'bye',
        }),
      }),
    );
    await expect
      .poll(() => logger.entries.filter((entry) => entry.message === 'SNS control message deleted').length, {
        timeout: 10_000,
      })
      .toBe(2);
    expect(manager.metrics.poisoned).toBe(0);
    expect(manager.metrics.rejected).toBe(0);
    expect(manager.sessions.size).toBe(0);
  });

  it('a client transport logs and deletes one on its queue and keeps its session', async () => {
    const { requestTopicArn } = await startServer();
    const { client, logger, responseTopicArn, responseQueueUrl } = await connectClient(requestTopicArn);
    await emulator.sqsClient.send(
      new SendMessageCommand({ QueueUrl: responseQueueUrl, MessageBody: confirmation(responseTopicArn) }),
    );
    const line = await logger.waitFor('SNS control message deleted');
    expect(line.fields).toEqual({ kind: 'subscription-confirmation', topicArn: responseTopicArn });
    await expect.poll(() => emulator.queueDepth(responseQueueUrl), { timeout: 10_000 }).toBe(0);
    expect(await echoText(client, 'after')).toBe('after');
  });

  it('the gateway backend logs and deletes one on its response queue without counting it', async () => {
    const { requestTopicArn } = await startServer();
    const logger = new RecordingLogger();
    const backend = snsSqsBackend({
      snsClient: emulator.snsClient,
      sqsClient: emulator.sqsClient,
      requestTopicArn,
      waitTimeSeconds: 1,
      logger,
    });
    cleanups.push(() => backend.close());
    await backend.start();
    await emulator.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: backend.responseQueueUrl,
        MessageBody: confirmation(backend.responseTopicArn as string),
      }),
    );
    const line = await logger.waitFor('SNS control message deleted');
    expect(line.fields).toEqual({ kind: 'subscription-confirmation', topicArn: backend.responseTopicArn });
    expect(backend.stats).toEqual({ routed: 0, unroutable: 0, invalid: 0, refused: 0, unmatched: 0 });
  });
});

describe('fan-out', () => {
  it('two clients share one response topic: each filtered queue gets only its own session', async () => {
    const { requestTopicArn, manager } = await startServer();
    const responseTopicArn = await emulator.createTopic('shared-responses');
    // A queue with no filter sees everything published to the topic: the fan-out is real.
    const everything = new QueueReader(emulator.sqsClient, await emulator.createQueue('observer'));
    await emulator.subscribe(responseTopicArn, everything.queueUrl, { raw: true });
    const clients = await Promise.all(
      ['a', 'b'].map(async (name, index) => {
        const sessionId = `fan-${name}-${randomUUID()}`;
        const responseQueueUrl = await emulator.createQueue(`shared-${name}`);
        // One in envelopes, one raw: the filter applies to both forms.
        await emulator.subscribe(responseTopicArn, responseQueueUrl, {
          raw: index === 0,
          filterPolicy: { SessionId: [sessionId] },
        });
        const connected = await connectClient(requestTopicArn, {
          channel: { responseTopicArn, responseQueueUrl },
          transport: { sessionId },
        });
        return { ...connected, sessionId };
      }),
    );
    const answers = await Promise.all(
      clients.flatMap(({ client, sessionId }) =>
        [1, 2, 3].map(async (round) =>
          textOf(
            await client.callTool(
              { name: 'echo', arguments: { text: `${sessionId}/${round}` } },
              undefined,
              request,
            ),
          ),
        ),
      ),
    );
    expect(answers).toEqual(
      clients.flatMap(({ sessionId }) => [1, 2, 3].map((round) => `${sessionId}/${round}`)),
    );
    for (const { transport, sessionId, logger, responseQueueUrl } of clients) {
      // The server adopted each proposed id, so the filter could route by it.
      expect(transport.sessionId).toBe(sessionId);
      expect(manager.sessions.has(sessionId)).toBe(true);
      // Nothing of the other session reached this queue.
      expect(logger.entries.filter((entry) => entry.message.includes('another session'))).toEqual([]);
      // Each answer is deleted once handed over, a moment after the call it answers resolved.
      await expect.poll(() => emulator.queueDepth(responseQueueUrl), { timeout: 5_000 }).toBe(0);
    }
    // The unfiltered copy has both sessions' traffic: initialize answer + three echoes each, at least.
    await expect
      .poll(
        async () => {
          const seen = await everything.drain();
          return clients.map(
            ({ sessionId }) => seen.filter((m) => m.attributes.SessionId === sessionId).length,
          );
        },
        { timeout: 10_000 },
      )
      .toEqual([4, 4]);
  });

  it('a copy for another session on a client’s own queue is deleted, not handed back forever', async () => {
    const { requestTopicArn } = await startServer();
    const { client, logger, responseTopicArn, responseQueueUrl, transport } =
      await connectClient(requestTopicArn);
    await publish(
      emulator.snsClient,
      responseTopicArn,
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: 'x' },
      }),
      { SessionId: { DataType: 'String', StringValue: 'another-session' } },
    );
    const line = await logger.waitFor('message for another session deleted');
    expect(line.fields).toEqual({
      sessionId: sessionLogId(transport.sessionId),
      other: sessionLogId('another-session'),
    });
    await expect.poll(() => emulator.queueDepth(responseQueueUrl), { timeout: 10_000 }).toBe(0);
    expect(logger.entries.filter((entry) => entry.message.includes('released'))).toEqual([]);
    expect(await echoText(client, 'still')).toBe('still');
  });
});

describe('the SNS size limit', () => {
  it('turns an answer too large for SNS into a JSON-RPC error for that request', async () => {
    const { requestTopicArn } = await startServer();
    const { client } = await connectClient(requestTopicArn);
    await expect(
      client.callTool({ name: 'big', arguments: { bytes: 300_000 } }, undefined, request),
    ).rejects.toThrow(/Internal error: Message of \d+ bytes exceeds the SNS message limit of 262144 bytes/);
    expect(await echoText(client, 'unharmed')).toBe('unharmed');
  });

  it('checks a configured, smaller limit on the server', async () => {
    const { requestTopicArn } = await startServer({ manager: { maxMessageBytes: 2_048 } });
    const { client } = await connectClient(requestTopicArn);
    await expect(
      client.callTool({ name: 'big', arguments: { bytes: 4_000 } }, undefined, request),
    ).rejects.toThrow(/exceeds the SNS message limit of 2048 bytes/);
  });

  it('refuses a request too large for SNS before publishing it', async () => {
    const { requestTopicArn } = await startServer();
    const snsClient = emulator.newSnsClient();
    cleanups.push(async () => snsClient.destroy());
    const published = capturePublishes(snsClient);
    const { client } = await connectClient(requestTopicArn, { transport: { snsClient } });
    const before = published.length;
    await expect(
      client.callTool({ name: 'echo', arguments: { text: 'y'.repeat(300_000) } }, undefined, request),
    ).rejects.toThrow(/Message of \d+ bytes exceeds the SNS message limit of 262144 bytes/);
    expect(published.length).toBe(before);
    // A request that fits still goes out.
    expect(await echoText(client, 'ok')).toBe('ok');
  });
});

describe('FIFO topics', () => {
  it('groups by client id, then by session id, with a unique deduplication id per publish', async () => {
    const serverSns = emulator.newSnsClient();
    const clientSns = emulator.newSnsClient();
    destroyAfterTest(cleanups, serverSns, clientSns);
    const serverPublishes = capturePublishes(serverSns);
    const clientPublishes = capturePublishes(clientSns);
    const { requestTopicArn } = await startServer({ fifo: true, manager: { snsClient: serverSns } });
    const channel = await responseChannel({ fifo: true });
    expect(channel.responseTopicArn.endsWith('.fifo')).toBe(true);
    const { client, transport } = await connectClient(requestTopicArn, {
      channel,
      transport: { snsClient: clientSns },
    });
    expect(await echoText(client, 'fifo')).toBe('fifo');
    const sessionId = transport.sessionId as string;
    expect(clientPublishes.map((input) => input.MessageAttributes?.Method?.StringValue)).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/call',
    ]);
    expect(clientPublishes.map((input) => input.MessageGroupId)).toEqual([
      transport.clientId,
      sessionId,
      sessionId,
    ]);
    expect(serverPublishes.length).toBeGreaterThanOrEqual(2);
    for (const input of serverPublishes) expect(input.MessageGroupId).toBe(sessionId);
    const dedupeIds = [...clientPublishes, ...serverPublishes].map((input) => input.MessageDeduplicationId);
    for (const id of dedupeIds) expect(id).toEqual(expect.any(String));
    expect(new Set(dedupeIds).size).toBe(dedupeIds.length);
  });
});
