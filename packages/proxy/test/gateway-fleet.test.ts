import { randomBytes } from 'node:crypto';
import { silentLogger } from '@asyncmcp/core';
import { SqsSessionManager, sqsBackend } from '@asyncmcp/sqs';
import { cleanupsAfterEach, useSqsEmulator } from '@asyncmcp-internal/test-support';
import * as fleet from '@asyncmcp-internal/test-support/gateway-fleet';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxyServer, type ProxyServer } from '../src/index.js';

const SECRET = randomBytes(32).toString('base64');

interface Instance {
  proxy: ProxyServer;
  url: URL;
}

/** Messages a worker accepted or rejected: anything that reached it. */
function handled(manager: SqsSessionManager): number {
  return (manager.metrics.accepted ?? 0) + (manager.metrics.rejected ?? 0);
}

describe('a fleet of gateway instances over one request queue', () => {
  const sqs = useSqsEmulator();
  const servers: McpServer[] = [];
  const workers: Record<'plain' | 'signed', { manager: SqsSessionManager; requestQueueUrl: string }> =
    {} as never;
  const cleanups = cleanupsAfterEach();

  beforeAll(async () => {
    for (const kind of ['plain', 'signed'] as const) {
      const requestQueueUrl = await sqs.createQueue(`fleet-${kind}`);
      const manager = new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        waitTimeSeconds: 1,
        signingSecret: kind === 'signed' ? SECRET : undefined,
        createServer: fleet.echoServer('fleet-test', servers),
      });
      await manager.start();
      workers[kind] = { manager, requestQueueUrl };
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(workers).map(({ manager }) => manager.close()));
  });

  async function startInstance(kind: 'plain' | 'signed' = 'plain'): Promise<Instance> {
    const backend = sqsBackend({
      sqsClient: sqs.sqsClient,
      requestQueueUrl: workers[kind].requestQueueUrl,
      waitTimeSeconds: 1,
      signingSecret: kind === 'signed' ? SECRET : undefined,
    });
    const proxy = createProxyServer({ backend, port: 0, logger: silentLogger });
    const { url } = await proxy.listen();
    cleanups.push(() => proxy.close());
    return { proxy, url: new URL(url) };
  }

  it('serves a session on whichever instance each request reaches (plain round robin)', async () => {
    const a = await startInstance();
    const b = await startInstance();
    const { client } = await fleet.connectSteered(fleet.roundRobin(a, b), cleanups);
    await fleet.expectEchoes(client, 'call', 6);
    // The instance that did not open the session took it over once, with one round trip.
    expect((await fleet.adoptions(a, 'adopted')) + (await fleet.adoptions(b, 'adopted'))).toBe(1);
  });

  it('sends what the server says outside a request to the instance that holds the GET stream', async () => {
    const a = await startInstance();
    const b = await startInstance();
    // Every POST to one instance, the GET stream to the other.
    const { client, server, heard } = await fleet.openSplitSession(a, b, servers, cleanups);
    // Until the server has read where the session listens now, what it sends goes to the opener (which
    // has no stream for it); keep saying it until the client hears it through the other instance.
    let heardIt = false;
    void heard.then(() => {
      heardIt = true;
    });
    await expect
      .poll(
        async () => {
          await server.sendToolListChanged();
          return heardIt;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    expect(await fleet.echoText(client, 'still here')).toBe('still here');
  });

  it('answers 404 for a session id no instance opened after one round trip, and at once for a malformed one', async () => {
    const b = await startInstance();
    await fleet.expectUnknownSessionRefused(b);
    await fleet.expectMalformedSessionRefused(b);
    // Nothing is left on the request queue: the servers answered the one question asked.
    await expect
      .poll(() => sqs.inspect(workers.plain.requestQueueUrl), { timeout: 10_000 })
      .toEqual({
        ready: 0,
        delayed: 0,
        inFlight: 0,
      });
  });

  it('with a fleet secret, adopts only session ids the fleet minted, without asking the servers about others', async () => {
    const a = await startInstance('signed');
    const b = await startInstance('signed');
    await fleet.expectSignedSession(a, b, cleanups);
    // Well formed, but its tag was not made with the fleet's secret: refused here, nothing sent.
    const before = handled(workers.signed.manager);
    for (const forged of [fleet.forgedSessionId(), fleet.forgedSessionIdWithClient()]) {
      const response = await fleet.postUnderSession(b, forged);
      expect(response.status).toBe(404);
    }
    expect(await fleet.adoptions(b, 'unknown')).toBe(0);
    expect(handled(workers.signed.manager)).toBe(before);
  });

  it('leaves its sessions to the others when an instance stops, and a DELETE through any instance ends one', async () => {
    const a = await startInstance();
    const b = await startInstance();
    await fleet.expectSessionToOutliveItsInstance(a, b, workers.plain.manager, cleanups);
  });

  it('finds the worker holding a session among several on the queue, and sends to its inbox after', async () => {
    const requestQueueUrl = await sqs.createQueue('fleet-workers');
    const managers = await Promise.all(
      [1, 2, 3].map(async () => {
        const manager = new SqsSessionManager({
          sqsClient: sqs.sqsClient,
          requestQueueUrl,
          waitTimeSeconds: 1,
          inbox: 'create',
          createServer: fleet.echoServer('fleet-worker', []),
        });
        await manager.start();
        cleanups.push(() => manager.close());
        return manager;
      }),
    );
    // Where each instance sends, by queue URL, counted as it sends.
    const sentTo = new Map<string, number>();
    const instance = async () => {
      const sqsClient = sqs.newClient();
      sqsClient.middlewareStack.add(
        (next) => async (args) => {
          const input = args.input as { QueueUrl?: string; Entries?: unknown[]; MessageBody?: string };
          if (
            input.QueueUrl !== undefined &&
            (input.Entries !== undefined || input.MessageBody !== undefined)
          ) {
            sentTo.set(input.QueueUrl, (sentTo.get(input.QueueUrl) ?? 0) + (input.Entries?.length ?? 1));
          }
          return next(args);
        },
        { step: 'initialize' },
      );
      const backend = sqsBackend({ sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
      const proxy = createProxyServer({ backend, port: 0, logger: silentLogger });
      const { url } = await proxy.listen();
      cleanups.push(() => proxy.close());
      return { proxy, url: new URL(url) };
    };
    const a = await instance();
    const b = await instance();
    const sessions = 6;
    for (let index = 0; index < sessions; index++) {
      // Opened on one instance; every later request on the other, which must find the session's worker.
      const { client } = await fleet.connectSteered(
        (method, sequence) => (sequence === 0 && method === 'POST' ? a : b),
        cleanups,
      );
      await fleet.expectEchoes(client, `s${index}`, 3);
    }
    expect(await fleet.adoptions(b, 'adopted')).toBe(sessions);
    expect(await fleet.adoptions(b, 'unknown')).toBe(0);
    // Through the request queue: each session's initialize (from one instance) and adoption ping (from
    // the other); everything else went straight to the inbox of the worker holding it.
    expect(sentTo.get(requestQueueUrl)).toBe(2 * sessions);
    const inboxes = [...sentTo.keys()].filter((url) => url !== requestQueueUrl);
    expect(inboxes.length).toBeGreaterThan(0);
    expect(inboxes.reduce((sum, url) => sum + (sentTo.get(url) ?? 0), 0)).toBeGreaterThanOrEqual(
      3 * sessions,
    );
    expect(managers.reduce((sum, manager) => sum + manager.sessions.size, 0)).toBeGreaterThanOrEqual(
      sessions,
    );
    await expect
      .poll(() => sqs.inspect(requestQueueUrl), { timeout: 10_000 })
      .toEqual({
        ready: 0,
        delayed: 0,
        inFlight: 0,
      });
  });
});
