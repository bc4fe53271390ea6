import { randomUUID } from 'node:crypto';
import { buildClientAttributes, encodeMessage } from '@asyncmcp/core';
import { countdown, RecordingLogger } from '@asyncmcp/core/testing';
import { toSqsAttributes } from '@asyncmcp/sqs';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import {
  SnsSqsClientTransport,
  SnsSqsSessionManager,
  type SnsSqsSessionManagerOptions,
} from '../src/index.js';
import {
  connectedClient,
  ECHO_ONCE_REQUEST,
  echoText,
  expectUnknownSessionRejected,
  initializeRequest,
  publish,
  type ServerFixture,
  testServerFactory,
  textOf,
  UNKNOWN_SESSION_ID,
  UNKNOWN_SESSION_REQUEST,
  useQueueTestBed,
  watchCalls,
} from './support.js';

const FAST_RETRY = { baseMs: 20, maxMs: 200 };
const request = { timeout: 20_000 };

const { emulator, cleanups } = useQueueTestBed();

/** Makes (or, after a restart, makes again) a topic with a queue subscribed to it, by fixed names. */
async function topicWithQueue(name: string, raw = false) {
  const topicArn = await emulator.createNamedTopic(name);
  const queueUrl = await emulator.createNamedQueue(name);
  await emulator.subscribe(topicArn, queueUrl, { raw });
  return { topicArn, queueUrl };
}

function newManager(
  requestQueueUrl: string,
  fixture: ServerFixture,
  options: Partial<SnsSqsSessionManagerOptions>,
) {
  const logger = new RecordingLogger();
  const manager = new SnsSqsSessionManager({
    snsClient: emulator.snsClient,
    sqsClient: emulator.sqsClient,
    requestQueueUrl,
    createServer: testServerFactory(fixture),
    waitTimeSeconds: 1,
    receiveErrorBackoff: FAST_RETRY,
    logger,
    ...options,
  });
  cleanups.push(() => manager.close());
  return { manager, logger };
}

async function startServer(
  options: Partial<SnsSqsSessionManagerOptions> = {},
  fixture: ServerFixture = { calls: new Map() },
) {
  const { topicArn: requestTopicArn, queueUrl: requestQueueUrl } = await topicWithQueue(
    `requests-${randomUUID().slice(0, 8)}`,
  );
  const { manager, logger } = newManager(requestQueueUrl, fixture, options);
  await manager.start();
  return { manager, logger, requestTopicArn, requestQueueUrl, fixture };
}

async function connectClient(requestTopicArn: string, response?: { topicArn: string; queueUrl: string }) {
  const channel = response ?? (await topicWithQueue(`responses-${randomUUID().slice(0, 8)}`));
  const logger = new RecordingLogger();
  const transport = new SnsSqsClientTransport({
    snsClient: emulator.snsClient,
    sqsClient: emulator.sqsClient,
    requestTopicArn,
    responseTopicArn: channel.topicArn,
    responseQueueUrl: channel.queueUrl,
    waitTimeSeconds: 1,
    receiveErrorBackoff: FAST_RETRY,
    logger,
  });
  const client = await connectedClient(transport, cleanups, 'failures-client');
  return { client, transport, logger };
}

