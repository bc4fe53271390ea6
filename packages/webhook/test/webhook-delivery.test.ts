import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LogEntry, RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach, textOf } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  WebhookClientTransport,
  WebhookSessionManager,
  type WebhookSessionManagerOptions,
} from '../src/index.js';
import {
  bodyText,
  type LoopbackServer,
  latch,
  rawInitialize,
  startLoopbackServer,
  within,
} from './helpers.js';

const FAST = { baseMs: 2, maxMs: 10 };
const request = { timeout: 30_000 };

function createServer() {
  const server = new McpServer({ name: 'delivery', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('steps', { inputSchema: { count: z.number().int() } }, async ({ count }, extra) => {
    for (let step = 1; step <= count; step++) {
      await extra.sendNotification({
        method: 'notifications/message',
        params: { level: 'info', data: `step ${step}` },
      });
    }
    return { content: [{ type: 'text', text: `done ${count}` }] };
  });
  server.registerTool('burst', { inputSchema: { count: z.number().int() } }, async ({ count }, extra) => {
    // Sent without waiting for each: this is how a server floods a session whose webhook is stuck.
    const sent = Array.from({ length: count }, (_, index) =>
      extra.sendNotification({
        method: 'notifications/message',
        params: { level: 'info', data: `burst ${index}` },
      }),
    );
    const outcomes = await Promise.allSettled(sent);
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected').length;
    return { content: [{ type: 'text', text: `refused ${refused}` }] };
  });
  return server;
}

const cleanups = cleanupsAfterEach();

async function startManager(options: Partial<WebhookSessionManagerOptions> = {}) {
  const logger = new RecordingLogger();
  const manager = new WebhookSessionManager({
    createServer,
    allowPrivateNetworks: true,
    deliveryBackoff: FAST,
    logger,
    ...options,
  });
  const url = await manager.listen({ port: 0 });
  cleanups.push(() => manager.close());
  return { manager, url, logger };
}

/** A client whose webhook is mounted on a loopback server the test controls (it can hold or stop it). */
async function startClient(serverUrl: string, port = 0) {
  let hold: Promise<void> | undefined;
  let onHeld: (() => void) | undefined;
  let transport: WebhookClientTransport | undefined;
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    if (hold) {
      onHeld?.();
      await hold;
    }
    await transport?.handleWebhook(req, res);
  };
  let gateway: LoopbackServer = await startLoopbackServer(handler, port);
  transport = new WebhookClientTransport({ serverUrl, webhookUrl: `${gateway.origin}/hook` });
  const client = new Client({ name: 'delivery-client', version: '1.0.0' });
  const logs: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(String(notification.params.data));
  });
  await client.connect(transport, request);
  cleanups.push(async () => {
    await client.close();
    await gateway.close();
  });
  return {
    client,
    transport,
    logs,
    /** Holds every delivery until the returned `release` is called; `held` resolves when one is held. */
    hold() {
      const gate = latch();
      const held = latch();
      hold = gate.promise;
      onHeld = () => held.open();
      return {
        held: held.promise,
        release: () => {
          hold = undefined;
          gate.open();
        },
      };
    },
    async stop() {
      await gateway.close();
    },
    async restart() {
      gateway = await startLoopbackServer(handler, gateway.port);
    },
  };
}

/** Waits for the `count`-th log line containing `message` (counting from `after`). */
async function nth(logger: RecordingLogger, message: string, count: number, after = 0): Promise<LogEntry> {
  let from = after;
  let entry: LogEntry | undefined;
  for (let seen = 0; seen < count; seen++) {
    entry = await logger.waitFor(message, 10_000, from);
    from = logger.entries.indexOf(entry) + 1;
  }
  return entry as LogEntry;
}

