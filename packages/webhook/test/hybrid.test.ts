import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach, textOf } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  HybridSessionManager,
  type HybridSessionManagerOptions,
  StreamableHttpWebhookClientTransport,
} from '../src/index.js';
import { bodyText, latch, SECRET, startLoopbackServer, within } from './helpers.js';

const request = { timeout: 30_000 };

interface Fixture {
  /** The `report` tool waits on this after its progress, so the test decides when it answers. */
  gate?: Promise<void>;
}

function createServer(fixture: Fixture) {
  return () => {
    const server = new McpServer({ name: 'hybrid', version: '1.0.0' });
    server.registerTool('report', { inputSchema: { steps: z.number().int() } }, async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: step, total: steps },
          });
        }
      }
      await fixture.gate;
      return { content: [{ type: 'text', text: `report of ${steps}` }] };
    });
    server.registerTool('quick', {}, async () => ({ content: [{ type: 'text', text: 'quick' }] }));
    return server;
  };
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

const cleanups = cleanupsAfterEach();

async function setup(options: Partial<HybridSessionManagerOptions> & { receiverStatus?: number } = {}) {
  const fixture: Fixture = {};
  const logger = new RecordingLogger();
  const manager = new HybridSessionManager({
    createServer: createServer(fixture),
    webhookTools: ['report'],
    allowPrivateNetworks: true,
    deliveryBackoff: { baseMs: 1, maxMs: 5 },
    logger,
    ...options,
  });
  const serverUrl = await manager.listen({ port: 0 });
  cleanups.push(() => manager.close());

  // The client's webhook, mounted on a server of the test's that records each delivery before handing it on.
  const deliveries: Delivery[] = [];
  let transport: StreamableHttpWebhookClientTransport | undefined;
  const receiver = await startLoopbackServer(async (req: IncomingMessage, res: ServerResponse) => {
    const raw = Buffer.from(await bodyText(req), 'utf8');
    deliveries.push({
      headers: req.headers,
      body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
    });
    if (options.receiverStatus !== undefined) {
      res.writeHead(options.receiverStatus);
      res.end();
      return;
    }
    // The body is read already: hand it on as a body parser would have left it.
    await transport?.handleWebhook(Object.assign(req, { body: raw }), res);
  });
  cleanups.push(() => receiver.close());
  transport = new StreamableHttpWebhookClientTransport({
    serverUrl,
    webhookUrl: `${receiver.origin}/hook`,
    signingSecret: options.signingSecret,
  });
  const client = new Client({ name: 'hybrid-client', version: '1.0.0' });
  await client.connect(transport, request);
  cleanups.push(() => client.close());
  return { manager, client, transport, deliveries, fixture, logger, receiver };
}