describe('malformed and unroutable messages', () => {
  it('dead-letters an unparseable message (the envelope as it came) and deletes it', async () => {
    const deadLetterQueueUrl = await emulator.createQueue('dlq');
    const { manager, logger, requestTopicArn, requestQueueUrl } = await startServer({ deadLetterQueueUrl });
    await publish(emulator.snsClient, requestTopicArn, '{"jsonrpc": "2.0", "id": 1, "method": ', {
      ClientId: { DataType: 'String', StringValue: 'broken-client' },
    });
    const line = await logger.waitFor('poison message');
    expect(String(line.fields.reason)).toMatch(/^Parse error: /);
    const { Messages } = await emulator.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, WaitTimeSeconds: 5 }),
    );
    const dead = JSON.parse(Messages?.[0]?.Body ?? '{}') as Record<string, unknown>;
    expect(dead).toMatchObject({ Type: 'Notification', TopicArn: requestTopicArn });
    expect(dead.Message).toBe('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(manager.metrics.poisoned).toBe(1);
    await expect.poll(() => emulator.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('deletes an unparseable message with an error log when there is no dead-letter queue', async () => {
    const { manager, logger, requestTopicArn, requestQueueUrl } = await startServer();
    await publish(emulator.snsClient, requestTopicArn, 'not json at all');
    const line = await logger.waitFor('poison message');
    expect(line.level).toBe('error');
    expect(manager.metrics.poisoned).toBe(1);
    await expect.poll(() => emulator.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('logs and counts a message for an unknown session', async () => {
    const { manager, logger, requestTopicArn } = await startServer();
    const message = UNKNOWN_SESSION_REQUEST;
    const attributes = buildClientAttributes({ message, clientId: 'c', sessionId: UNKNOWN_SESSION_ID });
    await publish(emulator.snsClient, requestTopicArn, encodeMessage(message), toSqsAttributes(attributes));
    await expectUnknownSessionRejected(logger, () => manager.metrics.unroutable);
  });

  it('answers a terminated session’s request with an error carrying its id', async () => {
    const { manager, requestTopicArn } = await startServer();
    const { client, transport } = await connectClient(requestTopicArn);
    const sessionId = transport.sessionId as string;
    expect(await manager.terminateSession(sessionId)).toBe(true);
    await expect(client.listTools(undefined, request)).rejects.toThrow(
      `Session has been terminated: ${sessionId}`,
    );
  });

  it('refuses an initialize that names no client topic, with a log line', async () => {
    const { manager, logger, requestTopicArn } = await startServer();
    const initialize = initializeRequest(1, { meta: { responseQueueUrl: 'http://wrong-transport' } });
    await publish(
      emulator.snsClient,
      requestTopicArn,
      encodeMessage(initialize),
      toSqsAttributes(buildClientAttributes({ message: initialize, clientId: 'c' })),
    );
    const line = await logger.waitFor('message rejected: initialize without a reply address');
    expect(line.fields.detail).toBe('Validation error: initialize is missing _meta.clientTopicArn');
    expect(manager.sessions.size).toBe(0);
  });

  it('runs a request published twice once', async () => {
    const fixture: ServerFixture = { calls: new Map() };
    const { manager, logger, requestTopicArn } = await startServer({}, fixture);
    const { transport } = await connectClient(requestTopicArn);
    const message = ECHO_ONCE_REQUEST;
    const attributes = toSqsAttributes(
      buildClientAttributes({ message, clientId: 'dup', sessionId: transport.sessionId }),
    );
    await publish(emulator.snsClient, requestTopicArn, encodeMessage(message), attributes);
    await publish(emulator.snsClient, requestTopicArn, encodeMessage(message), attributes);
    await logger.waitFor('redelivered request skipped');
    expect(fixture.calls.get('echo:once')).toBe(1);
    expect(manager.metrics.duplicates).toBe(1);
  });

  it('rejects a send to a request topic that does not exist, naming the topic', async () => {
    const { requestTopicArn } = await startServer();
    const missing = `${requestTopicArn}-missing`;
    const channel = await topicWithQueue(`responses-${randomUUID().slice(0, 8)}`);
    const transport = new SnsSqsClientTransport({
      snsClient: emulator.snsClient,
      sqsClient: emulator.sqsClient,
      requestTopicArn: missing,
      responseTopicArn: channel.topicArn,
      responseQueueUrl: channel.queueUrl,
      waitTimeSeconds: 1,
    });
    const client = new Client({ name: 'lost', version: '1.0.0' });
    cleanups.push(() => client.close());
    await expect(client.connect(transport, request)).rejects.toThrow(
      `SNS Publish failed: topic does not exist: ${missing}`,
    );
  });
});

describe('an unreachable endpoint', () => {
  it('keeps polling through an endpoint that is down at start, and serves once it is back', async () => {
    const name = `late-${randomUUID().slice(0, 8)}`;
    const { queueUrl: requestQueueUrl } = await topicWithQueue(name);
    await emulator.stop();
    const { manager, logger } = newManager(requestQueueUrl, { calls: new Map() }, {});
    try {
      await manager.start();
      const line = await logger.waitFor('receive failed; retrying');
      expect(String(line.fields.err)).toMatch(/SQS endpoint unreachable during ReceiveMessage/);
    } finally {
      await emulator.restart();
    }
    const { topicArn: requestTopicArn } = await topicWithQueue(name);
    await logger.waitFor('receive recovered');
    const { client } = await connectClient(requestTopicArn);
    expect(await echoText(client, 'back')).toBe('back');
  });

  it('recovers a session when the endpoint goes down and comes back mid-session', async () => {
    const requestName = `mid-${randomUUID().slice(0, 8)}`;
    const responseName = `mid-resp-${randomUUID().slice(0, 8)}`;
    const requests = await topicWithQueue(requestName);
    const { manager, logger } = newManager(requests.queueUrl, { calls: new Map() }, {});
    await manager.start();
    const responses = await topicWithQueue(responseName, true);
    const { client, transport, logger: clientLogger } = await connectClient(requests.topicArn, responses);
    expect(await echoText(client, 'before')).toBe('before');

    const serverMark = logger.entries.length;
    const clientMark = clientLogger.entries.length;
    await emulator.stop();
    try {
      await expect(
        client.callTool({ name: 'echo', arguments: { text: 'down' } }, undefined, request),
      ).rejects.toThrow(`SNS endpoint unreachable during Publish on ${requests.topicArn}`);
      await logger.waitFor('receive failed; retrying', 15_000, serverMark);
      await clientLogger.waitFor('receive failed; retrying', 15_000, clientMark);
    } finally {
      await emulator.restart();
    }
    await topicWithQueue(requestName);
    await topicWithQueue(responseName, true);
    await logger.waitFor('receive recovered', 15_000, serverMark);
    await clientLogger.waitFor('receive recovered', 15_000, clientMark);
    expect(await echoText(client, 'after')).toBe('after');
    expect(manager.sessions.has(transport.sessionId as string)).toBe(true);
  });
});

describe('delivery semantics inherited from SqsSessionManager', () => {
  it('keeps a running request on the queue, extending its visibility, until its answer is published', async () => {
    const heartbeats = countdown(3, 20_000);
    const started = countdown(1, 15_000);
    const fixture: ServerFixture = { calls: new Map(), gate: heartbeats.done, onWait: started.signal };
    const sqsClient = emulator.newClient();
    cleanups.push(async () => sqsClient.destroy());
    watchCalls(sqsClient, (call) => {
      if (call.ok && call.command === 'ChangeMessageVisibility') heartbeats.signal();
    });
    const { manager, requestTopicArn, requestQueueUrl } = await startServer(
      { sqsClient, visibilityTimeoutSeconds: 1 },
      fixture,
    );
    const { client } = await connectClient(requestTopicArn);
    const call = client.callTool({ name: 'wait', arguments: {} }, undefined, request);
    await started.done;
    // Running: still on the queue (in flight), not deleted on hand-off — once the session's earlier
    // messages, settled already, have been deleted together.
    await expect.poll(() => emulator.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(1);
    // The tool answers only after three heartbeats, well past the one-second visibility timeout.
    expect(textOf(await call)).toBe('waited');
    expect(fixture.calls.get('wait')).toBe(1);
    await expect.poll(() => emulator.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
    expect(manager.metrics.duplicates).toBe(0);
  });
});
