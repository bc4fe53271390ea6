import { randomBytes } from 'node:crypto';
import { silentLogger } from '@asyncmcp/core';
import { countdown } from '@asyncmcp/core/testing';
import { SqsSessionManager, sqsBackend } from '@asyncmcp/sqs';
import { cleanupsAfterEach, type SqsEmulator, startSqsEmulator } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  LATEST_PROTOCOL_VERSION,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProxyServer, type ProxyServer } from '../src/index.js';

const request = { timeout: 20_000 };
const SECRET = randomBytes(32).toString('base64');
const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
};

interface Instance {
  proxy: ProxyServer;
  url: URL;
}

/** Messages a worker accepted or rejected: anything that reached it. */
function handled(manager: SqsSessionManager): number {
  return (manager.metrics.accepted ?? 0) + (manager.metrics.rejected ?? 0);
}

/** Where each of a client's HTTP requests goes: a load balancer the test steers. */
type Route = (method: string, sequence: number) => Instance;

function adopted(instance: Instance, outcome: string): Promise<number> {
  return instance.proxy.metrics.sessionsAdopted.get().then((metric) => {
    return metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
  });
}

describe('a fleet of gateway instances over one request queue', () => {
  let sqs: SqsEmulator;
  const servers: McpServer[] = [];
  const workers: Record<'plain' | 'signed', { manager: SqsSessionManager; requestQueueUrl: string }> =
    {} as never;
  const cleanups = cleanupsAfterEach();

  beforeAll(async () => {
    sqs = await startSqsEmulator();
    for (const kind of ['plain', 'signed'] as const) {
      const requestQueueUrl = await sqs.createQueue(`fleet-${kind}`);
      const manager = new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        waitTimeSeconds: 1,
        signingSecret: kind === 'signed' ? SECRET : undefined,
        createServer: () => {
          const server = new McpServer(
            { name: 'fleet-test', version: '1.0.0' },
            { capabilities: { tools: { listChanged: true } } },
          );
          server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
            content: [{ type: 'text', text }],
          }));
          servers.push(server);
          return server;
        },
      });
      await manager.start();
      workers[kind] = { manager, requestQueueUrl };
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(workers).map(({ manager }) => manager.close()));
    await sqs.stop();
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

  async function connect(route: Route) {
    let sequence = 0;
    const steered: typeof fetch = (input, init) => {
      const target = route(init?.method ?? 'GET', sequence++).url;
      const url = new URL(String(input instanceof Request ? input.url : input));
      url.host = target.host;
      return fetch(url, init);
    };
    const client = new Client({ name: 'fleet-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL('http://127.0.0.1:1/mcp'), {
      fetch: steered,
    });
    await client.connect(transport, request);
    cleanups.push(() => client.close());
    return { client, transport };
  }

  async function echo(client: Client, text: string): Promise<string> {
    const result = await client.callTool({ name: 'echo', arguments: { text } }, undefined, request);
    return (result.content as Array<{ text: string }>)[0]?.text ?? '';
  }

  it('serves a session on whichever instance each request reaches (plain round robin)', async () => {
    const a = await startInstance();
    const b = await startInstance();
    const { client } = await connect((_method, sequence) => (sequence % 2 === 0 ? a : b));
    for (let index = 0; index < 6; index++) expect(await echo(client, `call ${index}`)).toBe(`call ${index}`);
    // The instance that did not open the session took it over once, with one round trip.
    expect((await adopted(a, 'adopted')) + (await adopted(b, 'adopted'))).toBe(1);
  });

  it('sends what the server says outside a request to the instance that holds the GET stream', async () => {
    const a = await startInstance();
    const b = await startInstance();
    const opened = servers.length;
    // Every POST to one instance, the GET stream to the other.
    const { client } = await connect((method) => (method === 'GET' ? b : a));
    const server = servers[opened] as McpServer;
    const heard = countdown(1, 15_000);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => heard.signal());
    await expect.poll(() => adopted(b, 'adopted'), { timeout: 10_000 }).toBe(1);
    // Until the server has read where the session listens now, what it sends goes to the opener (which
    // has no stream for it); keep saying it until the client hears it through the other instance.
    let heardIt = false;
    void heard.done.then(() => {
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
    expect(await echo(client, 'still here')).toBe('still here');
  });

  it('answers 404 for a session id no instance opened after one round trip, and at once for a malformed one', async () => {
    const b = await startInstance();
    const unknown = randomBytes(16).toString('hex');
    const response = await fetch(b.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': unknown },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: { code: -32001, message: `Session not found: ${unknown}` },
    });
    expect(await adopted(b, 'unknown')).toBe(1);
    const malformed = await fetch(b.url, {
      method: 'GET',
      headers: { ...MCP_HEADERS, accept: 'text/event-stream', 'mcp-session-id': 'not-one-of-ours' },
    });
    expect(malformed.status).toBe(404);
    expect(await adopted(b, 'unknown')).toBe(1);
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
    const { client, transport } = await connect((_method, sequence) => (sequence % 2 === 0 ? a : b));
    expect(transport.sessionId).toMatch(/^[0-9a-f]{64}$/);
    for (let index = 0; index < 4; index++)
      expect(await echo(client, `signed ${index}`)).toBe(`signed ${index}`);
    // Well formed, but its tag was not made with the fleet's secret: refused here, nothing sent.
    const forged = `${randomBytes(16).toString('hex')}${randomBytes(16).toString('hex')}`;
    const before = handled(workers.signed.manager);
    const response = await fetch(b.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': forged },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(404);
    expect(await adopted(b, 'unknown')).toBe(0);
    expect(handled(workers.signed.manager)).toBe(before);
  });

  it('leaves its sessions to the others when an instance stops, and a DELETE through any instance ends one', async () => {
    const a = await startInstance();
    const b = await startInstance();
    let current = a;
    const { client, transport } = await connect(() => current);
    expect(await echo(client, 'on a')).toBe('on a');
    const live = workers.plain.manager.sessions.size;
    await a.proxy.close();
    current = b;
    expect(await echo(client, 'on b')).toBe('on b');
    expect(workers.plain.manager.sessions.size).toBe(live);
    await transport.terminateSession();
    await expect.poll(() => workers.plain.manager.sessions.size, { timeout: 10_000 }).toBe(live - 1);
    const after = await fetch(b.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': transport.sessionId ?? '' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
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
          createServer: () => {
            const server = new McpServer({ name: 'fleet-worker', version: '1.0.0' });
            server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
              content: [{ type: 'text', text }],
            }));
            return server;
          },
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
      const { client } = await connect((method, sequence) => (sequence === 0 && method === 'POST' ? a : b));
      for (let call = 0; call < 3; call++)
        expect(await echo(client, `s${index}.${call}`)).toBe(`s${index}.${call}`);
    }
    expect(await adopted(b, 'adopted')).toBe(sessions);
    expect(await adopted(b, 'unknown')).toBe(0);
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
