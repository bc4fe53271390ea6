import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@asyncmcp/core';
import {
  HybridSessionManager,
  StreamableHttpWebhookClientTransport,
  WebhookClientTransport,
  WebhookSessionManager,
} from '@asyncmcp/webhook';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CLI_PATH, CliProcess, cleanEnv, isOrderedSubset, parseLog, within } from './cli-process.js';
import { callWithProgress, textOfCall, useGatewayClients } from './e2e-suite.js';
import { textOf } from './test-server.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));

/** A fresh Standard Webhooks secret, as `whsec_<base64>`. */
function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The async MCP server of these tests: a greeting, and a slow tool that reports progress first. */
function createTestServer(): McpServer {
  const server = new McpServer({ name: 'cli-webhook-server', version: '1.0.0' });
  server.registerTool('greet', { inputSchema: { name: z.string() } }, async ({ name }) => ({
    content: [{ type: 'text', text: `hello ${name}, over webhooks` }],
  }));
  server.registerTool(
    'slow',
    { inputSchema: { steps: z.number().int().min(1) } },
    async ({ steps }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: step, total: steps },
          });
        }
      }
      return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
    },
  );
  return server;
}

/** Session ids a server closed, with a bounded wait for one. */
class ClosedSessions {
  readonly ids: string[] = [];
  #waiters: Array<{ id: string; resolve: () => void }> = [];

