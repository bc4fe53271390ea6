import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { initializeRequest, type Json, pyDumps } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WebhookClientTransport, WebhookSessionManager } from '../src/index.js';
import { bodyText, startLoopbackServer, within } from './helpers.js';

/**
 * Wire compatibility with the Python asyncmcp 0.2.x webhook transport (docs/protocol.md §3, §5). The
 * test plays the Python peer by hand: bodies written as Python's `json.dumps` / pydantic's
 * `model_dump_json` write them, the headers `create_http_headers` builds, and the exact statuses and
 * bodies `WebhookSessionManager` (Python) answers with.
 */

/** The headers Python's `create_http_headers` puts on a client message. */
function pyHeaders(input: { method?: string; id?: string | number; sessionId?: string; clientId?: string }) {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'asyncmcp-webhook/1.0',
    'X-Client-ID': input.clientId ?? 'py-client-1',
  };
  if (input.sessionId !== undefined) headers['X-Session-ID'] = input.sessionId;
  if (input.method !== undefined && input.id !== undefined) {
    headers['X-Request-ID'] = String(input.id);
    headers['X-Method'] = input.method;
  } else if (input.method !== undefined) headers['X-Method'] = input.method;
  return headers;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** The Python client's webhook receiver: records every delivery and answers `{"status": "success"}`. */
