import { randomUUID } from 'node:crypto';
import { ConfigurationError, type JSONRPCMessage, type MessageExtraInfo, sessionLogId } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { LEASE_TAG, MADE_BY_TAG } from '@asyncmcp/sqs';
import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { type SnsSqsBackend, type SnsSqsBackendOptions, snsSqsBackend } from '../src/index.js';
import {
  commandNamesOf,
  connectedClient,
  destroyAfterTest,
  echoFromEach,
  echoText,
  GONE_SESSION_ID,
  QueueReader,
  sendLateNotification,
  startManager,
  textOf,
  useQueueTestBed,
} from './support.js';

const request = { timeout: 20_000 };

const { emulator, cleanups } = useQueueTestBed();

async function startServer() {
  const requestTopicArn = await emulator.createTopic('gw-requests');
  const requestQueueUrl = await emulator.createQueue('gw-requests');
  await emulator.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
  const manager = await startManager(emulator, cleanups, {
    requestQueueUrl,
  });
  return { manager, requestTopicArn, requestQueueUrl };
}

function newBackend(options: Partial<SnsSqsBackendOptions> & { requestTopicArn: string }): SnsSqsBackend {
  const backend = snsSqsBackend({
    snsClient: emulator.snsClient,
    sqsClient: emulator.sqsClient,
    waitTimeSeconds: 1,
    ...options,
  });
  cleanups.push(() => backend.close());
  return backend;
}

async function connect(backend: SnsSqsBackend, name = 'gw') {
  const transport = await backend.createTransport({ sessionKey: `${name}-${randomUUID()}` });
  const client = await connectedClient(transport, cleanups, name);
  return { client, transport };
}

const exists = {
  topic: (TopicArn: string) =>
    emulator.snsClient.send(new GetTopicAttributesCommand({ TopicArn })).then(
      () => true,
      () => false,
    ),
  queue: (QueueUrl: string) =>
    emulator.sqsClient.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })).then(
      () => true,
      () => false,
    ),
};

async function subscriptionsOf(TopicArn: string) {
  const { Subscriptions } = await emulator.snsClient.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
  return Promise.all(
    (Subscriptions ?? []).map(async (subscription) => {
      const { Attributes } = await emulator.snsClient.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.SubscriptionArn }),
      );
      return { endpoint: subscription.Endpoint, attributes: Attributes ?? {} };
    }),
  );
}

