import type { IncomingHttpHeaders } from 'node:http';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import {
  type ResolvedAddress,
  WebhookClientTransport,
  type WebhookDnsLookup,
  WebhookSessionManager,
  type WebhookSessionManagerOptions,
  WebhookSigner,
  WebhookVerifier,
} from '../src/index.js';
import { bodyText, latch, rawInitialize, SECRET, startLoopbackServer, within } from './helpers.js';

const INITIALIZE = (webhookUrl: string) => rawInitialize(webhookUrl, 'attacker');

const cleanups = cleanupsAfterEach();

async function startManager(options: Partial<WebhookSessionManagerOptions> = {}) {
  const logger = new RecordingLogger();
  const manager = new WebhookSessionManager({
    createServer: () => new McpServer({ name: 'security', version: '1.0.0' }),
    deliveryBackoff: { baseMs: 1, maxMs: 5 },
    logger,
    ...options,
  });
  const url = await manager.listen({ port: 0 });
  cleanups.push(() => manager.close());
  return { manager, url, logger };
}

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Client-ID': 'c1', ...headers },
    body,
  });
}

/** A resolver that answers from a table (a list per name is handed out in turn) and never goes on the network. */
function stubDns(table: Record<string, string[]>): WebhookDnsLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answers = table[hostname] ?? [];
    const address = answers.length > 1 ? (answers.shift() as string) : answers[0];
    if (address === undefined) throw new Error(`ENOTFOUND ${hostname}`);
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  return Object.assign(lookup, { calls });
}

/** A loopback receiver that counts what reaches it: an SSRF test passes only if nothing does. */
async function startCountingReceiver(status = 200, headers: Record<string, string> = {}) {
  const hits: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = await startLoopbackServer(async (req, res) => {
    hits.push({ headers: req.headers, body: await bodyText(req) });
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(status === 200 ? '{"status":"success"}' : '{}');
  });
  cleanups.push(() => server.close());
  return { server, hits, url: `${server.origin}/hook` };
}

describe('signatures on the server endpoint', () => {
  it('takes a correctly signed request and refuses forged, unsigned, stale and replayed ones', async () => {
    const receiver = await startCountingReceiver();
    let now = Date.now();
    const { url, manager } = await startManager({
      signingSecret: SECRET,
      allowPrivateNetworks: true,
      now: () => now,
    });
    const body = INITIALIZE(receiver.url);

    const unsigned = await post(url, body);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: 'Missing webhook signature headers' });

    const forged = new WebhookSigner('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', () => now).headers(body);
    const forgedReply = await post(url, body, forged);
    expect(forgedReply.status).toBe(401);
    expect(await forgedReply.json()).toEqual({ error: 'Invalid webhook signature' });

    const tampered = new WebhookSigner(SECRET, () => now).headers(body);
    expect((await post(url, body.replace('attacker', 'attackex'), tampered)).status).toBe(401);
    expect(manager.sessions.size).toBe(0);

    const signed = new WebhookSigner(SECRET, () => now).headers(body);
    const accepted = await post(url, body, signed);
    expect(accepted.status).toBe(200);

    const replayed = await post(url, body, signed);
    expect(replayed.status).toBe(409);
    expect(await replayed.json()).toEqual({ error: `Replayed webhook-id: ${signed['webhook-id']}` });

    const old = new WebhookSigner(SECRET, () => now).headers(body);
    now += 6 * 60_000;
    const stale = await post(url, body, old);
    expect(stale.status).toBe(401);
    expect(await stale.json()).toEqual({ error: 'webhook-timestamp outside the tolerance' });
    // unsigned, forged, tampered, replayed, stale
    expect(manager.metrics.badSignatures).toBe(5);
    expect(manager.sessions.size).toBe(1);
  });
});