  readonly onclosed = (id: string): void => {
    this.ids.push(id);
    for (const waiter of this.#waiters.filter((candidate) => candidate.id === id)) waiter.resolve();
    this.#waiters = this.#waiters.filter((candidate) => candidate.id !== id);
  };

  waitFor(id: string): Promise<void> {
    if (this.ids.includes(id)) return Promise.resolve();
    return within(
      new Promise<void>((resolve) => this.#waiters.push({ id, resolve })),
      `the server closing session ${id}`,
    );
  }
}

/** A logger that resolves `next()` on each line with `message`; bounded. */
class LogWaiter {
  #waiting: Array<() => void> = [];
  readonly logger: Logger;

  constructor(message: string) {
    const seen = (_fields: Record<string, unknown>, text?: string) => {
      if (text === message) for (const resolve of this.#waiting.splice(0)) resolve();
    };
    this.logger = { debug: seen, info: seen, warn: seen, error: seen };
  }

  /** The next such line, from now on. */
  next(): Promise<void> {
    return within(
      new Promise<void>((resolve) => this.#waiting.push(resolve)),
      'the server logging a webhook answer',
    );
  }
}

async function greet(client: Client, name: string): Promise<string> {
  return textOf(await within(client.callTool({ name: 'greet', arguments: { name } }), 'tools/call greet'));
}

/** The error a promise rejects with, bounded. */
async function rejectionOf(promise: Promise<unknown>, what: string): Promise<unknown> {
  return within(
    promise.then(
      () => undefined,
      (caught: unknown) => caught,
    ),
    what,
  );
}

// The real CLI with --backend webhook in front of a WebhookSessionManager started here: the gateway
// POSTs every message to the server, which answers on the gateway's own webhook route.
describe('asyncmcp-proxy --backend webhook (end to end)', () => {
  const closed = new ClosedSessions();
  const secret = newSecret();
  let server: WebhookSessionManager;
  let signed: WebhookSessionManager;
  let serverUrl: string;
  let signedUrl: string;

  beforeAll(async () => {
    // The gateway is on loopback: the server must be allowed to deliver there.
    server = new WebhookSessionManager({
      createServer: createTestServer,
      allowPrivateNetworks: true,
      onsessionclosed: closed.onclosed,
    });
    serverUrl = await server.listen({ port: 0 });
    signed = new WebhookSessionManager({
      createServer: createTestServer,
      allowPrivateNetworks: true,
      signingSecret: secret,
    });
    signedUrl = await signed.listen({ port: 0 });
  });

  const servers: Array<{ close(): void }> = [];
  // Registered before the clients' hook, so it runs after it (after-hooks run newest first).
  afterEach(() => {
    for (const other of servers.splice(0)) other.close();
  });
  const { connect, connectOver } = useGatewayClients('cli-webhook-e2e');

  afterAll(async () => {
    await Promise.allSettled([server.close(), signed.close()]);
  });

  /** The one session the server opened since `before`: the gateway's, under the id it proposed. */
  function serverSessionSince(before: ReadonlySet<string>): string {
    const opened = [...server.sessions.keys()].filter((id) => !before.has(id));
    expect(opened).toHaveLength(1);
    return opened[0] as string;
  }

  it('serves a tool of a webhook server to a Streamable HTTP client, receiving on its own address', async () => {
    const before = new Set(server.sessions.keys());
    const cli = new CliProcess(
      ['--backend', 'webhook', '--server-url', serverUrl, '--port', '0'],
      cleanEnv(),
    );
    expect(await cli.waitForLog('starting the gateway')).toMatchObject({
      backend: 'webhook',
      serverUrl,
      webhookBaseUrl: '(the listening address)',
      webhookPath: '/webhooks',
      signing: 'off',
    });
    const url = await cli.url();
    const receiving = await cli.waitForLog('receiving webhooks');
    expect(receiving.webhookUrl).toBe(`${new URL(url).origin}/webhooks/<session>`);

    const client = await connect(url);
    expect(client.getServerVersion()?.name).toBe('cli-webhook-server');
    const { tools } = await within(client.listTools(), 'tools/list');
    expect(tools.map((tool) => tool.name).sort()).toEqual(['greet', 'slow']);
    expect(await greet(client, 'gateway')).toBe('hello gateway, over webhooks');

    const { text: slow, progress } = await callWithProgress(client, 'slow', { steps: 3 });
    expect(slow).toBe('done after 3 steps');
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3]);

    // The server adopted the session id the gateway proposed: a secret of its own, not the gateway's HTTP
    // session id (nor the webhook path).
    const opened = await cli.waitForLog('session opened');
    const sessionId = serverSessionSince(before);
    expect(sessionId).not.toBe(String(opened.sessionId));
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    // The gateway logs its own session only as a digest.
    expect(String(opened.sessionId)).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(cli.lines.stdout.filter((line) => line.includes(sessionId))).toEqual([]);

    const ready = await within(fetch(new URL('/ready', url)), 'GET /ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', backend: 'webhook' });
    const metrics = await within(fetch(new URL('/metrics', url)), 'GET /metrics');
    expect(await metrics.text()).toMatch(
      /asyncmcp_gateway_backend_stat\{backend="webhook",stat="routed"\} [1-9]/,
    );

    // A graceful stop leaves the session to the server: another instance of the fleet, or this one
    // started again, serves it to the same client. Only the client's DELETE ends it there.
    const key = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect(server.sessions.has(sessionId)).toBe(true);
    expect(closed.ids).not.toContain(sessionId);
    expect(cli.lines.stdout.every((line) => parseLog(line) !== undefined)).toBe(true);

    const again = new CliProcess(
      ['--backend', 'webhook', '--server-url', serverUrl, '--port', '0'],
      cleanEnv(),
    );
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': key,
      'mcp-protocol-version': '2025-06-18',
    };
    const listed = await within(
      fetch(await again.url(), {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 'again', method: 'tools/list' }),
      }).then(async (answer) => ({ status: answer.status, body: await answer.text() })),
      'tools/list through the gateway started again',
    );
    expect(listed.status, listed.body).toBe(200);
    expect(listed.body).toContain('"greet"');
    expect([...server.sessions.keys()].filter((id) => !before.has(id))).toEqual([sessionId]);
    const deleted = await within(
      fetch(await again.url(), { method: 'DELETE', headers }),
      'DELETE through the gateway started again',
    );
    expect(deleted.status).toBe(200);
    await closed.waitFor(sessionId);
  });

  it('signs and verifies with --signing-secret, never logging it, and fails without it', async () => {
    const cli = new CliProcess(
      ['--backend', 'webhook', '--server-url', signedUrl, '--port', '0', '--log-level', 'debug'],
      cleanEnv({ ASYNCMCP_SIGNING_SECRET: secret }),
    );
    expect(await cli.waitForLog('starting the gateway')).toMatchObject({ backend: 'webhook', signing: 'on' });
    const client = await connect(await cli.url());
    expect(await greet(client, 'signed')).toBe('hello signed, over webhooks');
    const secretBytes = secret.slice('whsec_'.length);
    expect(cli.lines.stdout.some((line) => line.includes(secretBytes))).toBe(false);
    expect(cli.lines.stderr.some((line) => line.includes(secretBytes))).toBe(false);

    // Without the secret, the signed server refuses the gateway's initialize (401, unsigned).
    const unsigned = new CliProcess(
      ['--backend', 'webhook', '--server-url', signedUrl, '--port', '0'],
      cleanEnv(),
    );
    const error = await rejectionOf(connect(await unsigned.url()), 'the refused initialize');
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toMatch(/Missing webhook signature/);
  });

  it('receives webhooks on --host/--port in stdio mode, and ends the session when stdin ends', async () => {
    const before = new Set(server.sessions.keys());
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_PATH, '--stdio', '--backend', 'webhook', '--server-url', serverUrl, '--port', '0'],
      env: cleanEnv(),
      stderr: 'pipe',
    });
    const stderr: string[] = [];
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const client = await connectOver(transport, 'connecting over stdio');
    expect(await greet(client, 'stdio')).toBe('hello stdio, over webhooks');
    const logs = stderr
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map(parseLog);
    const receiving = logs.find((log) => log?.msg === 'receiving webhooks');
    expect(String(receiving?.webhookUrl)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/<session>$/);
    const gatewayKey = String(logs.find((log) => log?.msg === 'stdio session started')?.sessionId);
    const sessionId = serverSessionSince(before);
    expect(sessionId).not.toBe(gatewayKey);
    await client.close();
    await closed.waitFor(sessionId);
  });

  it('takes --webhook-base-url (behind a reverse proxy) from the environment and --webhook-path from a file', async () => {
    // The server reaches the gateway through a proxy that strips /gateway-1, as a load balancer might.
    const forwarder = await startForwarder('/gateway-1');
    servers.push(forwarder);
    const configFile = join(mkdtempSync(join(tmpdir(), 'asyncmcp-webhook-e2e-')), 'gateway.yaml');
    writeFileSync(
      configFile,
      ['backend: webhook', `serverUrl: ${serverUrl}`, 'webhookPath: /asyncmcp/hooks'].join('\n'),
    );
    const base = `${forwarder.origin}/gateway-1`;
    const cli = new CliProcess(
      ['--config', configFile, '--port', '0'],
      cleanEnv({ ASYNCMCP_WEBHOOK_BASE_URL: base }),
    );
    expect(await cli.waitForLog('starting the gateway')).toMatchObject({
      webhookBaseUrl: base,
      webhookPath: '/asyncmcp/hooks',
      configFile,
    });
    expect((await cli.waitForLog('receiving webhooks')).webhookUrl).toBe(`${base}/asyncmcp/hooks/<session>`);
    const url = await cli.url();
    forwarder.target = Number(new URL(url).port);

    const client = await connect(url);
    expect(await greet(client, 'base URL')).toBe('hello base URL, over webhooks');
    // Every answer came through the proxy, to the configured path.
    expect(forwarder.paths.length).toBeGreaterThan(0);
    expect(forwarder.paths.every((path) => path.startsWith('/asyncmcp/hooks/'))).toBe(true);
  });
});

