import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { silentLogger } from '@asyncmcp/core';
import { countdown, RecordingLogger } from '@asyncmcp/core/testing';
import { SqsSessionManager, sqsBackend } from '@asyncmcp/sqs';
import { cleanupsAfterEach, textOf, useSqsEmulator, WAIT_MS, within } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ClientRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createProxyServer,
  MCP_REQUEST_METHODS,
  methodLabel,
  type ProxyServerOptions,
} from '../src/index.js';
import {
  INIT,
  MCP_HEADERS,
  postJson,
  rawSession,
  startGatewayOnQueue,
  startSqsWorker,
} from './gateway-harness.js';

// Attacks on the gateway as a client could make them, each against a bound that must hold.

const request = { timeout: 20_000 };

/** A raw TCP connection to the gateway, once connected. */
async function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = netConnect(Number(port), hostname);
  socket.on('error', () => undefined);
  await within(new Promise((resolve) => socket.once('connect', resolve)), 'a TCP connection');
  return socket;
}

/** What the server sent on `socket` until it closed it. */
function readUntilClosed(socket: Socket, what: string): Promise<string> {
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  return within(
    new Promise<string>((resolve) => {
      if (socket.closed) resolve(data);
      socket.once('close', () => resolve(data));
    }),
    what,
  );
}

describe('request method labels', () => {
  it('are the request methods of the MCP specification, as the SDK knows them', () => {
    const sdkMethods = ClientRequestSchema.options.map((schema) => schema.shape.method.value);
    expect([...MCP_REQUEST_METHODS].sort()).toEqual([...sdkMethods].sort());
  });

  it('turn any other method into other', () => {
    expect(methodLabel('tools/call')).toBe('tools/call');
    expect(methodLabel('tools/call ')).toBe('other');
    expect(methodLabel('x'.repeat(1_000_000))).toBe('other');
    expect(methodLabel('__proto__')).toBe('other');
  });
});

