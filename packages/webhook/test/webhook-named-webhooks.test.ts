import { SESSION_LISTENING_METHOD } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ResolvedAddress,
  WebhookClientTransport,
  type WebhookDnsLookup,
  WebhookSessionManager,
  type WebhookSessionManagerOptions,
} from '../src/index.js';
import { bodyText, rawInitialize, startLoopbackServer } from './helpers.js';

// A server answers each request at the webhook the request names (PROTOCOL.md §7b): with a fleet of
// gateways in front, the instance that sent it holds the caller's stream. What a later message names
// passes the SSRF guard of `initialize` first.

const cleanups = cleanupsAfterEach();
const VERSION = '2025-06-18';

interface Hit {
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/** A loopback webhook that records what reaches it and answers each delivery with `status`. */
async function startReceiver(status = 200) {
  const hits: Hit[] = [];
  const server = await startLoopbackServer(async (req, res) => {
    hits.push({ body: JSON.parse(await bodyText(req)) as Record<string, unknown>, headers: req.headers });
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(status === 200 ? '{"status":"success"}' : '{}');
  });
  cleanups.push(() => server.close());
  return {
    hits,
    url: `${server.origin}/hook`,
    /** The delivery answering request `id`, once it arrived; bounded by `timeoutMs`. */
    async answerTo(id: string, timeoutMs = 10_000): Promise<Hit> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = hits.find((candidate) => String(candidate.body.id) === id);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no answer to ${id} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

function stubDns(table: Record<string, string>): WebhookDnsLookup {
  return async (hostname: string): Promise<ResolvedAddress[]> => {
    const address = table[hostname];
    if (address === undefined) throw new Error(`ENOTFOUND ${hostname}`);
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
}

async function startManager(options: Partial<WebhookSessionManagerOptions> = {}) {
  const servers: McpServer[] = [];
  let runs = 0;
  const logger = new RecordingLogger();
  const manager = new WebhookSessionManager({
    createServer: () => {
      const server = new McpServer(
        { name: 'named-webhooks', version: '1.0.0' },
        { capabilities: { tools: { listChanged: true } } },
      );
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => {
        runs++;
        return { content: [{ type: 'text', text }] };
      });
      servers.push(server);
      return server;
    },
    allowPrivateNetworks: true,
    deliveryBackoff: { baseMs: 2, maxMs: 10 },
    logger,
    ...options,
  });
  const url = await manager.listen({ port: 0 });
  cleanups.push(() => manager.close());
  return { manager, url, servers, logger, runs: () => runs };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Client-ID': 'fleet-client', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Opens a session whose `initialize` names `webhookUrl`; resolves with what later messages need. */
async function openSession(url: string, webhookUrl: string) {
  const reply = await post(url, rawInitialize(webhookUrl, 'fleet'));
  expect(reply.status).toBe(200);
  const sessionId = ((await reply.json()) as { session_id: string }).session_id;
  const headers = { 'X-Session-ID': sessionId, 'X-Protocol-Version': VERSION };
  const initialized = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  expect(initialized.status).toBe(200);
  return {
    sessionId,
    /** POSTs one message of the session, as a client that names `webhookUrl` on it would. */
    send(message: Record<string, unknown>) {
      return post(url, message, {
        ...headers,
        ...('id' in message ? { 'X-Request-ID': String(message.id) } : {}),
        'X-Method': String(message.method),
      });
    },
  };
}

function echo(id: string, text: string, webhookUrl?: string) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text },
      ...(webhookUrl === undefined ? {} : { _meta: { webhookUrl } }),
    },
  };
}

function listening(webhookUrl: string) {
  return { jsonrpc: '2.0', method: SESSION_LISTENING_METHOD, params: { _meta: { webhookUrl } } };
}