describe('snsSqsBackend', () => {
  it('serves 50 concurrent gateway sessions through one response topic and queue', async () => {
    const { manager, requestTopicArn } = await startServer();
    const backend = newBackend({ requestTopicArn });
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, index) => connect(backend, `fifty-${index}`)),
    );
    const answers = await echoFromEach(clients.map(({ client }) => client));
    expect(answers).toEqual(clients.map((_, index) => `session ${index}`));
    expect(manager.sessions.size).toBe(50);
    for (const { transport } of clients)
      expect(manager.sessions.has(transport.sessionId as string)).toBe(true);
    expect(backend.stats.unroutable).toBe(0);
    expect(backend.stats.invalid).toBe(0);
    expect(backend.stats.routed).toBeGreaterThanOrEqual(100);
  });

  it("on a topic of its own, proposes the fleet's session id for the key (never the key), and the server adopts it", async () => {
    const { manager, requestTopicArn } = await startServer();
    const backend = newBackend({ requestTopicArn, instanceId: 'gw_1' });
    expect(backend.fleet).toBeDefined();
    const sessionKey = (backend.fleet as NonNullable<typeof backend.fleet>).mintSessionKey();
    const transport = await backend.createTransport({ sessionKey });
    const _client = await connectedClient(transport, cleanups, 'proposal');
    expect(transport.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(sessionKey).not.toContain(transport.sessionId);
    expect([...manager.sessions.keys()]).toEqual([transport.sessionId]);
  });

  it('on a response topic shared with other instances, proposes <instanceId>.<random>, and adopts no session of theirs', async () => {
    const { manager, requestTopicArn } = await startServer();
    const responseTopicArn = await emulator.createTopic('gw-shared-responses');
    const backend = newBackend({ requestTopicArn, responseTopicArn, instanceId: 'gw_1' });
    // Answers reach this instance by the prefix its queue's filter matches: sessions stay with it.
    expect(backend.fleet).toBeUndefined();
    const transport = await backend.createTransport({ sessionKey: 'key-1' });
    const _client = await connectedClient(transport, cleanups, 'proposal');
    expect(transport.sessionId).toMatch(/^gw_1\.[0-9a-f]{32}$/);
    expect(transport.sessionId).not.toContain('key-1');
    expect([...manager.sessions.keys()]).toEqual([transport.sessionId]);
  });

  it('makes its own topic, queue and raw subscription, lets only that topic send, and removes them on close', async () => {
    const { requestTopicArn } = await startServer();
    const backend = newBackend({ requestTopicArn, resourceNamePrefix: 'mine-', instanceId: 'own' });
    await backend.start();
    const topicArn = backend.responseTopicArn as string;
    const queueUrl = backend.responseQueueUrl as string;
    expect(topicArn).toMatch(/:mine-own-[0-9a-f]{6}$/);
    expect(queueUrl).toMatch(/\/mine-own-[0-9a-f]{6}$/);
    const [subscription, ...others] = await subscriptionsOf(topicArn);
    expect(others).toEqual([]);
    expect(subscription?.endpoint).toBe(await emulator.queueArn(queueUrl));
    expect(subscription?.attributes.RawMessageDelivery).toBe('true');
    // Its own topic carries only its own sessions: no filter needed.
    expect(subscription?.attributes.FilterPolicy).toBeUndefined();
    const { Attributes } = await emulator.sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['Policy'] }),
    );
    expect(JSON.parse(Attributes?.Policy ?? '{}')).toMatchObject({
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
        },
      ],
    });
    const { client } = await connect(backend);
    expect(await echoText(client, 'own')).toBe('own');
    await backend.close();
    expect(await exists.topic(topicArn)).toBe(false);
    expect(await exists.queue(queueUrl)).toBe(false);
  });

  it('on a topic it is given, subscribes a queue of its own filtered to its sessions, and leaves the topic', async () => {
    const { requestTopicArn } = await startServer();
    const responseTopicArn = await emulator.createTopic('given-topic');
    const backend = newBackend({
      requestTopicArn,
      responseTopicArn,
      instanceId: 'filtered',
      rawMessageDelivery: false,
    });
    const { client } = await connect(backend);
    expect(await echoText(client, 'given')).toBe('given');
    const queueUrl = backend.responseQueueUrl as string;
    const [subscription] = await subscriptionsOf(responseTopicArn);
    expect(subscription?.attributes.RawMessageDelivery).toBe('false');
    expect(JSON.parse(subscription?.attributes.FilterPolicy ?? '{}')).toEqual({
      SessionId: [{ prefix: 'filtered.' }],
    });
    await backend.close();
    expect(await exists.queue(queueUrl)).toBe(false);
    expect(await subscriptionsOf(responseTopicArn)).toEqual([]);
    expect(await exists.topic(responseTopicArn)).toBe(true);
  });

  it('with a queue it is given, makes a topic, subscribes that queue, and removes only the topic', async () => {
    const { requestTopicArn } = await startServer();
    const responseQueueUrl = await emulator.createQueue('given-queue');
    const backend = newBackend({ requestTopicArn, responseQueueUrl });
    const { client } = await connect(backend);
    expect(await echoText(client, 'q')).toBe('q');
    const topicArn = backend.responseTopicArn as string;
    const [subscription] = await subscriptionsOf(topicArn);
    expect(subscription?.endpoint).toBe(await emulator.queueArn(responseQueueUrl));
    // The operator's queue keeps the policy the operator gave it.
    const { Attributes } = await emulator.sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: responseQueueUrl, AttributeNames: ['Policy'] }),
    );
    expect(Attributes?.Policy).toBeUndefined();
    await backend.close();
    expect(await exists.topic(topicArn)).toBe(false);
    expect(await exists.queue(responseQueueUrl)).toBe(true);
  });

  it('closed while still making its resources, removes them and never polls', async () => {
    const { requestTopicArn } = await startServer();
    const sqsClient = emulator.newClient();
    cleanups.push(async () => sqsClient.destroy());
    const sqs = commandNamesOf(sqsClient);
    const backend = newBackend({ requestTopicArn, sqsClient });
    const starting = backend.start();
    await backend.close();
    await starting;
    expect(await exists.topic(backend.responseTopicArn as string)).toBe(false);
    expect(await exists.queue(backend.responseQueueUrl as string)).toBe(false);
    expect(sqs).not.toContain('ReceiveMessageCommand');
    await expect(backend.createTransport({ sessionKey: 'late' })).rejects.toThrow('The backend is closed');
  });

  it('given both topic and queue, makes and removes nothing', async () => {
    const { requestTopicArn } = await startServer();
    const responseTopicArn = await emulator.createTopic('both-topic');
    const responseQueueUrl = await emulator.createQueue('both-queue');
    await emulator.subscribe(responseTopicArn, responseQueueUrl);
    const snsClient = emulator.newSnsClient();
    const sqsClient = emulator.newClient();
    destroyAfterTest(cleanups, snsClient, sqsClient);
    const sns = commandNamesOf(snsClient);
    const sqs = commandNamesOf(sqsClient);
    const backend = newBackend({ requestTopicArn, responseTopicArn, responseQueueUrl, snsClient, sqsClient });
    const { client } = await connect(backend);
    expect(await echoText(client, 'b')).toBe('b');
    await client.close();
    await backend.close();
    expect(new Set(sns)).toEqual(new Set(['PublishCommand']));
    expect(
      sqs.filter(
        (name) =>
          !['ReceiveMessageCommand', 'DeleteMessageCommand', 'DeleteMessageBatchCommand'].includes(name),
      ),
    ).toEqual([]);
    expect(await exists.topic(responseTopicArn)).toBe(true);
    expect(await exists.queue(responseQueueUrl)).toBe(true);
    expect(await subscriptionsOf(responseTopicArn)).toHaveLength(1);
  });

  it('two gateway instances share one response topic; filters keep each instance’s traffic in its own queue', async () => {
    const { manager, requestTopicArn } = await startServer();
    const responseTopicArn = await emulator.createTopic('shared-gateway-topic');
    // An unfiltered queue on the same topic sees what SNS fans out: both instances' traffic.
    const everything = new QueueReader(emulator.sqsClient, await emulator.createQueue('gateway-observer'));
    await emulator.subscribe(responseTopicArn, everything.queueUrl, { raw: true });
    const instances = ['east', 'west'].map((instanceId) => ({
      instanceId,
      logger: new RecordingLogger(),
    }));
    const backends = instances.map(({ instanceId, logger }) =>
      newBackend({ requestTopicArn, responseTopicArn, instanceId, logger }),
    );
    const sessions = await Promise.all(
      backends.flatMap((backend, index) =>
        [0, 1, 2].map((n) => connect(backend, `${instances[index]?.instanceId}-${n}`)),
      ),
    );
    const answers = await Promise.all(
      sessions.map(async ({ client }, index) =>
        textOf(await client.callTool({ name: 'echo', arguments: { text: `s${index}` } }, undefined, request)),
      ),
    );
    expect(answers).toEqual(sessions.map((_, index) => `s${index}`));
    expect(manager.sessions.size).toBe(6);
    for (const [index, backend] of backends.entries()) {
      // Not one message of the other instance reached this one's queue.
      expect(backend.stats.unroutable).toBe(0);
      expect(backend.stats.routed).toBe(6);
      expect(instances[index]?.logger.entries.filter((entry) => entry.level !== 'info')).toEqual([]);
    }
    await expect
      .poll(
        async () => {
          const seen = await everything.drain();
          return ['east', 'west'].map(
            (prefix) =>
              seen.filter((message) => message.attributes.SessionId?.startsWith(`${prefix}.`)).length,
          );
        },
        { timeout: 10_000 },
      )
      .toEqual([6, 6]);
  });

  it('passes the id of the client request a progress notification belongs to', async () => {
    const { requestTopicArn } = await startServer();
    const backend = newBackend({ requestTopicArn });
    const { client, transport } = await connect(backend);
    const seen: Array<{
      message: JSONRPCMessage;
      extra: (MessageExtraInfo & { relatedRequestId?: unknown }) | undefined;
    }> = [];
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      seen.push({ message, extra });
      deliver?.(message, extra);
    };
    const progress: number[] = [];
    const result = await client.callTool({ name: 'progress', arguments: { steps: 2 } }, undefined, {
      ...request,
      onprogress: (event) => progress.push(event.progress),
    });
    expect(textOf(result)).toBe('done 2');
    expect(progress).toEqual([1, 2]);
    const answer = seen.find(({ message }) => 'result' in message);
    const notifications = seen.filter(
      ({ message }) => 'method' in message && message.method === 'notifications/progress',
    );
    expect(notifications).toHaveLength(2);
    // The client's own id (the SDK's counter), not the gateway id the server saw.
    for (const { extra } of notifications) {
      expect(extra?.relatedRequestId).toBe((answer?.message as { id: unknown }).id);
    }
  });

  it('drops a message for no live session with a log line and a count', async () => {
    const { requestTopicArn } = await startServer();
    const logger = new RecordingLogger();
    const backend = newBackend({ requestTopicArn, logger });
    await backend.start();
    await sendLateNotification(emulator.sqsClient, backend.responseQueueUrl as string);
    const line = await logger.waitFor('message for no live gateway session dropped');
    expect(line.fields.sessionId).toBe(sessionLogId(GONE_SESSION_ID));
    expect(backend.stats.unroutable).toBe(1);
  });

  it('refuses a request too large for SNS before publishing it', async () => {
    const { requestTopicArn } = await startServer();
    const backend = newBackend({ requestTopicArn, maxMessageBytes: 4_096 });
    const { client } = await connect(backend);
    await expect(
      client.callTool({ name: 'echo', arguments: { text: 'z'.repeat(5_000) } }, undefined, request),
    ).rejects.toThrow(/exceeds the SNS message limit of 4096 bytes/);
    expect(await echoText(client, 'fits')).toBe('fits');
  });

  it('reports readiness from the request topic', async () => {
    const { requestTopicArn } = await startServer();
    await expect(newBackend({ requestTopicArn }).checkReady()).resolves.toBeUndefined();
    await expect(newBackend({ requestTopicArn: `${requestTopicArn}-missing` }).checkReady()).rejects.toThrow(
      `SNS GetTopicAttributes failed: topic does not exist: ${requestTopicArn}-missing`,
    );
  });

  it('refuses bad options when it is made', () => {
    const base = { snsClient: emulator.snsClient, sqsClient: emulator.sqsClient };
    expect(() => snsSqsBackend({ ...base, requestTopicArn: '' })).toThrow(ConfigurationError);
    expect(() => snsSqsBackend({ ...base, requestTopicArn: 'arn:t', instanceId: 'has.dot' })).toThrow(
      /instanceId "has.dot" must be/,
    );
    expect(() =>
      snsSqsBackend({
        ...base,
        requestTopicArn: 'arn:t',
        messageAttributes: { A: '1', B: '2', C: '3', D: '4' },
      }),
    ).toThrow(ConfigurationError);
    const backend = snsSqsBackend({ ...base, requestTopicArn: 'arn:t' });
    expect(backend).toMatchObject({ specificationVersion: 'v1', name: 'sns-sqs' });
    expect(backend.instanceId).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('snsSqsBackend: what a killed instance left behind', () => {
  const past = () => String(Math.floor(Date.now() / 1000) - 60);
  const future = () => String(Math.floor(Date.now() / 1000) + 600);

  /** A queue as a gateway instance makes it: its name, and its lease (none for one made by hand). */
  async function leftoverQueue(name: string, until?: string): Promise<string> {
    const created = await emulator.sqsClient.send(
      new CreateQueueCommand({
        QueueName: name,
        tags: until === undefined ? undefined : { [LEASE_TAG]: until },
      }),
    );
    return created.QueueUrl as string;
  }

  it('removes, on start, the topic, queue and subscription of an instance whose lease ran out, and only those', async () => {
    const { requestTopicArn } = await startServer();
    const prefix = `swept-${randomUUID().slice(0, 8)}-`;
    const made: Record<string, { topicArn: string; queueUrl: string }> = {};
    for (const [name, until] of [
      ['killed', past()],
      ['alive', future()],
      ['by-hand', undefined],
    ] as const) {
      const topicArn = await emulator.createNamedTopic(`${prefix}${name}`);
      const queueUrl = await leftoverQueue(`${prefix}${name}`, until);
      await emulator.subscribe(topicArn, queueUrl, { raw: true });
      made[name] = { topicArn, queueUrl };
    }
    // A leftover queue with no topic of its name, made before queues named their maker: only the queue.
    // (One an sqs gateway of the same prefix makes now names it, and is left to an sqs gateway's sweep.)
    const lone = await leftoverQueue(`${prefix}lone`, past());
    const logger = new RecordingLogger();
    const backend = newBackend({ requestTopicArn, resourceNamePrefix: prefix, logger });
    await backend.start();
    // Two leftovers ran out of lease: two queues deleted.
    const deletedQueue = 'deleted the response queue of a gateway instance that stopped without removing it';
    const first = await logger.waitFor(deletedQueue);
    await logger.waitFor(deletedQueue, 15_000, logger.entries.indexOf(first) + 1);
    expect(await exists.queue(lone)).toBe(false);
    const topicsDeleted = logger.entries.filter((entry) =>
      entry.message.includes('deleted the response topic'),
    );
    expect(topicsDeleted.map((entry) => entry.fields?.responseTopicArn)).toEqual([
      (made.killed as { topicArn: string }).topicArn,
    ]);

    const killed = made.killed as { topicArn: string; queueUrl: string };
    expect(await exists.queue(killed.queueUrl)).toBe(false);
    // The topic went with it, and its subscription with the topic.
    expect(await exists.topic(killed.topicArn)).toBe(false);
    expect(
      logger.entries.find((entry) => entry.message.includes('deleted the response topic'))?.fields,
    ).toMatchObject({ responseTopicArn: killed.topicArn });
    for (const kept of ['alive', 'by-hand'] as const) {
      const { topicArn, queueUrl } = made[kept] as { topicArn: string; queueUrl: string };
      expect(await exists.queue(queueUrl)).toBe(true);
      expect(await exists.topic(topicArn)).toBe(true);
      expect(await subscriptionsOf(topicArn)).toHaveLength(1);
    }
    // Its own queue holds a lease of its own, about 15 minutes ahead (the default).
    const { Tags } = await emulator.sqsClient.send(
      new ListQueueTagsCommand({ QueueUrl: backend.responseQueueUrl as string }),
    );
    expect(Number(Tags?.[LEASE_TAG]) * 1000).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(Tags?.[MADE_BY_TAG]).toBe('sns-sqs');
  });

  it("on a response topic the fleet shares, removes a killed instance's queue and its subscription, and leaves the topic", async () => {
    const { requestTopicArn } = await startServer();
    const responseTopicArn = await emulator.createTopic('shared-responses');
    const prefix = `swept-shared-${randomUUID().slice(0, 8)}-`;
    const killedQueue = await leftoverQueue(`${prefix}killed`, past());
    const aliveQueue = await leftoverQueue(`${prefix}alive`, future());
    await emulator.subscribe(responseTopicArn, killedQueue, { raw: true });
    await emulator.subscribe(responseTopicArn, aliveQueue, { raw: true });
    const logger = new RecordingLogger();
    const backend = newBackend({ requestTopicArn, responseTopicArn, resourceNamePrefix: prefix, logger });
    await backend.start();
    await logger.waitFor('deleted the response queue of a gateway instance that stopped without removing it');

    expect(await exists.queue(killedQueue)).toBe(false);
    expect(await exists.queue(aliveQueue)).toBe(true);
    expect(await exists.topic(responseTopicArn)).toBe(true);
    const endpoints = (await subscriptionsOf(responseTopicArn)).map((subscription) => subscription.endpoint);
    expect(endpoints.sort()).toEqual(
      [
        await emulator.queueArn(aliveQueue),
        await emulator.queueArn(backend.responseQueueUrl as string),
      ].sort(),
    );
    expect(logger.entries.some((entry) => entry.message.includes('removed the subscription'))).toBe(true);
  });
});
