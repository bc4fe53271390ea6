import { randomUUID } from 'node:crypto';
import { buildClientAttributes, encodeMessage, sessionLogId } from '@asyncmcp/core';
import { countdown, RecordingLogger } from '@asyncmcp/core/testing';
import {
  connectedClient,
  ECHO_ONCE_REQUEST,
  echoFromEach,
  echoText,
  expectUnknownSessionRejected,
  GONE_SESSION_ID,
  sendLateNotification,
  started,
  textOf,
  UNKNOWN_SESSION_ID,
  UNKNOWN_SESSION_REQUEST,
  useQueueTestBed,
  useSqsEmulator,
  watchCalls,
} from '@asyncmcp-internal/test-support';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  SqsClientTransport,
  SqsSessionManager,
  type SqsSessionManagerOptions,
  sqsBackend,
  toSqsAttributes,
} from '../src/index.js';

const FAST_RETRY = { baseMs: 20, maxMs: 200 };
const request = { timeout: 20_000 };

interface Fixture {
  calls: Map<string, number>;
  latch?: Promise<void>;
  /** Called when the `wait` tool starts. */
  onWait?: () => void;
  /** Resolved when the manager has extended a message's visibility this many times. */
  heartbeats?: Promise<void>;
}

function createServer(fixture: Fixture) {
  return () => {
    const server = new McpServer({ name: 'failures', version: '1.0.0' });
    const count = (name: string) => fixture.calls.set(name, (fixture.calls.get(name) ?? 0) + 1);
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => {
      count(`echo:${text}`);
      return { content: [{ type: 'text', text }] };
    });
    server.registerTool('big', { inputSchema: { bytes: z.number().int() } }, async ({ bytes }) => ({
      content: [{ type: 'text', text: 'x'.repeat(bytes) }],
    }));
    server.registerTool('wait', { inputSchema: { tag: z.string() } }, async ({ tag }) => {
      count(`wait:${tag}`);
      fixture.onWait?.();
      await fixture.latch;
      return { content: [{ type: 'text', text: `waited ${tag}` }] };
    });
    server.registerTool('long', {}, async () => {
      count('long');
      await fixture.heartbeats;
      return { content: [{ type: 'text', text: 'long done' }] };
    });
    return server;
  };
}

/** Receives from a queue until a message arrives or the attempts run out (each a bounded long poll). */
async function receiveOne(sqsClient: SQSClient, queueUrl: string, attempts = 10) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { Messages } = await sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    if (Messages?.[0]) return Messages[0];
  }
  throw new Error(`no message on ${queueUrl}`);
}