describe('StreamableHTTP + webhook hybrid', () => {
  it('delivers a webhook tool answer by webhook while its progress flows on the SSE stream', async () => {
    const { client, transport, deliveries, fixture, manager, logger } = await setup({
      signingSecret: SECRET,
    });
    const gate = latch();
    fixture.gate = gate.promise;
    const progress: number[] = [];
    const allProgress = latch();
    const answer = client.callTool({ name: 'report', arguments: { steps: 3 } }, undefined, {
      ...request,
      onprogress: (event) => {
        progress.push(event.progress);
        if (progress.length === 3) allProgress.open();
      },
    });
    await within(allProgress.promise, 10_000, 'the progress');
    // All the progress arrived, and nothing came by webhook: it came on the stream.
    expect(deliveries).toHaveLength(0);
    gate.open();
    expect(textOf(await within(answer, 10_000, 'the answer'))).toBe('report of 3');
    expect(progress).toEqual([1, 2, 3]);

    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    expect(delivery?.headers).toMatchObject({
      'content-type': 'application/json',
      'mcp-session-id': transport.sessionId,
      'x-method': 'tools/call',
    });
    expect(delivery?.headers['x-request-id']).toBe(String(delivery?.body.id));
    expect(delivery?.headers['webhook-signature']).toMatch(/^v1,/);
    expect(delivery?.body).toMatchObject({
      jsonrpc: '2.0',
      result: { content: [{ type: 'text', text: 'report of 3' }] },
    });
    // The server's side of the delivery (the 200 seen, the stream ended) completes just after.
    await logger.waitFor('answer delivered by webhook', 10_000);
    expect(manager.stats).toMatchObject({ webhookAnswers: 1, webhookFallbacks: 0 });

    // Other tools answer on the stream, as plain Streamable HTTP.
    expect(textOf(await client.callTool({ name: 'quick', arguments: {} }, undefined, request))).toBe('quick');
    expect(deliveries).toHaveLength(1);
  });

  it('falls back to the SSE stream when the webhook does not take the answer', async () => {
    const { client, deliveries, manager, logger } = await setup({
      receiverStatus: 503,
      maxDeliveryAttempts: 2,
    });
    const result = await within(
      client.callTool({ name: 'report', arguments: { steps: 1 } }, undefined, request),
      10_000,
      'the answer on the stream',
    );
    expect(textOf(result)).toBe('report of 1');
    expect(deliveries).toHaveLength(2);
    expect(manager.stats).toMatchObject({ webhookAnswers: 0, webhookFallbacks: 1 });
    expect((await logger.waitFor('webhook did not take an answer', 1000)).fields).toMatchObject({
      fallback: 'stream',
    });
  });

  it("ends the request with a JSON-RPC error instead, with webhookFallback: 'error'", async () => {
    const { client, manager } = await setup({ receiverStatus: 410, webhookFallback: 'error' });
    await expect(
      within(
        client.callTool({ name: 'report', arguments: { steps: 1 } }, undefined, request),
        10_000,
        'the error',
      ),
    ).rejects.toThrow(/Internal error: the answer could not be delivered to the webhook/);
    expect(manager.stats).toMatchObject({ webhookErrors: 1, webhookAnswers: 0 });
  });

  it('refuses an initialize whose webhookUrl the SSRF guard refuses', async () => {
    const manager = new HybridSessionManager({
      createServer: createServer({}),
      webhookTools: ['report'],
    });
    const serverUrl = await manager.listen({ port: 0 });
    cleanups.push(() => manager.close());
    const client = new Client({ name: 'c', version: '1' });
    await expect(
      client.connect(
        new StreamableHttpWebhookClientTransport({ serverUrl, webhookUrl: 'http://169.254.169.254/latest/' }),
        request,
      ),
    ).rejects.toThrow(/metadata address, which is never allowed/);
    expect(manager.sessions.size).toBe(0);
  });

  it('refuses a forged delivery on the client receiver', async () => {
    const { transport, receiver } = await setup({ signingSecret: SECRET });
    const reply = await fetch(`${receiver.origin}/hook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'mcp-session-id': transport.sessionId as string },
      body: '{"jsonrpc":"2.0","id":99,"result":{}}',
    });
    expect(reply.status).toBe(401);
    expect(transport.stats.refused).toBe(1);
  });

  it('closes without waiting for ever on a server that never answers its DELETE, and aborts that DELETE', async () => {
    const manager = new HybridSessionManager({
      createServer: createServer({}),
      webhookTools: ['report'],
      allowPrivateNetworks: true,
    });
    cleanups.push(() => manager.close());
    const deleteReceived = latch();
    const deleteAborted = latch();
    // The manager's endpoint behind a server of the test's that takes every DELETE and never answers it.
    const server = await startLoopbackServer((req, res) => {
      if (req.method === 'DELETE') {
        res.once('close', () => deleteAborted.open());
        deleteReceived.open();
        return;
      }
      return manager.handleRequest(req, res);
    });
    cleanups.push(() => server.close());
    const logger = new RecordingLogger();
    const transport = new StreamableHttpWebhookClientTransport({
      serverUrl: `${server.origin}/mcp`,
      listen: { port: 0 },
      closeTimeoutMs: 200,
      logger,
    });
    const client = new Client({ name: 'hybrid-client', version: '1.0.0' });
    await client.connect(transport, request);
    expect(transport.sessionId).toBeDefined();

    await within(client.close(), 10_000, 'the client closing');
    await within(deleteReceived.promise, 5_000, 'the DELETE reaching the server');
    await within(deleteAborted.promise, 5_000, 'the DELETE being aborted');
    expect(logger.entries.some((entry) => /did not end the session in time/.test(entry.message))).toBe(true);
  });
});