async function startPythonReceiver() {
  const received: Received[] = [];
  const waiters = new Set<{ match: (entry: Received) => boolean; resolve: (entry: Received) => void }>();
  const server = await startLoopbackServer(async (req, res) => {
    const entry = { headers: req.headers, body: JSON.parse(await bodyText(req)) as Record<string, unknown> };
    received.push(entry);
    for (const waiter of waiters) {
      if (waiter.match(entry)) {
        waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"success"}');
  });
  return {
    server,
    url: `${server.origin}/webhook/response`,
    received,
    waitFor(match: (entry: Received) => boolean): Promise<Received> {
      const seen = received.find(match);
      if (seen) return Promise.resolve(seen);
      return within(
        new Promise<Received>((resolve) => waiters.add({ match, resolve })),
        10_000,
        'webhook delivery',
      );
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('a Python asyncmcp client against WebhookSessionManager', () => {
  let manager: WebhookSessionManager;
  let endpoint: string;
  let receiver: Awaited<ReturnType<typeof startPythonReceiver>>;

  beforeAll(async () => {
    receiver = await startPythonReceiver();
    manager = new WebhookSessionManager({
      allowPrivateNetworks: true,
      createServer: () => {
        const server = new McpServer({ name: 'py-compat', version: '1.0.0' });
        server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
          content: [{ type: 'text', text }],
        }));
        return server;
      },
    });
    endpoint = await manager.listen({ port: 0 });
  });
  afterAll(async () => {
    await manager.close();
    await receiver.server.close();
  });

  async function post(body: string | Uint8Array, headers: Record<string, string>) {
    const response = await fetch(endpoint, { method: 'POST', headers, body });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  const initialize = (id: number, meta?: Record<string, Json>) =>
    // The request is plain JSON: only its type is wider than `Json`.
    pyDumps(initializeRequest(id, { clientInfo: { name: 'mcp', version: '0.1.0' }, meta }) as Json);

  async function openSession(clientId = `py-${randomUUID()}`): Promise<string> {
    const reply = await post(
      initialize(0, { webhookUrl: receiver.url }),
      pyHeaders({ method: 'initialize', id: 0, clientId }),
    );
    expect(reply.status).toBe(200);
    return (JSON.parse(reply.text) as { session_id: string }).session_id;
  }

  it('runs the whole Python handshake and a tool call with the exact replies', async () => {
    const noMeta = await post(initialize(0), pyHeaders({ method: 'initialize', id: 0 }));
    expect(noMeta).toMatchObject({ status: 400, text: '{"error":"Missing webhookUrl in _meta field"}' });

    const created = await post(
      initialize(0, { webhookUrl: receiver.url }),
      pyHeaders({ method: 'initialize', id: 0 }),
    );
    expect(created.status).toBe(200);
    const sessionId = (JSON.parse(created.text) as { session_id: string }).session_id;
    expect(sessionId).toMatch(UUID);
    expect(created.text).toBe(`{"status":"session_created","session_id":"${sessionId}"}`);
    expect(created.headers.get('x-session-id')).toBe(sessionId);
    expect(created.headers.get('content-type')).toBe('application/json');

    // The answer comes by webhook, naming the session; the Python client adopts it from X-Session-ID.
    const result = await receiver.waitFor(
      (entry) => entry.body.id === 0 && entry.headers['x-session-id'] === sessionId,
    );
    expect(result.headers['content-type']).toBe('application/json');
    expect(result.body).toMatchObject({ jsonrpc: '2.0', id: 0, result: { protocolVersion: '2025-06-18' } });

    // pydantic's model_dump_json writes compact JSON for everything after initialize.
    const initialized = await post(
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      pyHeaders({ method: 'notifications/initialized', sessionId }),
    );
    expect(initialized).toMatchObject({ status: 200, text: '{"status":"initialized"}' });

    const listed = await post(
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      pyHeaders({ method: 'tools/list', id: 1, sessionId }),
    );
    expect(listed).toMatchObject({ status: 200, text: '{"status":"received"}' });
    const tools = await receiver.waitFor(
      (entry) => entry.body.id === 1 && entry.headers['x-session-id'] === sessionId,
    );
    expect(tools.body).toMatchObject({ result: { tools: [{ name: 'echo' }] } });

    const call = pyDumps({
      jsonrpc: '2.0',
      id: 'call-ü',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'héllo ☃' } },
    });
    expect(call).toContain('\\u00e9'); // ensure_ascii, as Python sends it
    const called = await post(call, pyHeaders({ method: 'tools/call', id: 'call-ü', sessionId }));
    expect(called).toMatchObject({ status: 200, text: '{"status":"received"}' });
    const echoed = await receiver.waitFor((entry) => entry.body.id === 'call-ü');
    expect(echoed.body).toMatchObject({ result: { content: [{ type: 'text', text: 'héllo ☃' }] } });
  });

  it('adopts a session id the client proposes in X-Session-ID', async () => {
    const proposed = `py-proposed-${randomUUID()}`;
    const reply = await post(
      initialize(0, { webhookUrl: receiver.url }),
      pyHeaders({ method: 'initialize', id: 0, sessionId: proposed }),
    );
    expect(reply.text).toBe(`{"status":"session_created","session_id":"${proposed}"}`);
    expect(reply.headers.get('x-session-id')).toBe(proposed);
  });

  it('refuses what it cannot take with the statuses and JSON-RPC errors of §3 and §5', async () => {
    const sessionId = await openSession();
    const get = await fetch(endpoint, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, DELETE');
    expect(await get.json()).toEqual({
      jsonrpc: '2.0',
      id: 'server-error',
      error: { code: -32600, message: 'Method Not Allowed' },
    });

    const parse = await post('{"jsonrpc": "2.0", "method": ', pyHeaders({ sessionId }));
    expect(parse.status).toBe(400);
    expect(JSON.parse(parse.text)).toMatchObject({
      jsonrpc: '2.0',
      id: 'server-error',
      error: { code: -32700, message: expect.stringMatching(/^Parse error: /) },
    });

    const utf8 = await post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), pyHeaders({ sessionId }));
    expect(utf8.status).toBe(400);
    expect(JSON.parse(utf8.text)).toMatchObject({
      error: { code: -32700, message: expect.stringMatching(/^Parse error: /) },
    });

    const invalid = await post(pyDumps({ hello: 'world' }), pyHeaders({ sessionId }));
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toMatchObject({
      id: 'server-error',
      error: { code: -32602, message: expect.stringMatching(/^Validation error: /) },
    });

    const { 'X-Client-ID': _, ...noClient } = pyHeaders({ method: 'tools/list', id: 5, sessionId });
    const missingClient = await post('{"jsonrpc":"2.0","id":5,"method":"tools/list"}', noClient);
    expect(missingClient.status).toBe(400);
    expect(JSON.parse(missingClient.text)).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32600, message: 'Missing X-Client-ID header' },
    });

    const version = await post('{"jsonrpc":"2.0","id":6,"method":"tools/list"}', {
      ...pyHeaders({ method: 'tools/list', id: 6, sessionId }),
      'X-Protocol-Version': '1999-01-01',
    });
    expect(version.status).toBe(400);
    expect(JSON.parse(version.text)).toEqual({
      jsonrpc: '2.0',
      id: 6,
      error: {
        code: -32600,
        message: `Unsupported protocol version: 1999-01-01. Supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      },
    });

    const missingSession = await post(
      '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
      pyHeaders({ method: 'tools/list', id: 7 }),
    );
    expect(missingSession.status).toBe(400);
    expect(JSON.parse(missingSession.text)).toMatchObject({
      id: 7,
      error: { code: -32600, message: 'Missing or invalid session ID' },
    });

    const unknown = await post(
      '{"jsonrpc":"2.0","id":8,"method":"tools/list"}',
      pyHeaders({ method: 'tools/list', id: 8, sessionId: 'no-such-session' }),
    );
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({
      jsonrpc: '2.0',
      id: 8,
      error: { code: -32600, message: 'Session not found: no-such-session' },
    });
  });

  it('ends a session on DELETE, and answers it as terminated afterwards', async () => {
    const sessionId = await openSession();
    const remove = (headers: Record<string, string>) => fetch(endpoint, { method: 'DELETE', headers });

    const missing = await remove({ 'X-Client-ID': 'py' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: { code: -32600, message: 'Missing X-Session-ID header' },
    });
    const unknown = await remove({ 'X-Session-ID': 'not-a-session' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { code: -32600, message: 'Session not found: not-a-session' },
    });

    const ended = await remove({ 'X-Session-ID': sessionId, 'X-Client-ID': 'py' });
    expect(ended.status).toBe(200);
    expect(await ended.text()).toBe('{"status":"terminated"}');
    expect(manager.sessions.has(sessionId)).toBe(false);

    const late = await post(
      '{"jsonrpc":"2.0","id":9,"method":"tools/list"}',
      pyHeaders({ method: 'tools/list', id: 9, sessionId }),
    );
    expect(late.status).toBe(404);
    expect(JSON.parse(late.text)).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: { code: -32600, message: `Session has been terminated: ${sessionId}` },
    });
    // The error also reaches the client's webhook, so a request waiting there ends too.
    const error = await receiver.waitFor((entry) => entry.body.id === 9);
    expect(error.headers['x-session-id']).toBe(sessionId);
    expect((await remove({ 'X-Session-ID': sessionId })).status).toBe(404);
  });
});

/**
 * A server that behaves as the Python `WebhookSessionManager` does: acknowledges with its bodies, answers
 * by POSTing pydantic-style JSON to the webhook with Python's headers, and puts `"server-error"` in errors.
 */
async function startPythonStyleServer() {
  const requests: Array<{ method: string; headers: IncomingHttpHeaders; body: string }> = [];
  const sessions = new Map<string, string>();
  const pyPost = async (url: string, sessionId: string, message: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'asyncmcp-webhook/1.0',
        'X-Session-ID': sessionId,
      },
      body: JSON.stringify(message),
    });
    await response.body?.cancel();
  };
  const reply = (
    res: import('node:http').ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = await startLoopbackServer(async (req, res) => {
    const text = await bodyText(req);
    requests.push({ method: req.method ?? '', headers: req.headers, body: text });
    const sessionHeader = req.headers['x-session-id'] as string | undefined;
    if (req.method === 'DELETE') {
      if (sessionHeader && sessions.delete(sessionHeader)) return reply(res, 200, { status: 'terminated' });
      return reply(res, 404, {
        jsonrpc: '2.0',
        id: 'server-error',
        error: { code: -32600, message: 'Session not found' },
      });
    }
    const message = JSON.parse(text) as {
      id?: number | string;
      method?: string;
      params?: Record<string, unknown>;
    };
    if (message.method === 'initialize') {
      const webhookUrl = (message.params?._meta as { webhookUrl?: string } | undefined)?.webhookUrl;
      if (!webhookUrl) return reply(res, 400, { error: 'Missing webhookUrl in _meta field' });
      const sessionId = sessionHeader ?? randomUUID();
      sessions.set(sessionId, webhookUrl);
      reply(res, 200, { status: 'session_created', session_id: sessionId }, { 'X-Session-ID': sessionId });
      await pyPost(webhookUrl, sessionId, {
        jsonrpc: '2.0',
        id: message.id as number,
        result: {
          protocolVersion: '2025-06-18',
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: 'python-server', version: '1.0.0' },
        },
      });
      return;
    }
    const webhookUrl = sessionHeader === undefined ? undefined : sessions.get(sessionHeader);
    if (webhookUrl === undefined || sessionHeader === undefined) {
      return reply(res, 404, {
        jsonrpc: '2.0',
        id: 'server-error',
        error: { code: -32600, message: 'Session has been terminated' },
      });
    }
    if (message.method === 'notifications/initialized') return reply(res, 200, { status: 'initialized' });
    reply(res, 200, { status: 'received' });
    if (message.method === 'tools/list') {
      await pyPost(webhookUrl, sessionHeader, {
        jsonrpc: '2.0',
        id: message.id as number,
        result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] },
      });
    } else if (message.method === 'tools/call') {
      const text = (message.params?.arguments as { text?: string } | undefined)?.text ?? '';
      await pyPost(webhookUrl, sessionHeader, {
        jsonrpc: '2.0',
        id: message.id as number,
        result: { content: [{ type: 'text', text: `python says ${text}` }], isError: false },
      });
    }
  });
  return { server, url: `${server.origin}/mcp/request`, requests, sessions };
}

describe('WebhookClientTransport against a Python-style server', () => {
  let python: Awaited<ReturnType<typeof startPythonStyleServer>>;
  const clients: Client[] = [];

  beforeAll(async () => {
    python = await startPythonStyleServer();
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await python.server.close();
  });

  async function connect() {
    const transport = new WebhookClientTransport({
      serverUrl: python.url,
      listen: { port: 0 },
      clientId: 'ts-client',
    });
    const client = new Client({ name: 'ts', version: '1.0.0' });
    await client.connect(transport, { timeout: 10_000 });
    clients.push(client);
    return { client, transport };
  }

  it('initializes, lists and calls tools, and sends the headers of §3', async () => {
    const { client, transport } = await connect();
    const sessionId = transport.sessionId as string;
    expect(python.sessions.has(sessionId)).toBe(true);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['echo']);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(result.content).toEqual([{ type: 'text', text: 'python says hi' }]);

    const [init, initialized, list] = python.requests;
    expect(init?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-client-id': 'ts-client',
      // Ids are opaque to servers: ours go out unguessable (PROTOCOL.md §8), named the same in the header.
      'x-request-id': JSON.parse(init?.body ?? '{}').id,
      'x-method': 'initialize',
    });
    expect(init?.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(init?.headers['x-session-id']).toBeUndefined();
    expect(init?.headers['x-protocol-version']).toBeUndefined();
    expect(JSON.parse(init?.body ?? '{}').params._meta).toEqual({ webhookUrl: transport.webhookUrl });
    expect(initialized?.headers).toMatchObject({
      'x-client-id': 'ts-client',
      'x-session-id': sessionId,
      'x-method': 'notifications/initialized',
      'x-protocol-version': '2025-06-18',
    });
    expect(initialized?.headers['x-request-id']).toBeUndefined();
    expect(list?.headers).toMatchObject({
      'x-session-id': sessionId,
      'x-request-id': JSON.parse(list?.body ?? '{}').id,
      'x-method': 'tools/list',
    });

    await client.close();
    const deleted = python.requests.find((request) => request.method === 'DELETE');
    expect(deleted?.headers).toMatchObject({ 'x-session-id': sessionId, 'x-client-id': 'ts-client' });
    expect(python.sessions.has(sessionId)).toBe(false);
  });

  it('ends a request the server refuses with its error, although Python puts "server-error" in it', async () => {
    const { client, transport } = await connect();
    python.sessions.delete(transport.sessionId as string);
    // Refused at once: the wait is bounded well below the request's own timeout.
    await expect(
      within(client.listTools(undefined, { timeout: 600_000 }), 10_000, 'the refused request'),
    ).rejects.toThrow('Session has been terminated');
  });

  it('answers the Python server 200 {"status":"success"}, and 400 {"error": …} for an unreadable body', async () => {
    const { transport } = await connect();
    const url = transport.webhookUrl as string;
    const sessionId = transport.sessionId as string;
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Session-ID': sessionId },
      body: '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}',
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('{"status":"success"}');
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'X-Session-ID': sessionId },
      body: 'not json',
    });
    expect(bad.status).toBe(400);
    expect(Object.keys((await bad.json()) as object)).toEqual(['error']);
    const other = await fetch(url, {
      method: 'POST',
      headers: { 'X-Session-ID': 'another-session' },
      body: '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}',
    });
    expect(other.status).toBe(404);
  });
});