describe("signatures on the client's webhook receiver", () => {
  it('hands on only correctly signed deliveries, once', async () => {
    const transport = new WebhookClientTransport({
      serverUrl: 'http://127.0.0.1:9/unused',
      listen: { port: 0 },
      signingSecret: SECRET,
    });
    const received: unknown[] = [];
    transport.onmessage = (message) => received.push(message);
    await transport.start();
    cleanups.push(() => transport.close());
    const url = transport.webhookUrl as string;
    const body = '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}';

    const forged = await post(
      url,
      body,
      new WebhookSigner('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').headers(body),
    );
    expect(forged.status).toBe(401);
    expect((await post(url, body)).status).toBe(401);
    const signed = new WebhookSigner(SECRET).headers(body);
    const ok = await post(url, body, signed);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'success' });
    const replayed = await post(url, body, signed);
    expect(replayed.status).toBe(409);
    expect(received).toHaveLength(1);
    expect(transport.stats).toEqual({ received: 1, refused: 3, unmatched: 0 });
  });

  it('counts a signed retry refused as a replay as delivered: the first attempt did arrive', async () => {
    // A receiver that takes the message but whose answer is "lost" (it answers 503 the first time).
    const verifier = new WebhookVerifier({ secret: SECRET });
    const statuses: number[] = [];
    const taken = latch<string>();
    const server = await startLoopbackServer(async (req, res) => {
      const body = await bodyText(req);
      const verdict = verifier.verify(req.headers, body);
      const status = statuses.length === 0 ? 503 : verdict.ok ? 200 : verdict.status;
      if (verdict.ok) taken.open(body);
      statuses.push(status);
      res.writeHead(status);
      res.end();
    });
    cleanups.push(() => server.close());
    const { url, manager, logger } = await startManager({
      signingSecret: SECRET,
      allowPrivateNetworks: true,
    });
    const signer = new WebhookSigner(SECRET);
    const body = INITIALIZE(`${server.origin}/hook`);
    expect((await post(url, body, signer.headers(body))).status).toBe(200);
    await within(taken.promise, 10_000, 'the first attempt');
    await logger.waitFor('webhook delivery failed; retrying', 10_000);
    await logger.waitFor('webhook delivered', 10_000);
    expect(statuses).toEqual([503, 409]);
    expect(manager.metrics).toMatchObject({ delivered: 1, failed: 0, retried: 1 });
  });
});

