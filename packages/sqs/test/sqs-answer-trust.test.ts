import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RecordingLogger } from '@asyncmcp/core/testing';
import {
  connectedClient,
  initializeRequest,
  pyClientAttributes,
  pyServerAttributes,
  resolveLocalhostNames,
  started,
  textOf,
  useQueueTestBed,
} from '@asyncmcp-internal/test-support';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import { SqsClientTransport, SqsSessionManager, sqsBackend } from '../src/index.js';

const request = { timeout: 20_000 };

/** A server whose `wait` tool runs until the test releases it: a call pending as long as needed. */
function latchedServer() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started!: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const createServer = () => {
    const server = new McpServer({ name: 'trust', version: '1.0.0' });
    server.registerTool('wait', {}, async () => {
      started();
      await released;
      return { content: [{ type: 'text', text: 'genuine' }] };
    });
    return server;
  };
  return { createServer, release, running };
}

/** An HTTP server standing for a host of the attacker's: it counts every request that reaches it. */
async function countingServer() {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(400).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function initializeBody(id: number, responseQueueUrl: string): string {
  return JSON.stringify(
    initializeRequest(id, { clientInfo: { name: 'intruder', version: '1' }, meta: { responseQueueUrl } }),
  );
}

describe('trust on shared queues: SQS', () => {
  const { emulator: sqs, cleanups } = useQueueTestBed();

  async function startManager(options: { deadLetterQueueUrl?: string; allowed?: string[] } = {}) {
    const requestQueueUrl = await sqs.createQueue('trust-requests');
    const logger = new RecordingLogger();
    const latch = latchedServer();
    const manager = await started(
      new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        createServer: latch.createServer,
        waitTimeSeconds: 1,
        deadLetterQueueUrl: options.deadLetterQueueUrl,
        allowedResponseDestinations: options.allowed,
        logger,
      }),
      cleanups,
    );
    return { manager, requestQueueUrl, logger, latch };
  }

  it('answers no message that names a queue off its endpoint or account, and dead-letters each', async () => {
    const attacker = await countingServer();
    cleanups.push(() => attacker.close());
    const deadLetterQueueUrl = await sqs.createQueue('trust-dlq');
    const { manager, requestQueueUrl, logger } = await startManager({ deadLetterQueueUrl });
    const ownQueue = await sqs.createQueue('trust-own');
    const otherAccount = ownQueue.replace('/000000000000/', '/999999999999/');
    const send = (body: string, attributes = pyClientAttributes({ method: 'initialize', id: 1 })) =>
      sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: requestQueueUrl,
          MessageBody: body,
          MessageAttributes: attributes,
        }),
      );
    await send(initializeBody(1, `${attacker.origin}/000000000000/answers`));
    await send(initializeBody(2, otherAccount));
    // A request for a session nobody holds names where to say so: refused too, not answered there.
    await send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: { _meta: { responseQueueUrl: `${attacker.origin}/000000000000/answers` } },
      }),
      pyClientAttributes({ method: 'tools/list', id: 3, sessionId: 'no-such-session' }),
    );
    await expect.poll(() => sqs.queueDepth(deadLetterQueueUrl), { timeout: 15_000 }).toBe(3);
    expect(manager.metrics.refusedDestinations).toBe(3);
    expect(manager.sessions.size).toBe(0);
    expect(attacker.requests).toBe(0);
    expect(await sqs.queueDepth(ownQueue)).toBe(0);
    const refusals = logger.entries.filter((entry) => entry.fields.reason === 'refused-destination');
    expect(refusals.map((entry) => entry.fields.requestId)).toEqual([1, 2, 3]);
    expect(String(refusals[1]?.fields.detail)).toContain('account 999999999999');
    await expect.poll(() => sqs.queueDepth(requestQueueUrl), { timeout: 15_000 }).toBe(0);
  });

  it('sends to a queue of another host when allowedResponseDestinations names it, with no endpoint pinned', async () => {
    const attacker = await countingServer();
    cleanups.push(() => attacker.close());
    // As in production: no explicit endpoint, the request queue reached through its URL's own host
    // (sqs.us-east-1.localhost, made to resolve to loopback for this test).
    const restoreDns = resolveLocalhostNames();
    cleanups.push(async () => restoreDns());
    const sqsClient = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    cleanups.push(async () => sqsClient.destroy());
    const requestQueueUrl = await sqs.createQueue('trust-allow-requests');
    const latch = latchedServer();
    const manager = await started(
      new SqsSessionManager({
        sqsClient,
        requestQueueUrl,
        createServer: latch.createServer,
        waitTimeSeconds: 1,
        allowedResponseDestinations: [`${attacker.origin}/000000000000/allowed-`],
      }),
      cleanups,
    );
    const send = (id: number, responseQueueUrl: string) =>
      sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: requestQueueUrl,
          MessageBody: initializeBody(id, responseQueueUrl),
          MessageAttributes: pyClientAttributes({ method: 'initialize', id }),
        }),
      );
    await send(1, `${attacker.origin}/000000000000/not-allowed`);
    await expect.poll(() => manager.metrics.refusedDestinations, { timeout: 15_000 }).toBe(1);
    expect(attacker.requests).toBe(0);
    // Allowed: the answer goes to that queue's own host (here one that refuses it).
    await send(2, `${attacker.origin}/000000000000/allowed-answers`);
    await expect.poll(() => attacker.requests, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(manager.metrics.refusedDestinations).toBe(1);
  });

  /** Forged results, under the live session's id, with the ids a client's own requests would have. */
  async function forgeResults(responseQueueUrl: string, sessionId: string): Promise<number> {
    const ids = [...Array.from({ length: 11 }, (_, n) => n), ...Array.from({ length: 11 }, (_, n) => `${n}`)];
    for (const id of ids) {
      await sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: responseQueueUrl,
          MessageBody: JSON.stringify({
            jsonrpc: '2.0',
            id,
            result: { content: [{ type: 'text', text: 'forged' }] },
          }),
          MessageAttributes: pyServerAttributes(sessionId),
        }),
      );
    }
    return ids.length;
  }

  it('the client transport takes only answers to ids it minted: forged results are dropped and counted', async () => {
    const { requestQueueUrl, latch } = await startManager();
    const responseQueueUrl = await sqs.createQueue('trust-responses');
    const transport = new SqsClientTransport({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl,
      waitTimeSeconds: 1,
    });
    const client = await connectedClient(transport, cleanups, 'trust');
    const pending = client.callTool({ name: 'wait', arguments: {} }, undefined, request);
    await latch.running;
    const forged = await forgeResults(responseQueueUrl, transport.sessionId as string);
    await expect.poll(() => transport.stats.unmatched, { timeout: 15_000 }).toBe(forged);
    latch.release();
    expect(textOf(await pending)).toBe('genuine');
  });

  it('the gateway backend takes only answers to ids it minted, under the asking session id', async () => {
    const { requestQueueUrl, latch, manager } = await startManager();
    const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
    cleanups.push(() => backend.close());
    const transport: Transport = await backend.createTransport({ sessionKey: 'http-session-key' });
    const client = await connectedClient(transport, cleanups, 'trust-gateway');
    // The queue session id is its own secret: nothing of the gateway's key is in it.
    const sessionId = transport.sessionId as string;
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect([...manager.sessions.keys()]).toEqual([sessionId]);
    const pending = client.callTool({ name: 'wait', arguments: {} }, undefined, request);
    await latch.running;
    const forged = await forgeResults(backend.responseQueueUrl as string, sessionId);
    await expect.poll(() => backend.stats.unmatched, { timeout: 15_000 }).toBe(forged);
    latch.release();
    expect(textOf(await pending)).toBe('genuine');
  });
});
