import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Backend } from '@asyncmcp/core';
import { countdown, ManualClock, RecordingLogger } from '@asyncmcp/core/testing';
import { type SqsSessionManager, sqsBackend } from '@asyncmcp/sqs';
import { cleanupsAfterEach, textOf, useSqsEmulator } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ProxyServerOptions } from '../src/index.js';
import {
  completeRawSession,
  INIT,
  MCP_HEADERS,
  postJson,
  startGatewayOnQueue,
  startSqsWorker,
} from './gateway-harness.js';

const request = { timeout: 20_000 };
interface Hooks {
  /** Resolves the `hang` tool; until then it waits. */
  release?: Promise<void>;
  onAbort?: () => void;
  onStart?: () => void;
}

function testServer(hooks: Hooks) {
  return () => {
    const server = new McpServer(
      { name: 'gateway-test', version: '1.0.0' },
      { capabilities: { logging: {} } },
    );
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    server.registerTool('hang', {}, async (extra) => {
      hooks.onStart?.();
      extra.signal.addEventListener('abort', () => hooks.onAbort?.());
      await Promise.race([
        hooks.release,
        new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve())),
      ]);
      return { content: [{ type: 'text', text: 'released' }] };
    });
    server.registerTool('step', {}, async (extra) => {
      await extra.sendNotification({
        method: 'notifications/message',
        params: { level: 'info', data: 'step one' },
      });
      hooks.onStart?.();
      await hooks.release;
      return { content: [{ type: 'text', text: 'step done' }] };
    });
    server.registerTool('ask', {}, async (extra) => {
      const answer = await server.server.elicitInput(
        {
          mode: 'form',
          message: 'Your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        },
        { relatedRequestId: extra.requestId },
      );
      return { content: [{ type: 'text', text: `hello ${String(answer.content?.name)}` }] };
    });
    return server;
  };
}

/** fetch() will not send a forged Host header; a plain HTTP request will. */
function postWithHost(url: string, host: string, body: string): Promise<{ status: number; body: string }> {
  return requestWithHost(url, host, 'POST', body);
}