/** An HTTP server on a free port that strips `prefix` and forwards to 127.0.0.1:`target`. */
async function startForwarder(prefix: string): Promise<{
  origin: string;
  target: number;
  paths: string[];
  close(): void;
}> {
  const forwarder = {
    origin: '',
    target: 0,
    paths: [] as string[],
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').startsWith(prefix)
      ? (req.url ?? '/').slice(prefix.length)
      : '/not-forwarded';
    forwarder.paths.push(path);
    const upstream = request(
      { host: '127.0.0.1', port: forwarder.target, path, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await within(
    new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    'the forwarder listening',
  );
  forwarder.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return forwarder;
}

// --backend hybrid: Streamable HTTP to a HybridSessionManager, whose webhook tools answer on the
// gateway's webhook route while the others answer on the stream.
describe('asyncmcp-proxy --backend hybrid (end to end)', () => {
  const { connect } = useGatewayClients('cli-webhook-e2e');
  let server: HybridSessionManager;
  let serverUrl: string;
  // The server logs each answer its webhook took (after the gateway's 2xx, so after the client may
  // already hold the answer): the test waits for the log line, not for time.
  const webhookAnswers = new LogWaiter('answer delivered by webhook');

  beforeAll(async () => {
    server = new HybridSessionManager({
      createServer: createTestServer,
      webhookTools: ['slow'],
      allowPrivateNetworks: true,
      logger: webhookAnswers.logger,
    });
    serverUrl = await server.listen({ port: 0 });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers a webhook tool through the webhook and the others on the stream', async () => {
    const cli = new CliProcess(['--backend', 'hybrid', '--server-url', serverUrl, '--port', '0'], cleanEnv());
    expect(await cli.waitForLog('starting the gateway')).toMatchObject({ backend: 'hybrid', serverUrl });
    const client = await connect(await cli.url());

    const delivered = webhookAnswers.next();
    const { text: slow, progress } = await callWithProgress(client, 'slow', { steps: 2 });
    expect(slow).toBe('done after 2 steps');
    await delivered;
    const answers = server.stats.webhookAnswers;
    // Progress comes on the stream, the answer on the webhook: nothing orders the two channels, so
    // progress read after the answer is too late for the client (see the hybrid client transport).
    expect(isOrderedSubset(progress, [1, 2])).toBe(true);

    expect(await greet(client, 'stream')).toBe('hello stream, over webhooks');
    expect(server.stats.webhookAnswers).toBe(answers);
    expect(server.stats.webhookFallbacks).toBe(0);

    const ready = await within(fetch(new URL('/ready', await cli.url())), 'GET /ready');
    expect(await ready.json()).toEqual({ status: 'ready', backend: 'hybrid' });
  });
});

// `serve --backend webhook|hybrid`: the real CLI puts the stdio fixture on an HTTP endpoint of its own.
describe('asyncmcp-proxy serve --backend webhook|hybrid (end to end)', () => {
  const { connect, connectOver } = useGatewayClients('cli-webhook-e2e');

  async function serve(
    args: string[],
    env = cleanEnv(),
  ): Promise<{ cli: CliProcess; url: string; serving: Record<string, unknown> }> {
    const cli = new CliProcess(['serve', ...args, '--', process.execPath, FIXTURE], env);
    const serving = await cli.waitForLog('serving');
    return { cli, url: String(serving.url), serving };
  }

  it('serves a stdio server to a WebhookClientTransport client, and stops cleanly', async () => {
    // The client's webhook is on loopback: the SSRF guard must allow it.
    const { cli, url, serving } = await serve([
      '--backend',
      'webhook',
      '--port',
      '0',
      '--allow-private-networks',
    ]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp\/request$/);
    expect(serving).toMatchObject({
      backend: 'webhook',
      command: process.execPath,
      args: [FIXTURE],
      signing: 'off',
      allowPrivateNetworks: true,
    });

    const client = await connectOver(
      new WebhookClientTransport({ serverUrl: url, listen: { port: 0 } }),
      'connecting over webhooks',
    );
    expect(client.getServerVersion()?.name).toBe('serve-fixture');
    expect(await textOfCall(client, 'echo', { text: 'over webhooks' })).toBe('echo: over webhooks');
    await cli.waitForLog('session opened');

    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    await within(cli.drained, 'the end of the output');
    expect(cli.lines.stdout.map(parseLog).find((log) => log?.msg === 'serve stopped')).toMatchObject({
      sessions: 1,
    });
  });

  it('refuses a loopback webhook without --allow-private-networks (SSRF guard)', async () => {
    const { url } = await serve(['--backend', 'webhook', '--port', '0']);
    const error = await rejectionOf(
      connectOver(new WebhookClientTransport({ serverUrl: url, listen: { port: 0 } }), 'connecting'),
      'the refused initialize',
    );
    expect(error).toBeInstanceOf(McpError);
  });

  it('signs with --signing-secret from the environment, and takes signed clients only', async () => {
    const secret = newSecret();
    const { cli, url, serving } = await serve(
      ['--backend', 'webhook', '--port', '0', '--allow-private-networks'],
      cleanEnv({ ASYNCMCP_SIGNING_SECRET: secret }),
    );
    expect(serving.signing).toBe('on');
    const client = await connectOver(
      new WebhookClientTransport({ serverUrl: url, listen: { port: 0 }, signingSecret: secret }),
      'connecting with a signature',
    );
    expect(await textOfCall(client, 'echo', { text: 'signed' })).toBe('echo: signed');

    const error = await rejectionOf(
      connectOver(new WebhookClientTransport({ serverUrl: url, listen: { port: 0 } }), 'connecting'),
      'the unsigned initialize',
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toMatch(/Missing webhook signature/);
    expect(cli.lines.stdout.some((line) => line.includes(secret.slice('whsec_'.length)))).toBe(false);
  });

  it('serves hybrid: the --webhook-tool answers on the webhook', async () => {
    const { url, serving } = await serve([
      '--backend',
      'hybrid',
      '--port',
      '0',
      '--webhook-tool',
      'echo',
      '--allow-private-networks',
    ]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(serving).toMatchObject({ backend: 'hybrid', webhookTools: ['echo'] });
    const client = await connectOver(
      new StreamableHttpWebhookClientTransport({ serverUrl: url, listen: { port: 0 } }),
      'connecting to the hybrid',
    );
    expect(await textOfCall(client, 'echo', { text: 'hybrid' })).toBe('echo: hybrid');
    const args = await within(client.callTool({ name: 'args', arguments: {} }), 'args');
    expect(JSON.parse(textOf(args))).toEqual([]);
  });

  it('chains: an MCP client, the gateway with --backend webhook, serve --backend webhook, a stdio server', async () => {
    const { url: serverUrl } = await serve([
      '--backend',
      'webhook',
      '--port',
      '0',
      '--allow-private-networks',
    ]);
    const gateway = new CliProcess(
      ['--backend', 'webhook', '--server-url', serverUrl, '--port', '0'],
      cleanEnv(),
    );
    const client = await connect(await gateway.url());
    expect(await textOfCall(client, 'echo', { text: 'all the way' })).toBe('echo: all the way');
  });
});
