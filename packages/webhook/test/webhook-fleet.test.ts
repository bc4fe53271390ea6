import { randomBytes } from 'node:crypto';
import { silentLogger } from '@asyncmcp/core';
import { createProxyServer, type ProxyServer } from '@asyncmcp/proxy';
import { cleanupsAfterEach, freeLoopbackPort } from '@asyncmcp-internal/test-support';
import * as fleet from '@asyncmcp-internal/test-support/gateway-fleet';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebhookBackend, WebhookSessionManager, webhookBackend } from '../src/index.js';

// Two gateway instances, each with its own webhookBackend (its own webhook base URL), in front of one
// webhook server: a client whose requests a load balancer spreads over both keeps one session.

const SECRET = randomBytes(32).toString('base64');

interface Instance {
  proxy: ProxyServer;
  backend: WebhookBackend;
  url: URL;
}

/** One message the server's endpoint received. */
interface Received {
  method: string;
  /** `X-Method` of a POST. */
  rpcMethod: string | undefined;
  sessionId: string | undefined;
  webhookUrl: string | undefined;
}

interface Worker {
  manager: WebhookSessionManager;
  url: string;
  /** What the gateways sent the server, in order: each backend's fetch records it. */
  received: Received[];
}

describe('a fleet of gateway instances over one webhook server', () => {
  const servers: McpServer[] = [];
  const workers = {} as Record<'plain' | 'signed', Worker>;
  const cleanups = cleanupsAfterEach();

  beforeAll(async () => {
    for (const kind of ['plain', 'signed'] as const) {
      const manager = new WebhookSessionManager({
        // The gateways are on loopback.
        allowPrivateNetworks: true,
        signingSecret: kind === 'signed' ? SECRET : undefined,
        createServer: fleet.echoServer('webhook-fleet-test', servers),
      });
      workers[kind] = { manager, url: await manager.listen({ port: 0 }), received: [] };
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(workers).map(({ manager }) => manager.close()));
  });

  /** The fetch of a backend: records each message it sent the server, once the server took it. */
  function recording(received: Received[]): FetchLike {
    return async (url, init) => {
      const response = await fetch(url, init);
      const headers = new Headers(init?.headers);
      let webhookUrl: string | undefined;
      if (typeof init?.body === 'string') {
        const body = JSON.parse(init.body) as { params?: { _meta?: { webhookUrl?: string } } };
        webhookUrl = body.params?._meta?.webhookUrl;
      }
      received.push({
        method: init?.method ?? 'GET',
        rpcMethod: headers.get('x-method') ?? undefined,
        sessionId: headers.get('x-session-id') ?? undefined,
        webhookUrl,
      });
      return response;
    };
  }

  async function startInstance(kind: 'plain' | 'signed' = 'plain'): Promise<Instance> {
    const port = await freeLoopbackPort();
    const backend = webhookBackend({
      serverUrl: workers[kind].url,
      webhookBaseUrl: `http://127.0.0.1:${port}`,
      signingSecret: kind === 'signed' ? SECRET : undefined,
      fetch: recording(workers[kind].received),
    });
    const proxy = createProxyServer({ backend, port, logger: silentLogger });
    const { url } = await proxy.listen();
    cleanups.push(() => proxy.close());
    return { proxy, backend, url: new URL(url) };
  }

  it('serves a session opened on one instance through the other (plain round robin), each answered at its own webhook', async () => {
    const a = await startInstance();
    const b = await startInstance();
    const worker = workers.plain;
    const from = worker.received.length;
    const { client, transport } = await fleet.connectSteered(fleet.roundRobin(a, b), cleanups);
    await fleet.expectEchoes(client, 'call', 6);
    // The instance that did not open the session took it over once, with one round trip.
    expect((await fleet.adoptions(a, 'adopted')) + (await fleet.adoptions(b, 'adopted'))).toBe(1);

    const mine = worker.received.slice(from);
    const initialize = mine.find((message) => message.rpcMethod === 'initialize');
    const sessionId = initialize?.sessionId as string;
    expect(worker.manager.sessions.has(sessionId)).toBe(true);
    // The server's session id is not the HTTP one, and neither is in the webhook path.
    expect(sessionId).not.toBe(transport.sessionId);
    const calls = mine.filter((message) => message.rpcMethod === 'tools/call');
    expect(calls).toHaveLength(6);
    const hooks = new Set(calls.map((call) => call.webhookUrl));
    // One route, on the two instances' own addresses: each call named the instance it went through.
    expect([...hooks].map((hook) => new URL(hook as string).origin).sort()).toEqual(
      [a.url.origin, b.url.origin].sort(),
    );
    expect(new Set(calls.map((call) => new URL(call.webhookUrl as string).pathname)).size).toBe(1);
    for (const hook of hooks) {
      expect(hook).not.toContain(transport.sessionId as string);
      expect(hook).not.toContain(sessionId);
    }
    expect(calls.every((call) => call.sessionId === sessionId)).toBe(true);
    expect(a.backend.stats.routed).toBeGreaterThan(0);
    expect(b.backend.stats.routed).toBeGreaterThan(0);
    expect(a.backend.stats.unroutable + b.backend.stats.unroutable).toBe(0);
  });

  it('sends what the server says outside a request to the instance that holds the GET stream, once told', async () => {
    const a = await startInstance();
    const b = await startInstance();
    // Every POST to one instance, the GET stream to the other.
    const { client, server, heard } = await fleet.openSplitSession(a, b, servers, cleanups);
    await expect
      .poll(
        () =>
          workers.plain.received.some((message) => message.rpcMethod === 'notifications/asyncmcp/listening'),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    const listening = workers.plain.received.find(
      (message) => message.rpcMethod === 'notifications/asyncmcp/listening',
    );
    expect(new URL(listening?.webhookUrl as string).origin).toBe(b.url.origin);
    // The server took the listening notification before it speaks: what it says now goes to b.
    server.sendToolListChanged();
    await heard;
    expect(await fleet.echoText(client, 'still here')).toBe('still here');
  });

  it('answers 404 for a session id no instance opened after one round trip, and at once for a malformed one', async () => {
    const b = await startInstance();
    const worker = workers.plain;
    const from = worker.received.length;
    await fleet.expectUnknownSessionRefused(b);
    // One question, and no DELETE of a session that was never there.
    expect(worker.received.slice(from).map((message) => [message.method, message.rpcMethod])).toEqual([
      ['POST', 'ping'],
    ]);
    await fleet.expectMalformedSessionRefused(b);
    expect(worker.received.length).toBe(from + 1);
    expect(b.backend.stats.sessions).toBe(0);
  });

  it('with a signing secret, adopts only session ids the fleet minted, without asking the server about others', async () => {
    const a = await startInstance('signed');
    const b = await startInstance('signed');
    await fleet.expectSignedSession(a, b, cleanups);
    // Well formed, but its tag was not made with the fleet's secret: refused here, nothing sent.
    const before = workers.signed.received.length;
    const asked = () => {
      const { accepted, rejected, requestsRefused, badSignatures } = workers.signed.manager.metrics;
      return { accepted, rejected, requestsRefused, badSignatures };
    };
    const metrics = asked();
    const response = await fleet.postUnderSession(b, fleet.forgedSessionId());
    expect(response.status).toBe(404);
    expect(await fleet.adoptions(b, 'unknown')).toBe(0);
    expect(workers.signed.received.length).toBe(before);
    expect(asked()).toEqual(metrics);
  });

  it('leaves its sessions to the other instance when one stops, and a DELETE through any instance ends one', async () => {
    const a = await startInstance();
    const b = await startInstance();
    await fleet.expectSessionToOutliveItsInstance(a, b, workers.plain.manager, cleanups);
  });
});