describe('SSRF guard', () => {
  it('refuses metadata, link-local and private webhook URLs at initialize, and sends nothing', async () => {
    const dnsLookup = stubDns({
      'rebind.example.com': ['10.20.30.40'],
      'meta.example.com': ['169.254.169.254'],
      'mapped.example.com': ['::ffff:127.0.0.1'],
    });
    const { url, manager } = await startManager({ dnsLookup });
    const receiver = await startCountingReceiver();
    const cases: Array<[string, RegExp]> = [
      [
        'http://169.254.169.254/latest/meta-data/iam/',
        /169\.254\.169\.254 is a metadata address, which is never allowed/,
      ],
      ['http://[fd00:ec2::254]/', /metadata address/],
      ['http://100.100.100.200/', /metadata address/],
      ['http://10.0.0.5/hook', /private address; set allowPrivateNetworks/],
      ['http://192.168.1.20/hook', /private address/],
      [receiver.url, /loopback address/],
      ['http://rebind.example.com/hook', /rebind\.example\.com resolves to a private address/],
      ['http://meta.example.com/hook', /meta\.example\.com resolves to a metadata address, which is never/],
      ['http://mapped.example.com/hook', /mapped\.example\.com resolves to a loopback address/],
      ['file:///etc/passwd', /scheme/],
    ];
    for (const [webhookUrl, reason] of cases) {
      const reply = await post(url, INITIALIZE(webhookUrl));
      expect(reply.status, webhookUrl).toBe(400);
      const { error } = (await reply.json()) as { error: string };
      expect(error).toMatch(reason);
      // What a name resolved to is the inside of the network: the client never learns it.
      expect(error).not.toMatch(/10\.20\.30\.40|169\.254\.169\.254 and|127\.0\.0\.1 and|::ffff/);
    }
    expect(manager.sessions.size).toBe(0);
    expect(receiver.hits).toHaveLength(0);
  });

  it('refuses the NAT64 local-use, Teredo and IPv4-mapped ranges even when private networks are allowed', async () => {
    const receiver = await startCountingReceiver();
    const port = receiver.server.port;
    const { url, manager } = await startManager({ allowPrivateNetworks: true });
    for (const [webhookUrl, reason] of [
      // Local-use NAT64 (RFC 8215) with 169.254.169.254 in its last 32 bits.
      [`http://[64:ff9b:1::a9fe:a9fe]:${port}/hook`, 'is a tunnel address, which is never allowed'],
      // Teredo: the IPv4 address behind it is obfuscated, so it cannot be checked.
      [`http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]:${port}/hook`, 'is a tunnel address'],
      // IPv4-mapped: checked by the IPv4 address it carries.
      [`http://[::ffff:169.254.169.254]:${port}/hook`, 'is a metadata address, which is never allowed'],
      [`http://[::ffff:169.254.10.10]:${port}/hook`, 'is a link-local address, which is never allowed'],
    ] as const) {
      const reply = await post(url, INITIALIZE(webhookUrl));
      expect(reply.status, webhookUrl).toBe(400);
      expect(((await reply.json()) as { error: string }).error, webhookUrl).toContain(reason);
    }
    expect(manager.sessions.size).toBe(0);
    expect(receiver.hits).toHaveLength(0);
  });

  it('never follows a redirect: a 3xx is a failed delivery, not retried', async () => {
    const receiver = await startCountingReceiver(302, {
      Location: 'http://169.254.169.254/latest/meta-data/',
    });
    const { url, manager, logger } = await startManager({ allowPrivateNetworks: true });
    expect((await post(url, INITIALIZE(receiver.url))).status).toBe(200);
    const failed = await logger.waitFor('webhook delivery given up', 10_000);
    expect(String(failed.fields.err)).toMatch(
      /answered 302 \(redirect to http:\/\/169\.254\.169\.254\/latest\/meta-data\/\), which is not followed/,
    );
    expect(receiver.hits).toHaveLength(1);
    expect(manager.metrics).toMatchObject({ failed: 1, retried: 0, delivered: 0 });
  });

  it('checks every attempt and connects to the address it checked (a stub name reaches loopback)', async () => {
    const receiver = await startCountingReceiver();
    // The first answer (at initialize) is loopback; later answers point at the metadata service.
    const dnsLookup = stubDns({ 'hooks.test': ['127.0.0.1', '127.0.0.1', '169.254.169.254'] });
    const { url, manager, logger } = await startManager({ allowPrivateNetworks: true, dnsLookup });
    const hookUrl = `http://hooks.test:${receiver.server.port}/hook`;
    const reply = await post(url, INITIALIZE(hookUrl));
    expect(reply.status).toBe(200);
    const sessionId = ((await reply.json()) as { session_id: string }).session_id;
    // The initialize answer went to the address the stub named, although no DNS knows "hooks.test".
    await logger.waitFor('webhook delivered', 10_000);
    expect(receiver.hits[0]?.headers.host).toBe(`hooks.test:${receiver.server.port}`);
    // The name now resolves to the metadata address: the next delivery is refused before connecting.
    const list = await post(url, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', {
      'X-Session-ID': sessionId,
      'X-Protocol-Version': '2025-06-18',
    });
    expect(list.status).toBe(200);
    const refused = await logger.waitFor('webhook URL refused', 10_000);
    expect(String(refused.fields.reason)).toBe(
      'hooks.test resolves to a metadata address, which is never allowed',
    );
    expect(receiver.hits).toHaveLength(1);
    expect(manager.metrics.refused).toBeGreaterThanOrEqual(1);
    expect(dnsLookup.calls.length).toBeGreaterThanOrEqual(3);
  });
});

describe('forged answers on a client webhook', () => {
  it('drops and counts answers for ids the client never minted; the pending call gets the genuine answer', async () => {
    const release = latch();
    const running = latch();
    const { url } = await startManager({
      allowPrivateNetworks: true,
      createServer: () => {
        const server = new McpServer({ name: 'forgery', version: '1.0.0' });
        server.registerTool('wait', {}, async () => {
          running.open();
          await release.promise;
          return { content: [{ type: 'text', text: 'genuine' }] };
        });
        return server;
      },
    });
    const transport = new WebhookClientTransport({ serverUrl: url, listen: { port: 0 } });
    const client = new Client({ name: 'forgery', version: '1.0.0' });
    await client.connect(transport, { timeout: 10_000 });
    cleanups.push(() => client.close());
    const pending = client.callTool({ name: 'wait', arguments: {} }, undefined, { timeout: 10_000 });
    await within(running.promise, 10_000, 'the call running');
    const ids = [...Array.from({ length: 11 }, (_, n) => n), ...Array.from({ length: 11 }, (_, n) => `${n}`)];
    for (const id of ids) {
      const response = await post(
        transport.webhookUrl as string,
        JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'forged' }] } }),
        { 'X-Session-ID': transport.sessionId as string },
      );
      await response.body?.cancel();
    }
    expect(transport.stats.unmatched).toBe(ids.length);
    release.open();
    const result = await within(pending, 10_000, 'the genuine answer');
    expect(result.content).toEqual([{ type: 'text', text: 'genuine' }]);
  });
});
