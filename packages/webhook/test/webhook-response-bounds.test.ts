import type { ServerResponse } from 'node:http';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach, started } from '@asyncmcp-internal/test-support';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { WebhookClientTransport, WebhookSessionManager } from '../src/index.js';
import { bodyText, latch, rawInitialize, startLoopbackServer, within } from './helpers.js';

const cleanups = cleanupsAfterEach();

/** What a peer that never stops answering saw of its own stream. */
interface EndlessAnswer {
  /** Bytes it managed to write before its connection closed. */
  written: number;
  /** Whether it reached its own hard stop (then nobody cut it off). */
  finished: boolean;
}

// A stop of our own, so a regression shows as a failed assertion rather than a test that never ends.
const HARD_STOP_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Streams a body as fast as the reader takes it, until the connection is closed (or the hard stop). */
function streamWithoutEnd(res: ServerResponse, headers: Record<string, string>): Promise<EndlessAnswer> {
  const closed = latch<EndlessAnswer>();
  let written = 0;
  res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
  const pump = () => {
    while (!res.destroyed && written < HARD_STOP_BYTES) {
      written += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  res.once('close', () => closed.open({ written, finished: res.writableFinished }));
  pump();
  return closed.promise;
}

/** Writes the start of a body and then nothing, never ending it: a peer that trickles. */
function stallAfterFirstChunk(res: ServerResponse): Promise<void> {
  const closed = latch();
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write('{"status":');
  res.once('close', () => closed.open());
  return closed.promise;
}

async function startManager(deliveryTimeoutMs?: number) {
  const logger = new RecordingLogger();
  const manager = new WebhookSessionManager({
    createServer: () => new McpServer({ name: 'bounds', version: '1.0.0' }),
    allowPrivateNetworks: true,
    deliveryBackoff: { baseMs: 1, maxMs: 5 },
    ...(deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs }),
    logger,
  });
  const url = await manager.listen({ port: 0 });
  cleanups.push(() => manager.close());
  return { manager, url, logger };
}

function postInitialize(url: string, webhookUrl: string) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Client-ID': 'c1' },
    body: rawInitialize(webhookUrl, 'bounds'),
  });
}

describe("a webhook's answer body is read only so far", () => {
  it('cuts off a webhook that answers 200 with an endless body, and counts the delivery', async () => {
    const answer = latch<{ closed: Promise<EndlessAnswer> }>();
    const webhook = await startLoopbackServer(async (req, res) => {
      await bodyText(req);
      answer.open({ closed: streamWithoutEnd(res, {}) });
    });
    cleanups.push(() => webhook.close());
    const { url, manager, logger } = await startManager();

    expect((await postInitialize(url, `${webhook.origin}/hook`)).status).toBe(200);
    await logger.waitFor('webhook delivered', 10_000);
    const seen = await within((await answer.promise).closed, 10_000, 'the webhook connection to close');
    expect(seen.finished).toBe(false);
    // 64 KiB is read; what else was written sat in socket buffers when the connection was closed.
    expect(seen.written).toBeLessThan(32 * 1024 * 1024);
    expect(manager.metrics).toMatchObject({ delivered: 1, failed: 0 });
  });

  it('closes a webhook whose body never ends within the delivery timeout', async () => {
    const stalled = latch<{ closed: Promise<void> }>();
    const webhook = await startLoopbackServer(async (req, res) => {
      await bodyText(req);
      stalled.open({ closed: stallAfterFirstChunk(res) });
    });
    cleanups.push(() => webhook.close());
    const { url, manager, logger } = await startManager(500);

    expect((await postInitialize(url, `${webhook.origin}/hook`)).status).toBe(200);
    await logger.waitFor('webhook delivered', 10_000);
    await within((await stalled.promise).closed, 10_000, 'the stalled webhook connection to close');
    expect(manager.metrics).toMatchObject({ delivered: 1 });
  });
});

describe("a server's reply is read only so far by the client", () => {
  it('takes the status and the session id of an endless reply, and closes the connection', async () => {
    const reply = latch<{ closed: Promise<EndlessAnswer> }>();
    const server = await startLoopbackServer(async (req, res) => {
      await bodyText(req);
      reply.open({ closed: streamWithoutEnd(res, { 'X-Session-ID': 'session-endless' }) });
    });
    cleanups.push(() => server.close());
    const transport = await started(
      new WebhookClientTransport({
        serverUrl: `${server.origin}/mcp/request`,
        listen: { port: 0 },
        terminateOnClose: false,
      }),
      cleanups,
    );

    await within(
      transport.send({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
      }),
      10_000,
      'the initialize POST',
    );
    expect(transport.sessionId).toBe('session-endless');
    const seen = await within((await reply.promise).closed, 10_000, 'the server connection to close');
    expect(seen.finished).toBe(false);
    expect(seen.written).toBeLessThan(32 * 1024 * 1024);
  });
});