describe('the webhook each message names', () => {
  it("answers each request at the webhook it names, and the session's other messages where it listens", async () => {
    const { url, servers } = await startManager();
    const opener = await startReceiver();
    const other = await startReceiver();
    const session = await openSession(url, opener.url);

    expect((await session.send(echo('at-other', 'one', other.url))).status).toBe(200);
    expect((await other.answerTo('at-other')).body.result).toMatchObject({
      content: [{ type: 'text', text: 'one' }],
    });
    expect((await session.send(echo('at-opener', 'two'))).status).toBe(200);
    await opener.answerTo('at-opener');
    expect(other.hits.some((hit) => hit.body.id === 'at-opener')).toBe(false);
    expect(opener.hits.some((hit) => hit.body.id === 'at-other')).toBe(false);

    // A notification of the server's own goes where the session listens: the opener's, until it moves.
    const server = servers.at(-1) as McpServer;
    const listChanged = (hits: Hit[]) =>
      hits.filter((hit) => hit.body.method === 'notifications/tools/list_changed').length;
    server.sendToolListChanged();
    await expect.poll(() => listChanged(opener.hits), { timeout: 10_000 }).toBe(1);
    expect((await session.send(listening(other.url))).status).toBe(200);
    server.sendToolListChanged();
    await expect.poll(() => listChanged(other.hits), { timeout: 10_000 }).toBe(1);
    expect(listChanged(opener.hits)).toBe(1);
  });

  it('refuses a request naming a webhook the guard refuses: it does not run, and is answered nowhere', async () => {
    const dnsLookup = stubDns({ 'rebind.test': '169.254.169.254', 'hooks.test': '127.0.0.1' });
    const { url, manager, runs } = await startManager({ dnsLookup });
    const opener = await startReceiver();
    const session = await openSession(url, opener.url);
    await expect.poll(() => manager.metrics.delivered, { timeout: 10_000 }).toBe(1);
    // A snapshot: `metrics` makes a new object each time.
    const before = manager.metrics as Record<'delivered' | 'failed' | 'refused' | 'requestsRefused', number>;
    const cases: Array<[string, RegExp]> = [
      [
        'http://169.254.169.254/latest/meta-data/',
        /169\.254\.169\.254 is a metadata address, which is never/,
      ],
      ['http://[fe80::1]/hook', /link-local address, which is never allowed/],
      ['http://rebind.test/hook', /rebind\.test resolves to a metadata address/],
      ['http://user:secret@hooks.test/hook', /credentials in the URL are not allowed/],
      ['file:///etc/passwd', /scheme is not allowed/],
      ['not a url', /not a valid URL/],
    ];
    for (const [index, [webhookUrl, reason]] of cases.entries()) {
      const reply = await session.send(echo(`refused-${index}`, 'never', webhookUrl));
      expect(reply.status, webhookUrl).toBe(400);
      const body = (await reply.json()) as { id: unknown; error: { code: number; message: string } };
      expect(body.id).toBe(`refused-${index}`);
      expect(body.error.code).toBe(-32600);
      expect(body.error.message, webhookUrl).toMatch(reason);
      expect(body.error.message).not.toContain('secret');
    }
    // A request after them is answered as usual: nothing of the refused ones came before it, anywhere.
    expect((await session.send(echo('after', 'after'))).status).toBe(200);
    await opener.answerTo('after');
    await expect.poll(() => manager.metrics.delivered, { timeout: 10_000 }).toBe(before.delivered + 1);
    expect(runs()).toBe(1);
    expect(opener.hits.filter((hit) => String(hit.body.id).startsWith('refused-'))).toEqual([]);
    expect(manager.metrics).toMatchObject({
      failed: before.failed,
      refused: before.refused,
      requestsRefused: before.requestsRefused + cases.length,
      delivered: before.delivered + 1,
    });
    expect(manager.sessions.has(session.sessionId)).toBe(true);
  });

  it('refuses a webhook outside allowedWebhookHosts on a later request, as at initialize', async () => {
    const dnsLookup = stubDns({ 'hooks.test': '127.0.0.1', 'elsewhere.test': '127.0.0.1' });
    const receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    const { url, runs } = await startManager({ dnsLookup, allowedWebhookHosts: ['hooks.test'] });
    const session = await openSession(url, `http://hooks.test:${port}/hook`);
    const reply = await session.send(echo('outside', 'never', `http://elsewhere.test:${port}/hook`));
    expect(reply.status).toBe(400);
    expect(((await reply.json()) as { error: { message: string } }).error.message).toMatch(
      /host elsewhere\.test is not in allowedWebhookHosts/,
    );
    expect((await session.send(echo('inside', 'yes', `http://hooks.test:${port}/hook`))).status).toBe(200);
    await receiver.answerTo('inside');
    expect(runs()).toBe(1);
    expect(receiver.hits.some((hit) => hit.body.id === 'outside')).toBe(false);
  });

  it('refuses a listening notification naming a refused webhook, and the session keeps listening where it did', async () => {
    const { url, servers, manager } = await startManager();
    const opener = await startReceiver();
    const session = await openSession(url, opener.url);
    const reply = await session.send(listening('http://169.254.169.254/latest/meta-data/'));
    expect(reply.status).toBe(400);
    expect(((await reply.json()) as { error: { message: string } }).error.message).toMatch(
      /metadata address/,
    );
    (servers.at(-1) as McpServer).sendToolListChanged();
    await expect
      .poll(
        () => opener.hits.filter((hit) => hit.body.method === 'notifications/tools/list_changed').length,
        {
          timeout: 10_000,
        },
      )
      .toBe(1);
    expect(manager.metrics.refused).toBe(0);
  });

  it("does not hold a session's answers to one webhook behind another webhook of it that is down", async () => {
    // Every delivery to the opener fails and is retried for seconds: a gateway instance that is gone.
    const { url } = await startManager({
      deliveryBackoff: { baseMs: 1_000, maxMs: 1_000 },
      maxDeliveryAttempts: 20,
      // The initialize it answers stays running until its answer is given up on: do not wait for it.
      shutdownTimeoutMs: 100,
    });
    const gone = await startReceiver(503);
    const other = await startReceiver();
    const session = await openSession(url, gone.url);
    await expect.poll(() => gone.hits.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await session.send(echo('meanwhile', 'here', other.url))).status).toBe(200);
    const answered = await other.answerTo('meanwhile', 1_000);
    expect(answered.body.result).toMatchObject({ content: [{ type: 'text', text: 'here' }] });
  });

  it('lets a second client transport take the session over with sessionId: no initialize, answered at its own webhook', async () => {
    const { url, manager } = await startManager();
    const first = new WebhookClientTransport({
      serverUrl: url,
      listen: { port: 0 },
      terminateOnClose: false,
    });
    const opener = new Client({ name: 'opener', version: '1.0.0' });
    await opener.connect(first, { timeout: 10_000 });
    cleanups.push(() => opener.close());
    const sessionId = first.sessionId as string;

    const second = new WebhookClientTransport({ serverUrl: url, listen: { port: 0 }, sessionId });
    second.setProtocolVersion(VERSION);
    const taker = new Client({ name: 'taker', version: '1.0.0' });
    await taker.connect(second, { timeout: 10_000 });
    cleanups.push(() => taker.close());
    expect(second.sessionId).toBe(sessionId);
    expect(manager.sessions.size).toBe(1);
    const result = await taker.callTool({ name: 'echo', arguments: { text: 'taken over' } }, undefined, {
      timeout: 10_000,
    });
    expect(result.content).toEqual([{ type: 'text', text: 'taken over' }]);
    expect(second.stats).toMatchObject({ received: 1 });
    // The opener's webhook got the answer to its initialize only.
    expect(first.stats).toMatchObject({ received: 1 });
    expect(
      () => new WebhookClientTransport({ serverUrl: url, listen: { port: 0 }, sessionId: 'bad id' }),
    ).toThrow(/not a valid session id/);
  });
});