function requestWithHost(
  url: string,
  host: string,
  method: 'GET' | 'POST',
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...MCP_HEADERS, host } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        data += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('gateway over HTTP', () => {
  const sqs = useSqsEmulator();
  const hooks: Hooks = {};
  let manager: SqsSessionManager;
  let requestQueueUrl: string;
  const cleanups = cleanupsAfterEach();

  beforeAll(async () => {
    requestQueueUrl = await sqs.createQueue('gateway-http');
    manager = await startSqsWorker(sqs, requestQueueUrl, testServer(hooks));
  });
  afterAll(async () => {
    await manager.close();
  });

  /** The next `hang` call runs until it is aborted: `started` and `aborted` count down when it does either. */
  function holdUntilAborted() {
    const aborted = countdown(1, 15_000);
    const started = countdown(1, 15_000);
    hooks.onAbort = aborted.signal;
    hooks.onStart = started.signal;
    hooks.release = new Promise(() => {});
    return { aborted, started };
  }

  function startGateway(options: Partial<ProxyServerOptions> = {}) {
    return startGatewayOnQueue(sqs, requestQueueUrl, cleanups, options);
  }

  async function connect(
    url: string,
    options: ConstructorParameters<typeof StreamableHTTPClientTransport>[1] = {},
  ) {
    const client = new Client(
      { name: 'gateway-test-client', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    const transport = new StreamableHTTPClientTransport(new URL(url), options);
    await client.connect(transport, request);
    cleanups.push(() => client.close());
    return { client, transport };
  }

  async function initialize(url: string, headers: Record<string, string> = {}, capabilities = {}) {
    const response = await postJson(
      url,
      { ...INIT, params: { ...INIT.params, capabilities } },
      { ...headers },
    );
    return response;
  }

  it('answers malformed JSON with 400 and a -32700 parse error', async () => {
    const { url } = await startGateway();
    const response = await fetch(url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: '{"jsonrpc": "2.0", "id": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
  });

  it('refuses a request without a session, a batch, and a 2026-style probe at once', async () => {
    const { url } = await startGateway();
    for (const body of [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      [INIT],
      { jsonrpc: '2.0', id: 1, method: 'server/discover' },
    ]) {
      const response = await postJson(url, body, { 'mcp-protocol-version': '2026-07-28' });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { message: 'Bad Request: No valid session ID provided' },
      });
    }
  });

  it('rejects an unsupported protocol version inside a session', async () => {
    const { url } = await startGateway();
    const { transport } = await connect(url);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        ...MCP_HEADERS,
        'mcp-session-id': transport.sessionId as string,
        'mcp-protocol-version': '2026-07-28',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'server/discover' }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('Unsupported protocol version');
  });

  it('checks Accept and Content-Type as the transport specification says', async () => {
    const { url } = await startGateway();
    const { transport } = await connect(url);
    const session = { 'mcp-session-id': transport.sessionId as string };
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' });
    const wrongAccept = await fetch(url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...session, accept: 'text/html' },
      body: ping,
    });
    expect(wrongAccept.status).toBe(406);
    const wrongType = await fetch(url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...session, 'content-type': 'text/plain' },
      body: ping,
    });
    expect(wrongType.status).toBe(415);
  });

  it('answers unknown and missing sessions, and a deleted session stays gone', async () => {
    const { url } = await startGateway();
    const unknown = await postJson(
      url,
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      { 'mcp-session-id': 'f'.repeat(32) },
    );
    expect(unknown.status).toBe(404);
    const missingGet = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(missingGet.status).toBe(400);
    const missingDelete = await fetch(url, { method: 'DELETE' });
    expect(missingDelete.status).toBe(400);

    const { transport } = await connect(url);
    const sessionId = transport.sessionId as string;
    await transport.terminateSession();
    const reused = await postJson(
      url,
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      { 'mcp-session-id': sessionId },
    );
    expect(reused.status).toBe(404);
    expect(await reused.json()).toMatchObject({
      error: { message: `Session has been terminated: ${sessionId}` },
    });
  });

  it('answers a body that is JSON but not JSON-RPC with a validation error', async () => {
    const { url } = await startGateway();
    const { transport } = await connect(url);
    const response = await postJson(
      url,
      { jsonrpc: '1.0', id: 4, method: 'ping' },
      { 'mcp-session-id': transport.sessionId as string },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ id: 4, error: { code: -32602 } });
  });

  it('requires the bearer token when one is set, comparing it in constant time', async () => {
    const token = `secret-${randomUUID()}`;
    const { url } = await startGateway({ authToken: token });
    const missing = await initialize(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="asyncmcp"');
    const wrong = await initialize(url, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('invalid_token');
    const { client } = await connect(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    expect(
      textOf(await client.callTool({ name: 'echo', arguments: { text: 'authorised' } }, undefined, request)),
    ).toBe('authorised');
  });

  it('refuses a bad Host and a foreign Origin with 403 before any session work', async () => {
    const { url, proxy } = await startGateway();
    const badHost = await postWithHost(url, 'evil.example', JSON.stringify(INIT));
    expect(badHost.status).toBe(403);
    expect(JSON.parse(badHost.body)).toMatchObject({ error: { message: 'Invalid Host: evil.example' } });
    // Probes come by IP from orchestrators; only the MCP endpoint is guarded.
    const probe = await requestWithHost(url.replace('/mcp', '/health'), '10.1.2.3:8080', 'GET');
    expect(probe.status).toBe(200);
    const badOrigin = await initialize(url, { origin: 'https://evil.example' });
    expect(badOrigin.status).toBe(403);
    expect(proxy.sessionIds()).toEqual([]);
    const loopbackOrigin = await initialize(url, { origin: 'http://localhost:3000' });
    expect(loopbackOrigin.status).toBe(200);
  });

  it('allows listed CORS origins and exposes Mcp-Session-Id to them', async () => {
    const { url } = await startGateway({ corsOrigins: ['https://app.example'] });
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const response = await initialize(url, { origin: 'https://app.example' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    const other = await initialize(url, { origin: 'https://other.example' });
    expect(other.status).toBe(403);
  });

  it('refuses an oversize body with 413', async () => {
    const { url } = await startGateway({ maxBodySize: '1kb' });
    const response = await postJson(url, { ...INIT, params: { ...INIT.params, padding: 'x'.repeat(4096) } });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('answers 503 with a JSON-RPC error beyond maxSessions', async () => {
    const { url } = await startGateway({ maxSessions: 1 });
    await connect(url);
    const response = await initialize(url);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      id: 1,
      error: { message: 'Service unavailable: session limit reached (1)' },
    });
  });

  it('gives a clear error, not a hang, when the backend is unreachable', async () => {
    const failing: Backend = {
      specificationVersion: 'v1',
      name: 'down',
      createTransport: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:9');
      },
      checkReady: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:9');
      },
      close: async () => {},
    };
    const { url } = await startGateway({ backend: failing });
    const response = await initialize(url);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      id: 1,
      error: { message: 'Backend unavailable: connect ECONNREFUSED 127.0.0.1:9' },
    });
    const ready = await fetch(url.replace('/mcp', '/ready'));
    expect(ready.status).toBe(503);
  });

  it('turns a send failure to the backend into an immediate JSON-RPC error', async () => {
    const missingQueue = sqsBackend({
      sqsClient: sqs.sqsClient,
      requestQueueUrl: `${requestQueueUrl}-does-not-exist`,
      waitTimeSeconds: 1,
    });
    const { url } = await startGateway({ backend: missingQueue });
    const client = new Client({ name: 'c', version: '1' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(url)), request)).rejects.toThrow(
      /the backend could not be reached: SQS SendMessage failed: queue does not exist/,
    );
  });

  it('answers with a JSON-RPC error when the backend does not answer in time, and tells the server', async () => {
    const { aborted, started } = holdUntilAborted();
    // The gateway's clock moves only when the test moves it: initialize cannot time out on a slow machine,
    // and the call times out once it is running, not before.
    const clock = new ManualClock();
    const { url } = await startGateway({ requestTimeoutMs: 500, clock });
    const { client } = await connect(url);
    const call = client.callTool({ name: 'hang', arguments: {} }, undefined, request);
    await started.done;
    let settled = false;
    const markSettled = () => {
      settled = true;
    };
    call.then(markSettled, markSettled);
    clock.advance(499);
    // A round trip through the gateway: had the timeout fired at 499 ms, the error would be back by now.
    await client.ping(request);
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(call).rejects.toThrow(
      /Request timed out: the backend did not answer tools\/call within 500 ms/,
    );
    await aborted.done;
  });

  /** A session opened with bare HTTP (initialize, then initialized), and a POST within it. */
  async function openRawSession(url: string, capabilities = {}) {
    const opened = await initialize(url, {}, capabilities);
    const sessionId = opened.headers.get('mcp-session-id') as string;
    await opened.text();
    const headers = {
      ...MCP_HEADERS,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    };
    const post = (body: unknown) => fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
    return { opened, headers, post };
  }

  it('forwards cancellation from the client to the server', async () => {
    const { aborted, started } = holdUntilAborted();
    const { url } = await startGateway();
    const { client } = await connect(url);
    const controller = new AbortController();
    const call = client.callTool({ name: 'hang', arguments: {} }, undefined, {
      ...request,
      signal: controller.signal,
    });
    // Cancel only once the tool runs: a cancel that overtakes its request forestalls it instead.
    await started.done;
    controller.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    await aborted.done;
  });

  it('carries elicitation from the server to the client and back', async () => {
    const { url } = await startGateway();
    const { client } = await connect(url);
    client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { name: 'Ada' },
    }));
    expect(textOf(await client.callTool({ name: 'ask', arguments: {} }, undefined, request))).toBe(
      'hello Ada',
    );
  });

  it('answers with one JSON body per request when JSON responses are on', async () => {
    const { url } = await startGateway({ enableJsonResponse: true });
    const { opened, post } = await openRawSession(url);
    expect(opened.headers.get('content-type')).toContain('application/json');
    const call = await post({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'plain' } },
    });
    expect(call.headers.get('content-type')).toContain('application/json');
    expect(await call.json()).toMatchObject({
      id: 2,
      result: { content: [{ type: 'text', text: 'plain' }] },
    });
  });

  it('with JSON responses, carries a server request made during a call on the session stream', async () => {
    const { url } = await startGateway({ enableJsonResponse: true });
    const { headers, post } = await openRawSession(url, { elicitation: {} });
    // Bounded: reading the stream fails once the signal fires.
    const stream = await fetch(url, {
      method: 'GET',
      headers: { ...headers, accept: 'text/event-stream' },
      signal: AbortSignal.timeout(15_000),
    });
    expect(stream.status).toBe(200);

    // The call's answer is one JSON body, so the elicitation it needs first has to come on the GET stream.
    const answer = post({ jsonrpc: '2.0', id: 'ask-1', method: 'tools/call', params: { name: 'ask' } });
    const reader = (stream.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .getReader();
    let seen = '';
    // A whole SSE event (ended by a blank line) that carries the elicitation.
    const elicitationEvent = () =>
      seen
        .split('\n\n')
        .slice(0, -1)
        .find((event) => event.includes('elicitation/create'));
    while (!elicitationEvent()) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before the elicitation: ${seen}`);
      seen += value;
    }
    await reader.cancel();
    const data = (elicitationEvent() as string)
      .split('\n')
      .find((line) => line.startsWith('data:')) as string;
    const elicitation = JSON.parse(data.slice('data:'.length)) as { id: string | number };
    await (
      await post({
        jsonrpc: '2.0',
        id: elicitation.id,
        result: { action: 'accept', content: { name: 'Ada' } },
      })
    ).text();
    const response = await answer;
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toMatchObject({
      id: 'ask-1',
      result: { content: [{ type: 'text', text: 'hello Ada' }] },
    });
  });

  it('serves 50 concurrent sessions with colliding ids, each answer reaching its own session', async () => {
    const { url, backend } = await startGateway();
    const sessions = await Promise.all(Array.from({ length: 50 }, () => connect(url)));
    const answers = await Promise.all(
      sessions.map(async ({ client }, index) =>
        textOf(
          await client.callTool({ name: 'echo', arguments: { text: `client ${index}` } }, undefined, request),
        ),
      ),
    );
    expect(answers).toEqual(sessions.map((_, index) => `client ${index}`));
    expect(backend.stats?.unroutable).toBe(0);
  });

  it('evicts idle sessions', async () => {
    const logger = new RecordingLogger();
    // Idleness counts on a clock the test moves once the session is connected, so a slow machine cannot
    // evict it between initialize and notifications/initialized.
    const clock = new ManualClock();
    const { url, proxy } = await startGateway({ sessionIdleTimeoutMs: 200, logger, clock });
    const { transport } = await connect(url);
    clock.advance(199);
    expect(proxy.sessionIds()).toContain(transport.sessionId);
    clock.advance(1);
    await logger.waitFor('idle session evicted');
    expect(proxy.sessionIds()).not.toContain(transport.sessionId);
  });

  it('keeps the answer to initialize for a replay only until the client says it is initialized', async () => {
    const { url } = await startGateway();
    const init = await initialize(url);
    const sessionId = init.headers.get('mcp-session-id') as string;
    const opened = await init.text();
    expect(opened).toContain('"protocolVersion"');
    // The stream's first event: its priming event (no data), the place a resumption starts from.
    const primingId = /^id: (.+)$/m.exec(opened)?.[1] as string;
    expect(primingId).toBeTruthy();
    const headers = {
      accept: 'text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      'last-event-id': primingId,
    };
    /** What a resumption from the priming event replays within `ms`. */
    const replayed = async (ms: number) => {
      let resumed: Response | undefined;
      // The first resumption's stream may still be closing: the gateway reports it busy until then.
      for (let attempt = 0; attempt < 100; attempt++) {
        resumed = await fetch(url, { method: 'GET', headers });
        if (resumed.status !== 409) break;
        await resumed.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(resumed?.status).toBe(200);
      const reader = (resumed?.body as ReadableStream<Uint8Array>)
        .pipeThrough(new TextDecoderStream())
        .getReader();
      let text = '';
      const deadline = Date.now() + ms;
      while (!text.includes('"protocolVersion"') && Date.now() < deadline) {
        const next = await Promise.race([
          reader.read(),
          new Promise<undefined>((resolve) =>
            setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now())),
          ),
        ]);
        if (next === undefined || next.done) break;
        text += next.value;
      }
      await reader.cancel();
      return text;
    };
    // Before notifications/initialized, a client that lost the answer gets it again.
    expect(await replayed(5_000)).toContain('"protocolVersion"');
    const initialized = await postJson(
      url,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
    );
    expect(initialized.status).toBe(202);
    // After it, the client has the answer: the gateway no longer keeps it, and the stream replays nothing.
    expect(await replayed(300)).not.toContain('"protocolVersion"');
  });

  it('lets a client that lost its stream resume it with Last-Event-ID', async () => {
    let release!: () => void;
    hooks.release = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { url } = await startGateway();
    const headers = await completeRawSession(url, await initialize(url));
    const call = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'resume-1',
        method: 'tools/call',
        params: { name: 'step', arguments: {} },
      }),
    });
    // Read events until the log notification has arrived, remember its id, then drop the connection.
    const reader = (call.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    while (!seen.includes('step one')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before the notification: ${seen}`);
      seen += value;
    }
    const lastEventId = [...seen.matchAll(/^id: (.+)$/gm)].at(-1)?.[1] as string;
    expect(lastEventId).toBeTruthy();
    await reader.cancel();

    release();
    // The gateway notices the dropped connection a moment later; until then it reports the stream busy.
    let resumed: Response | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      resumed = await fetch(url, {
        method: 'GET',
        headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastEventId },
      });
      if (resumed.status !== 409) break;
      await resumed.body?.cancel();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!resumed) throw new Error('no resume attempt');
    expect(resumed.status).toBe(200);
    const resumedReader = (resumed.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .getReader();
    let replay = '';
    while (!replay.includes('"id":"resume-1"')) {
      const { value, done } = await resumedReader.read();
      if (done) break;
      replay += value;
    }
    await resumedReader.cancel();
    expect(replay).toContain('step done');
    expect(replay).not.toContain('step one');
  });

  it('serves /health, /ready and Prometheus /metrics', async () => {
    const { url } = await startGateway();
    const { client } = await connect(url);
    await client.callTool({ name: 'echo', arguments: { text: 'm' } }, undefined, request);
    const base = url.replace('/mcp', '');
    expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ status: 'ok', sessions: 1 });
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: 'ready', backend: 'sqs' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('asyncmcp_gateway_sessions 1');
    expect(metrics).toMatch(/asyncmcp_gateway_requests_total\{method="tools\/call",outcome="answered"\} 1/);
    expect(metrics).toContain('asyncmcp_gateway_request_duration_seconds_bucket');
    expect(metrics).toMatch(/asyncmcp_gateway_backend_stat\{backend="sqs",stat="unroutable"\} 0/);
    // Node's default metrics keep the names every dashboard knows.
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(metrics).not.toContain('asyncmcp_gateway_process_');
  });
});