describe('SQS failure handling', () => {
  const { emulator: sqs, cleanups } = useQueueTestBed();

  async function startManager(fixture: Fixture, options: Partial<SqsSessionManagerOptions> = {}) {
    const requestQueueUrl = options.requestQueueUrl ?? (await sqs.createQueue('requests'));
    const logger = new RecordingLogger();
    const manager = await started(
      new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        createServer: createServer(fixture),
        waitTimeSeconds: 1,
        receiveErrorBackoff: FAST_RETRY,
        logger,
        ...options,
      }),
      cleanups,
    );
    return { manager, requestQueueUrl, logger };
  }

  async function connectClient(requestQueueUrl: string, options: { sqsClient?: SQSClient } = {}) {
    const responseQueueUrl = await sqs.createQueue('responses');
    const transport = new SqsClientTransport({
      sqsClient: options.sqsClient ?? sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl,
      waitTimeSeconds: 1,
      receiveErrorBackoff: FAST_RETRY,
    });
    const client = await connectedClient(transport, cleanups, 'failures-client');
    return { client, transport, responseQueueUrl };
  }

  it('sends an unparseable message to the dead-letter queue as it came, and deletes it from the request queue', async () => {
    const deadLetterQueueUrl = await sqs.createQueue('dlq');
    const { manager, requestQueueUrl, logger } = await startManager(
      { calls: new Map() },
      { deadLetterQueueUrl },
    );
    await sqs.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: requestQueueUrl,
        MessageBody: '{"jsonrpc": "2.0", "id": 1, "method": ',
        MessageAttributes: {
          ClientId: { DataType: 'String', StringValue: 'broken-client' },
          // What no part of the protocol uses, and a flat name → text map cannot hold.
          Priority: { DataType: 'Number.int', StringValue: '7' },
          Trace: { DataType: 'Binary', BinaryValue: Uint8Array.from([1, 2, 3]) },
        },
      }),
    );
    const dead = await receiveOne(sqs.sqsClient, deadLetterQueueUrl);
    expect(dead.Body).toBe('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(dead.MessageAttributes?.ClientId?.StringValue).toBe('broken-client');
    expect(dead.MessageAttributes?.Priority).toMatchObject({ DataType: 'Number.int', StringValue: '7' });
    expect(dead.MessageAttributes?.Trace?.DataType).toBe('Binary');
    expect([...(dead.MessageAttributes?.Trace?.BinaryValue ?? [])]).toEqual([1, 2, 3]);
    await logger.waitFor('poison message');
    expect(manager.metrics.poisoned).toBe(1);
    // The poison message is gone from the request queue once it is dead-lettered.
    await expect.poll(() => sqs.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('deletes an unparseable message with an error log when there is no dead-letter queue', async () => {
    const { manager, requestQueueUrl, logger } = await startManager({ calls: new Map() });
    await sqs.sqsClient.send(
      new SendMessageCommand({ QueueUrl: requestQueueUrl, MessageBody: 'not json at all' }),
    );
    const line = await logger.waitFor('poison message');
    expect(line.level).toBe('error');
    expect(String(line.fields.reason)).toMatch(/^Parse error: /);
    expect(manager.metrics.poisoned).toBe(1);
    await expect.poll(() => sqs.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('logs and counts a message for an unknown session instead of dropping it silently', async () => {
    const { manager, requestQueueUrl, logger } = await startManager({ calls: new Map() });
    const message = UNKNOWN_SESSION_REQUEST;
    await sqs.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: requestQueueUrl,
        MessageBody: encodeMessage(message),
        MessageAttributes: toSqsAttributes(
          buildClientAttributes({ message, clientId: 'c', sessionId: UNKNOWN_SESSION_ID }),
        ),
      }),
    );
    await expectUnknownSessionRejected(logger, () => manager.metrics.unroutable);
  });

  it('turns an answer too large for the queue into a JSON-RPC error for that request', async () => {
    const { requestQueueUrl } = await startManager({ calls: new Map() });
    const { client } = await connectClient(requestQueueUrl);
    await expect(
      client.callTool({ name: 'big', arguments: { bytes: 1_100_000 } }, undefined, request),
    ).rejects.toThrow(/Internal error: Message of \d+ bytes exceeds the SQS message limit of 1048576 bytes/);
    // The session is unharmed.
    expect(await echoText(client, 'after')).toBe('after');
  });

  it('refuses to send a request too large for the queue, before sending it', async () => {
    const { requestQueueUrl } = await startManager({ calls: new Map() });
    const { client } = await connectClient(requestQueueUrl);
    await expect(
      client.callTool({ name: 'echo', arguments: { text: 'y'.repeat(1_100_000) } }, undefined, request),
    ).rejects.toThrow(/exceeds the SQS message limit/);
  });

  it('runs a redelivered request once', async () => {
    const fixture: Fixture = { calls: new Map() };
    const { requestQueueUrl, logger, manager } = await startManager(fixture);
    const { transport, responseQueueUrl } = await connectClient(requestQueueUrl);
    const message = ECHO_ONCE_REQUEST;
    const attributes = buildClientAttributes({ message, clientId: 'dup', sessionId: transport.sessionId });
    const send = () =>
      sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: requestQueueUrl,
          MessageBody: encodeMessage(message),
          MessageAttributes: toSqsAttributes(attributes),
        }),
      );
    await send();
    await send();
    await logger.waitFor('redelivered request skipped');
    expect(fixture.calls.get('echo:once')).toBe(1);
    expect(manager.metrics.duplicates).toBe(1);
    expect(responseQueueUrl).toBeTruthy();
  });

  it('keeps a request that outlives its visibility timeout invisible, and runs it once', async () => {
    const heartbeats = countdown(3, 20_000);
    const fixture: Fixture = { calls: new Map(), heartbeats: heartbeats.done };
    const managerClient = sqs.newClient();
    watchCalls(managerClient, (call) => {
      if (call.ok && call.command === 'ChangeMessageVisibility') heartbeats.signal();
    });
    const { requestQueueUrl } = await startManager(fixture, {
      sqsClient: managerClient,
      visibilityTimeoutSeconds: 1,
    });
    const { client } = await connectClient(requestQueueUrl);
    // The tool returns only after three heartbeats, i.e. well past the one-second visibility timeout.
    expect(textOf(await client.callTool({ name: 'long', arguments: {} }, undefined, request))).toBe(
      'long done',
    );
    expect(fixture.calls.get('long')).toBe(1);
    await expect.poll(() => sqs.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('releases the message and the in-flight place of every call the client cancels', async () => {
    const fixture: Fixture = { calls: new Map(), latch: new Promise(() => {}) };
    // Fewer places than cancelled calls: were a cancelled call to keep its place, the sixth would not start.
    const { manager, requestQueueUrl } = await startManager(fixture, { maxInFlight: 5 });
    const { client } = await connectClient(requestQueueUrl);
    for (let index = 0; index < 20; index++) {
      const started = countdown(1, 10_000);
      fixture.onWait = started.signal;
      const abort = new AbortController();
      const call = client.callTool({ name: 'wait', arguments: { tag: `c${index}` } }, undefined, {
        ...request,
        signal: abort.signal,
      });
      await started.done;
      abort.abort('the user gave up');
      await expect(call).rejects.toThrow();
    }
    expect(fixture.calls.size).toBe(20);
    // Each cancellation freed its place: another call runs at once, and nothing is left on the queue.
    expect(await echoText(client, 'after')).toBe('after');
    await expect.poll(() => manager.metrics.inFlight, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => sqs.queueDepth(requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('lets a running request finish when the manager closes', async () => {
    let release!: () => void;
    const latch = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = countdown(1, 15_000);
    const fixture: Fixture = { calls: new Map(), latch, onWait: started.signal };
    const { manager, requestQueueUrl } = await startManager(fixture);
    const { client } = await connectClient(requestQueueUrl);
    const call = client.callTool({ name: 'wait', arguments: { tag: 'a' } }, undefined, request);
    await started.done;
    const closing = manager.close();
    release();
    await closing;
    expect(textOf(await call)).toBe('waited a');
    expect(manager.sessions.size).toBe(0);
  });

  it('keeps polling through an endpoint that is down at start, and serves once it is back', async () => {
    const name = `late-${randomUUID().slice(0, 8)}`;
    const requestQueueUrl = await sqs.createNamedQueue(name);
    await sqs.stop();
    const logger = new RecordingLogger();
    const manager = new SqsSessionManager({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      createServer: createServer({ calls: new Map() }),
      waitTimeSeconds: 1,
      receiveErrorBackoff: FAST_RETRY,
      logger,
    });
    cleanups.push(() => manager.close());
    try {
      await manager.start();
      const line = await logger.waitFor('receive failed; retrying');
      expect(String(line.fields.err)).toMatch(/SQS endpoint unreachable during ReceiveMessage/);
    } finally {
      await sqs.restart();
    }
    await sqs.createNamedQueue(name);
    await logger.waitFor('receive recovered');
    const { client } = await connectClient(requestQueueUrl);
    expect(await echoText(client, 'back')).toBe('back');
  });

  it('recovers a session when the endpoint goes down and comes back mid-session', async () => {
    const requestName = `mid-${randomUUID().slice(0, 8)}`;
    const requestQueueUrl = await sqs.createNamedQueue(requestName);
    const { logger } = await startManager({ calls: new Map() }, { requestQueueUrl });
    const responseName = `mid-resp-${randomUUID().slice(0, 8)}`;
    const responseQueueUrl = await sqs.createNamedQueue(responseName);
    const transport = new SqsClientTransport({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl,
      waitTimeSeconds: 1,
      receiveErrorBackoff: FAST_RETRY,
    });
    const client = await connectedClient(transport, cleanups, 'mid');
    expect(await echoText(client, 'before')).toBe('before');

    const failuresBefore = logger.entries.length;
    await sqs.stop();
    try {
      await expect(
        client.callTool({ name: 'echo', arguments: { text: 'down' } }, undefined, request),
      ).rejects.toThrow(/SQS endpoint unreachable during SendMessage/);
      await logger.waitFor('receive failed; retrying', 15_000, failuresBefore);
    } finally {
      await sqs.restart();
    }
    await sqs.createNamedQueue(requestName);
    await sqs.createNamedQueue(responseName);
    await logger.waitFor('receive recovered', 15_000, failuresBefore);
    expect(await echoText(client, 'after')).toBe('after');
  });

  it("makes its inbox again before naming it to a new session after the queue service lost it, though the inbox's consumer was not receiving", async () => {
    const requestName = `inbox-lost-${randomUUID().slice(0, 8)}`;
    const requestQueueUrl = await sqs.createNamedQueue(requestName);
    let release!: () => void;
    const latch = new Promise<void>((resolve) => {
      release = resolve;
    });
    const firstWait = countdown(1, 10_000);
    // The worker's own SQS client tells what its inbox's consumer received and deleted: A's
    // notifications/initialized and four calls, and the notification, which settles at once.
    let inbox: string | undefined;
    const inboxReceived = countdown(5, 10_000);
    const inboxDeleted = countdown(1, 10_000);
    const workerSqs = sqs.newClient();
    workerSqs.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if ((args.input as { QueueUrl?: string }).QueueUrl === inbox) {
          if (context.commandName === 'ReceiveMessageCommand') {
            for (const _ of (result.output as { Messages?: unknown[] }).Messages ?? [])
              inboxReceived.signal();
          } else if (context.commandName?.startsWith('DeleteMessage')) inboxDeleted.signal();
        }
        return result;
      },
      { step: 'initialize', name: 'inboxWatch' },
    );
    const { manager, logger } = await startManager(
      { calls: new Map(), latch, onWait: firstWait.signal },
      // A's calls wait out the outage: its clients hear nothing meanwhile, so they are told to wait long.
      { requestQueueUrl, sqsClient: workerSqs, inbox: 'create', maxInFlight: 1, aliveIntervalSeconds: 20 },
    );
    inbox = manager.inboxQueueUrl as string;
    // Session A fills the inbox's consumer: one call runs, held; three wait for its slot. At four received
    // (4 × maxInFlight) it stops receiving, so no receive of the inbox fails while the service is down.
    const responseName = `inbox-lost-a-${randomUUID().slice(0, 8)}`;
    const clientA = await connectedClient(
      new SqsClientTransport({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        responseQueueUrl: await sqs.createNamedQueue(responseName),
        waitTimeSeconds: 1,
        receiveErrorBackoff: FAST_RETRY,
      }),
      cleanups,
      'inbox-lost-a',
    );
    const held = [1, 2, 3, 4].map((n) =>
      clientA.callTool({ name: 'wait', arguments: { tag: `a${n}` } }, undefined, request),
    );
    // Once the notification is deleted and the four calls received, the consumer holds exactly the calls.
    await Promise.all([firstWait.done, inboxReceived.done, inboxDeleted.done]);
    expect(await sqs.inspect(inbox)).toMatchObject({ ready: 0, inFlight: 4 });

    // The queue service goes down and comes back with nothing. The operator makes the request queue again,
    // and A's client its response queue (a client transport given a queue does not make it).
    const before = logger.entries.length;
    await sqs.stop();
    try {
      await logger.waitFor('receive failed; retrying', 15_000, before);
    } finally {
      await sqs.restart();
    }
    await sqs.createNamedQueue(requestName);
    await sqs.createNamedQueue(responseName);

    // Session B opens through the request queue; its initialize answer names the inbox, so the worker
    // makes the inbox first. B's first call goes there and waits for the slot A's calls hold.
    const { client: clientB } = await connectClient(requestQueueUrl);
    expect(logger.entries.some((entry) => entry.message.includes('made sure the worker inbox exists'))).toBe(
      true,
    );
    const callB = echoText(clientB, 'b');
    release();
    expect(await callB).toBe('b');
    expect((await Promise.all(held)).map(textOf)).toEqual([
      'waited a1',
      'waited a2',
      'waited a3',
      'waited a4',
    ]);
  });

  it('logs a missing request queue clearly and keeps retrying', async () => {
    const requestQueueUrl = `${await sqs.createQueue('exists')}-but-not-this-one`;
    const { logger, manager } = await startManager({ calls: new Map() }, { requestQueueUrl });
    const line = await logger.waitFor('receive failed; retrying');
    expect(String(line.fields.err)).toBe(
      `SQS ReceiveMessage failed: queue does not exist: ${requestQueueUrl}`,
    );
    await logger.waitFor('receive failed; retrying', 10_000, logger.entries.indexOf(line) + 1);
    expect(manager.metrics.receiveErrors).toBeGreaterThanOrEqual(2);
  });

  it('deletes a leftover message of an earlier session on its response queue instead of delivering it', async () => {
    const { requestQueueUrl } = await startManager({ calls: new Map() });
    const logger = new RecordingLogger();
    const responseQueueUrl = await sqs.createQueue('reused');
    const transport = new SqsClientTransport({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl,
      waitTimeSeconds: 1,
      logger,
    });
    const client = await connectedClient(transport, cleanups, 'reused-queue');
    const late = { jsonrpc: '2.0' as const, id: 99, result: { content: [] } };
    await sqs.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: responseQueueUrl,
        MessageBody: encodeMessage(late),
        MessageAttributes: { SessionId: { DataType: 'String', StringValue: 'an-earlier-session' } },
      }),
    );
    const line = await logger.waitFor('message for another session deleted');
    expect(line.fields.other).toBe(sessionLogId('an-earlier-session'));
    await expect.poll(() => sqs.queueDepth(responseQueueUrl), { timeout: 10_000 }).toBe(0);
    expect(await echoText(client, 'fine')).toBe('fine');
  });

  it('lets workers share one request queue, each message reaching the worker that holds its session', async () => {
    const first = await startManager({ calls: new Map() }, { releaseUnknownSessions: 50 });
    const second = await startManager(
      { calls: new Map() },
      { requestQueueUrl: first.requestQueueUrl, releaseUnknownSessions: 50 },
    );
    const clients = await Promise.all([0, 1, 2, 3].map(() => connectClient(first.requestQueueUrl)));
    const answers = await Promise.all(
      clients.map(async ({ client }, index) => {
        const texts: string[] = [];
        for (let call = 0; call < 3; call++) {
          texts.push(
            textOf(
              await client.callTool(
                { name: 'echo', arguments: { text: `${index}.${call}` } },
                undefined,
                request,
              ),
            ),
          );
        }
        return texts;
      }),
    );
    expect(answers).toEqual(clients.map((_, index) => [0, 1, 2].map((call) => `${index}.${call}`)));
    // Every session lives in exactly one worker.
    const held = [...first.manager.sessions.keys(), ...second.manager.sessions.keys()].sort();
    expect(held).toEqual(clients.map(({ transport }) => transport.sessionId as string).sort());
  });

  it('gets a request to the worker holding its session while that worker is too busy to receive', async () => {
    // The holder takes at most 4 messages at a time (maxInFlight 1): one call held by the latch and three
    // waiting for its slot fill it, so it stops receiving. The other worker hands the next request
    // back at once for the first half of its 10 hand-backs, then a second at a time, which leaves the
    // holder time to receive again: handed back at once every time, the request came back to the other
    // worker ten times within milliseconds and was answered `Session not found`.
    let open = () => {};
    const latch = new Promise<void>((resolve) => {
      open = resolve;
    });
    const fixture: Fixture = { calls: new Map(), latch };
    const holder = await startManager(fixture, { releaseUnknownSessions: 10, maxInFlight: 1 });
    const { client } = await connectClient(holder.requestQueueUrl);
    // Answered, so the holder has received everything the client sent before (its messages are handed
    // over in order): from here on it receives only the four held calls.
    expect(await echoText(client, 'before')).toBe('before');
    const receivedBefore = holder.manager.metrics.received as number;
    const held = [1, 2, 3, 4].map((tag) =>
      client.callTool({ name: 'wait', arguments: { tag: `held-${tag}` } }, undefined, request),
    );
    await expect
      .poll(() => (holder.manager.metrics.received as number) - receivedBefore, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(4);
    const other = await startManager(
      { calls: new Map() },
      // A receive it leaves open when it stops hides what it takes for its visibility timeout: short.
      { requestQueueUrl: holder.requestQueueUrl, releaseUnknownSessions: 10, visibilityTimeoutSeconds: 2 },
    );
    const probe = client.callTool({ name: 'echo', arguments: { text: 'probe' } }, undefined, request);
    // Five at once, then a second at a time.
    await expect.poll(() => other.manager.metrics.deferred, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(other.manager.metrics.handedBack).toBeGreaterThanOrEqual(6);
    // The other worker stops there, so which worker's receive comes first from now on cannot decide it.
    await other.manager.close();
    open();
    expect(textOf(await probe)).toBe('probe');
    expect((await Promise.all(held)).map(textOf)).toEqual([1, 2, 3, 4].map((tag) => `waited held-${tag}`));
    expect(other.manager.sessions.size).toBe(0);
    await expect.poll(() => sqs.queueDepth(holder.requestQueueUrl), { timeout: 10_000 }).toBe(0);
  });

  it('runs two managers and their clients in one process without sharing state', async () => {
    const first = await startManager({ calls: new Map() });
    const second = await startManager({ calls: new Map() });
    const a = await connectClient(first.requestQueueUrl);
    const b = await connectClient(second.requestQueueUrl);
    expect(await echoText(a.client, 'A')).toBe('A');
    expect(await echoText(b.client, 'B')).toBe('B');
    expect([...first.manager.sessions.keys()]).toEqual([a.transport.sessionId]);
    expect([...second.manager.sessions.keys()]).toEqual([b.transport.sessionId]);
  });
});

describe('sqsBackend', () => {
  const sqs = useSqsEmulator();

  it('serves 50 concurrent gateway sessions through one response queue', async () => {
    const requestQueueUrl = await sqs.createQueue('fifty');
    const manager = new SqsSessionManager({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      createServer: createServer({ calls: new Map() }),
      waitTimeSeconds: 1,
    });
    await manager.start();
    const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
    try {
      const clients = await Promise.all(
        Array.from({ length: 50 }, async (_, index) => {
          const client = new Client({ name: `gw-${index}`, version: '1.0.0' });
          await client.connect(
            await backend.createTransport({ sessionKey: `key-${index}-${randomUUID()}` }),
            request,
          );
          return client;
        }),
      );
      const answers = await echoFromEach(clients);
      expect(answers).toEqual(clients.map((_, index) => `session ${index}`));
      expect(manager.sessions.size).toBe(50);
      expect(backend.stats.unroutable).toBe(0);
      expect(backend.stats.routed).toBeGreaterThanOrEqual(100);
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      await backend.close();
      await manager.close();
    }
  });

  it('follows a worker only when it names an inbox: a session without one holds no worker link', async () => {
    for (const inbox of [undefined, 'create'] as const) {
      const requestQueueUrl = await sqs.createQueue('links');
      const manager = new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        createServer: createServer({ calls: new Map() }),
        waitTimeSeconds: 1,
        ...(inbox === undefined ? {} : { inbox }),
      });
      await manager.start();
      const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
      try {
        const transport = await backend.createTransport({ sessionKey: `key-${randomUUID()}` });
        const client = new Client({ name: 'links', version: '1.0.0' });
        await client.connect(transport, request);
        expect(await echoFromEach([client])).toEqual(['session 0']);
        const { link } = transport as unknown as { link: { inbox: string | undefined } | undefined };
        if (inbox === undefined) expect(link).toBeUndefined();
        else expect(link?.inbox).toMatch(/asyncmcp-worker-/);
        await client.close();
      } finally {
        await backend.close();
        await manager.close();
      }
    }
  });

  it('creates its own response queue when none is given, and deletes it on close', async () => {
    const requestQueueUrl = await sqs.createQueue('own-queue');
    const backend = sqsBackend({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueNamePrefix: 'mine-',
      waitTimeSeconds: 1,
    });
    await backend.start();
    const responseQueueUrl = backend.responseQueueUrl as string;
    expect(responseQueueUrl).toMatch(/mine-[0-9a-f]{12}$/);
    await expect(sqs.queueDepth(responseQueueUrl)).resolves.toBe(0);
    await backend.close();
    await expect(sqs.queueDepth(responseQueueUrl)).rejects.toThrow();
  });

  it('drops a message for no live session with a log line and a count', async () => {
    const requestQueueUrl = await sqs.createQueue('stray');
    const logger = new RecordingLogger();
    const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1, logger });
    try {
      await backend.start();
      await sendLateNotification(sqs.sqsClient, backend.responseQueueUrl as string);
      const line = await logger.waitFor('message for no live gateway session dropped');
      expect(line.fields.sessionId).toBe(sessionLogId(GONE_SESSION_ID));
      expect(backend.stats.unroutable).toBe(1);
    } finally {
      await backend.close();
    }
  });

  it('reports readiness from the request queue', async () => {
    const requestQueueUrl = await sqs.createQueue('ready');
    const ready = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl });
    await expect(ready.checkReady?.()).resolves.toBeUndefined();
    const missing = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl: `${requestQueueUrl}-missing` });
    await expect(missing.checkReady?.()).rejects.toThrow(/queue does not exist/);
    await ready.close();
    await missing.close();
  });
});