describe('gateway under abuse', () => {
  const sqs = useSqsEmulator();
  let manager: SqsSessionManager;
  let requestQueueUrl: string;
  const releases: Array<() => void> = [];
  let holdStarted: { signal(): void } | undefined;
  const cleanups = cleanupsAfterEach();

  beforeAll(async () => {
    requestQueueUrl = await sqs.createQueue('gateway-abuse');
    manager = await startSqsWorker(sqs, requestQueueUrl, () => {
      const server = new McpServer({ name: 'abuse-test', version: '1.0.0' });
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text }],
      }));
      server.registerTool('hold', {}, async () => {
        holdStarted?.signal();
        await new Promise<void>((resolve) => releases.push(resolve));
        return { content: [{ type: 'text', text: 'released' }] };
      });
      return server;
    });
  });
  afterAll(async () => {
    for (const release of releases.splice(0)) release();
    await manager.close();
  });

  function startGateway(options: Partial<ProxyServerOptions> = {}) {
    return startGatewayOnQueue(sqs, requestQueueUrl, cleanups, options);
  }

  async function connect(url: string, headers?: Record<string, string>) {
    const client = new Client({ name: 'abuse-test-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(
      new URL(url),
      headers ? { requestInit: { headers } } : {},
    );
    await client.connect(transport, request);
    cleanups.push(async () => {
      for (const release of releases.splice(0)) release();
      await client.close();
    });
    return { client, transport };
  }

  it('keeps /metrics small after 20 requests with 1 MB method names', async () => {
    const { url, base } = await startGateway({ maxBodySize: '2mb' });
    const headers = await rawSession(url);
    for (let i = 0; i < 20; i++) {
      const method = `${String(i).padStart(2, '0')}${'m'.repeat(1_000_000)}`;
      const response = await within(
        fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: i, method }) }),
        `request ${i}`,
      );
      // Answered (method not found) or refused by the queue as too large: either way it was counted.
      expect(await response.text()).toMatch(/"error"/);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics.length).toBeLessThan(64 * 1024);
    expect(metrics).not.toContain('mmmmmmmmmm');
    const other = [
      ...metrics.matchAll(/^asyncmcp_gateway_requests_total\{method="other",outcome="\w+"\} (\d+)/gm),
    ];
    expect(other.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(20);
  });

  it('requires the bearer token for /metrics when one is set, unless publicMetrics', async () => {
    const token = `metrics-${randomUUID()}`;
    const guarded = await startGateway({ authToken: token });
    const refused = await fetch(`${guarded.base}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('asyncmcp_gateway');
    const wrong = await fetch(`${guarded.base}/metrics`, {
      headers: { authorization: 'Bearer wrong-token' },
    });
    expect(wrong.status).toBe(401);
    const allowed = await fetch(`${guarded.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('asyncmcp_gateway_sessions ');
    // Probes stay open: orchestrators call them without credentials.
    expect((await fetch(`${guarded.base}/health`)).status).toBe(200);

    const open = await startGateway({ authToken: token, publicMetrics: true });
    expect((await fetch(`${open.base}/metrics`)).status).toBe(200);
    const noToken = await startGateway();
    expect((await fetch(`${noToken.base}/metrics`)).status).toBe(200);
  });

  it('keeps no session slot for initializes the transport refuses (no Accept: 406)', async () => {
    const logger = new RecordingLogger();
    const { url, proxy, base } = await startGateway({ maxSessions: 5, logger });
    for (let i = 0; i < 20; i++) {
      const refused = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(INIT),
      });
      expect(refused.status).toBe(406);
      await refused.text();
    }
    expect(proxy.sessionIds()).toEqual([]);
    // The slots are free: a real client gets in at once, not after the idle timeout.
    const { client } = await connect(url);
    expect(
      textOf(await client.callTool({ name: 'echo', arguments: { text: 'in' } }, undefined, request)),
    ).toBe('in');
    expect(proxy.sessionIds()).toHaveLength(1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^asyncmcp_gateway_sessions_rejected_total\{reason="refused"\} 20$/m);
    expect(metrics).toMatch(/^asyncmcp_gateway_sessions_opened_total 1$/m);
    expect(logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('keeps no session slot for initializes the server refuses (its session limit)', async () => {
    // A worker full at one session: every later initialize is answered with its error. Kept, each such
    // session held a gateway slot until evicted as idle, so a full worker soon filled the gateway too.
    const fullQueueUrl = await sqs.createQueue('full-worker');
    const full = new SqsSessionManager({
      sqsClient: sqs.sqsClient,
      requestQueueUrl: fullQueueUrl,
      createServer: () => new McpServer({ name: 'full', version: '1.0.0' }),
      waitTimeSeconds: 1,
      maxSessions: 1,
    });
    await full.start();
    cleanups.push(() => full.close());
    const { url, proxy, base } = await startGatewayOnQueue(sqs, fullQueueUrl, cleanups, { maxSessions: 3 });
    await rawSession(url);
    const refusedIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const refused = await within(postJson(url, INIT), `initialize ${i}`);
      expect(refused.status).toBe(200);
      refusedIds.push(refused.headers.get('mcp-session-id') as string);
      expect(await refused.text()).toContain('too many sessions');
    }
    await expect.poll(() => proxy.sessionIds().length, { timeout: WAIT_MS }).toBe(1);
    // A refused session is gone: a request under its id gets 404, as for any session the gateway lacks.
    const late = await postJson(
      url,
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      {
        'mcp-session-id': refusedIds[0] as string,
      },
    );
    expect(late.status).toBe(404);
    // The slots are free: another initialize reaches the worker (and is refused by it), not the gateway's limit.
    const again = await postJson(url, INIT);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('too many sessions');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^asyncmcp_gateway_sessions_rejected_total\{reason="refused"\} 11$/m);
    expect(metrics).toMatch(/^asyncmcp_gateway_sessions_opened_total 1$/m);
  });

  it('answers a text/plain initialize with 415, opening nothing and logging no error', async () => {
    const logger = new RecordingLogger();
    const { url, proxy } = await startGateway({ logger });
    const response = await postJson(url, INIT, { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' },
    });
    expect(proxy.sessionIds()).toEqual([]);
    expect(logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('answers a body that is not JSON-RPC, and has no id, with an error whose id is null', async () => {
    const { url } = await startGateway();
    const headers = await rawSession(url);
    for (const body of [{ hello: 'world' }, { jsonrpc: '2.0' }]) {
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32602 } });
    }
    // Without a session too.
    const bare = await fetch(url, { method: 'POST', headers: MCP_HEADERS, body: '{"hello":"world"}' });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ id: null });
  });

  it('refuses a request beyond maxInFlightPerSession with a clear error; other sessions go on', async () => {
    const { url, base } = await startGateway({ maxInFlightPerSession: 2 });
    const { client } = await connect(url);
    const started = countdown(2, WAIT_MS);
    holdStarted = started;
    const held = [1, 2].map(() => client.callTool({ name: 'hold', arguments: {} }, undefined, request));
    for (const call of held) call.catch(() => undefined);
    await started.done;
    await expect(
      client.callTool({ name: 'echo', arguments: { text: 'third' } }, undefined, request),
    ).rejects.toThrow(
      'MCP error -32603: Too many requests running in this session (limit 2): wait for one to finish, then retry',
    );
    const other = await connect(url);
    expect(
      textOf(await other.client.callTool({ name: 'echo', arguments: { text: 'other' } }, undefined, request)),
    ).toBe('other');
    for (const release of releases.splice(0)) release();
    expect((await Promise.all(held)).map(textOf)).toEqual(['released', 'released']);
    // With the running calls answered, the session may call again.
    expect(
      textOf(await client.callTool({ name: 'echo', arguments: { text: 'again' } }, undefined, request)),
    ).toBe('again');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^asyncmcp_gateway_requests_total\{method="tools\/call",outcome="refused"\} 1$/m);
  });

  it('closes connections beyond maxConnections at once, and keeps those it holds', async () => {
    const { url, base } = await startGateway({ http: { maxConnections: 2 } });
    const first = await openSocket(url);
    const second = await openSocket(url);
    const third = await openSocket(url);
    third.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(await readUntilClosed(third, 'the third connection closing')).toBe('');
    // The two it holds still work.
    for (const socket of [first, second]) {
      const answer = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(String(chunk))));
      socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect(await within(answer, 'a held connection answering')).toMatch(/^HTTP\/1\.1 200/);
      socket.destroy();
    }
    expect(base).toMatch(/^http:/);
  });

  it('closes a connection that does not finish its headers within headersTimeoutMs', async () => {
    const { url } = await startGateway({ http: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const slow = await openSocket(url);
    slow.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(await readUntilClosed(slow, 'the slow connection closing')).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection that does not finish its body within requestTimeoutMs', async () => {
    const { url } = await startGateway({ http: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const slow = await openSocket(url);
    slow.write(
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":',
    );
    expect(await readUntilClosed(slow, 'the slow body closing')).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const { url } = await startGateway({ http: { keepAliveTimeoutMs: 200 } });
    const idle = await openSocket(url);
    const closed = readUntilClosed(idle, 'the idle connection closing');
    idle.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // Answered, then closed by the server: the connection was kept alive, but not for long.
    expect(await closed).toMatch(/^HTTP\/1\.1 200/);
  });

  it('refuses limits Node would refuse, naming them', () => {
    const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl });
    expect(() =>
      createProxyServer({
        backend,
        logger: silentLogger,
        http: { headersTimeoutMs: 2_000, requestTimeoutMs: 1_000 },
      }),
    ).toThrow('http.headersTimeoutMs (2000) must not be longer than http.requestTimeoutMs (1000)');
    expect(() => createProxyServer({ backend, logger: silentLogger, http: { maxConnections: 0 } })).toThrow(
      'http.maxConnections must be a positive whole number, got 0',
    );
  });
});