describe('webhook delivery', () => {
  it('keeps retrying while the client webhook is down, and loses nothing once it is back', async () => {
    const { url, logger, manager } = await startManager({ maxDeliveryAttempts: 1000 });
    const { client, logs, stop, restart } = await startClient(url);
    await stop();
    const mark = logger.entries.length;
    const answered = client.callTool({ name: 'steps', arguments: { count: 3 } }, undefined, request);
    // Connection refused, twice at least: the webhook really is down.
    const failure = await nth(logger, 'webhook delivery failed; retrying', 2, mark);
    expect(String(failure.fields.err)).toMatch(/ECONNREFUSED/);
    await restart();
    expect(textOf(await within(answered, 20_000, 'the answer'))).toBe('done 3');
    expect(logs).toEqual(['step 1', 'step 2', 'step 3']);
    expect(manager.metrics.failed).toBe(0);
    expect(manager.metrics.retried).toBeGreaterThanOrEqual(2);
  });

  it('retries on 5xx answers too', async () => {
    const { url, logger } = await startManager({ maxDeliveryAttempts: 1000 });
    let failures = 2;
    const server = await startLoopbackServer(async (req, res) => {
      await bodyText(req);
      if (failures-- > 0) {
        res.writeHead(503);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"success"}');
    });
    cleanups.push(() => server.close());
    const reply = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client-ID': 'raw' },
      body: rawInitialize(`${server.origin}/hook`, 'r'),
    });
    expect(reply.status).toBe(200);
    const delivered = await logger.waitFor('webhook delivered', 10_000);
    expect(delivered.fields.attempts).toBe(3);
  });

  it('gives up on an answer after maxDeliveryAttempts: a logged, counted failure', async () => {
    const server = await startLoopbackServer(async (req, res) => {
      await bodyText(req);
      res.writeHead(500);
      res.end();
    });
    cleanups.push(() => server.close());
    const { url, logger, manager } = await startManager({ maxDeliveryAttempts: 3 });
    await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client-ID': 'raw' },
      body: rawInitialize(`${server.origin}/hook`, 'r'),
    });
    const given = await logger.waitFor('webhook delivery given up', 10_000);
    expect(given.level).toBe('error');
    expect(given.fields).toMatchObject({ attempts: 3, err: expect.stringMatching(/answered 500/) });
    expect(manager.metrics).toMatchObject({ failed: 1, retried: 2, delivered: 0 });
  });

  it('does not let a slow webhook of one session delay another session', async () => {
    const { url } = await startManager({ deliveryTimeoutMs: 60_000 });
    const slow = await startClient(url);
    const fast = await startClient(url);
    const gate = slow.hold();
    const slowAnswer = slow.client.callTool(
      { name: 'echo', arguments: { text: 'slow' } },
      undefined,
      request,
    );
    await within(gate.held, 10_000, 'the slow webhook holding a delivery');
    // While the slow session's delivery hangs, the other session is served at once.
    for (let round = 0; round < 3; round++) {
      const result = await within(
        fast.client.callTool({ name: 'echo', arguments: { text: `fast ${round}` } }, undefined, request),
        10_000,
        'the fast session',
      );
      expect(textOf(result)).toBe(`fast ${round}`);
    }
    gate.release();
    expect(textOf(await within(slowAnswer, 10_000, 'the slow answer'))).toBe('slow');
  });

  it('bounds what waits for a stuck webhook: overflow is refused, logged and counted', async () => {
    const { url, logger, manager } = await startManager({
      maxQueuedPerSession: 2,
      deliveryTimeoutMs: 60_000,
    });
    const stuck = await startClient(url);
    const gate = stuck.hold();
    const answered = stuck.client.callTool({ name: 'burst', arguments: { count: 5 } }, undefined, request);
    await within(gate.held, 10_000, 'the stuck webhook');
    // One being delivered, one waiting: the other three are refused at once.
    const full = await logger.waitFor('webhook queue full; message dropped', 10_000);
    expect(full.fields).toMatchObject({ limit: 2 });
    gate.release();
    expect(textOf(await within(answered, 10_000, 'the answer'))).toBe('refused 3');
    expect(manager.metrics).toMatchObject({ overflowed: 3, failed: 3 });
    expect(stuck.logs).toEqual(['burst 0', 'burst 1']);
  });
});
