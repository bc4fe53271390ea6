import { connect as netConnect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type CliProcess,
  emulatorBackendFlags,
  parseLog,
  runCli,
  spawnGatewayCli,
  startServeCli,
  within,
} from './cli-process.js';
import { sqsClientTransport, textOfCall, useCliEmulator, useGatewayClients } from './e2e-suite.js';
import { textOf, useTestServer } from './test-server.js';

// The real CLI (node dist/cli.js) attacked as a client could: each bound must hold, and the gateway
// must keep serving the others.

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const TOKEN = 'cli-abuse-token-1234';
/** A stdio server whose `hold` runs until cancelled and says "hold started <tag>" on stderr. */
const HOLD_SERVER = fileURLToPath(new URL('./fixtures/cancel-server.mjs', import.meta.url));

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

function errorLines(cli: CliProcess): string[] {
  return cli.lines.stdout.filter((line) => (parseLog(line)?.level as number | undefined) === 50);
}

describe('asyncmcp-proxy under abuse (end to end)', () => {
  const sqs = useCliEmulator();
  const { connect, connectOver } = useGatewayClients('cli-abuse');
  const testServer = useTestServer(sqs, 'cli-abuse-requests');
  const { server } = testServer;

  const gateway = (...flags: string[]) =>
    spawnGatewayCli(sqs, ['--request-queue-url', testServer.requestQueueUrl], flags);

  /** A session opened by hand; the headers of its later POSTs. */
  async function rawSession(
    url: string,
    extra: Record<string, string> = {},
  ): Promise<Record<string, string>> {
    const init = await within(
      fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...extra }, body: JSON.stringify(INIT) }),
      'initialize',
    );
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id') as string;
    await within(init.text(), 'the initialize answer');
    const headers = {
      ...MCP_HEADERS,
      ...extra,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-06-18',
    };
    await within(
      fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      }).then((response) => response.text()),
      'notifications/initialized',
    );
    return headers;
  }

  it('keeps /metrics small after 20 requests with 1 MB method names', async () => {
    const cli = gateway();
    const url = await cli.url();
    const headers = await rawSession(url);
    for (let i = 0; i < 20; i++) {
      const method = `${String(i).padStart(2, '0')}${'m'.repeat(1_000_000)}`;
      const response = await within(
        fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: i, method }) }),
        `request ${i}`,
      );
      expect(await within(response.text(), `answer ${i}`)).toContain('"error"');
    }
    const metrics = await within(
      fetch(new URL('/metrics', url)).then((response) => response.text()),
      'GET /metrics',
    );
    expect(metrics.length).toBeLessThan(64 * 1024);
    expect(metrics).not.toContain('mmmmmmmmmm');
    const other = [
      ...metrics.matchAll(/^asyncmcp_gateway_requests_total\{method="other",outcome="\w+"\} (\d+)/gm),
    ];
    expect(other.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(20);
  });

  it('keeps no session slot for 20 initializes refused with 406, with --max-sessions 5', async () => {
    const cli = gateway('--max-sessions', '5');
    const url = await cli.url();
    for (let i = 0; i < 20; i++) {
      const refused = await within(
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(INIT),
        }),
        `refused initialize ${i}`,
      );
      expect(refused.status).toBe(406);
      await refused.text();
    }
    const health = await within(
      fetch(new URL('/health', url)).then((r) => r.json()),
      'GET /health',
    );
    expect(health).toEqual({ status: 'ok', sessions: 0 });
    // The slots are free at once, not after the 30-minute idle timeout.
    const clientsIn = await Promise.all([1, 2, 3, 4, 5].map(() => connect(url)));
    const result = await within(
      clientsIn[4]!.callTool({ name: 'greet', arguments: { name: 'fifth' } }),
      'tools/call on the fifth session',
    );
    expect(textOf(result)).toBe('hello fifth, from the test server');
    expect(errorLines(cli)).toEqual([]);
  });

  it('answers a text/plain initialize with 415 and no error log, and a non-JSON-RPC body with id null', async () => {
    const cli = gateway();
    const url = await cli.url();
    const plain = await within(
      fetch(url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, 'content-type': 'text/plain' },
        body: JSON.stringify(INIT),
      }),
      'text/plain initialize',
    );
    expect(plain.status).toBe(415);
    expect(await plain.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' },
    });
    const headers = await rawSession(url);
    const garbage = await within(
      fetch(url, { method: 'POST', headers, body: JSON.stringify({ hello: 'world' }) }),
      'a body that is not JSON-RPC',
    );
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32602 } });
    expect(errorLines(cli)).toEqual([]);
  });

  it('refuses a session its requests beyond --max-in-flight-per-session, and serves other sessions', async () => {
    const cli = gateway('--max-in-flight-per-session', '2');
    const url = await cli.url();
    const greedy = await connect(url);
    // Each start is awaited before the next call, so the promise read is the one that call resolves.
    const held: Promise<unknown>[] = [];
    for (const which of ['first', 'second']) {
      const started = server.holdStarted;
      const call = greedy.callTool({ name: 'hold', arguments: {} });
      call.catch(() => undefined);
      held.push(call);
      await within(started, `the ${which} held call starting`);
    }
    await expect(
      within(greedy.callTool({ name: 'greet', arguments: { name: 'third' } }), 'the third call'),
    ).rejects.toThrow(
      'MCP error -32603: Too many requests running in this session (limit 2): wait for one to finish, then retry',
    );
    const other = await connect(url);
    expect(await textOfCall(other, 'greet', { name: 'other' })).toBe('hello other, from the test server');
    server.releaseAll();
    expect((await within(Promise.all(held), 'the held calls')).map(textOf)).toEqual(['released', 'released']);
    await cli.waitForLog('request refused: too many running in the session');
  });

  it('serve: one session cannot take every running slot of the worker (--max-in-flight-per-session)', async () => {
    const queue = await sqs.createQueue('cli-abuse-serve');
    const { cli: serve } = await startServeCli(sqs, {
      requestQueueUrl: queue,
      command: [process.execPath, HOLD_SERVER],
      flags: ['--max-in-flight-per-session', '2'],
    });
    // Straight over SQS, as a client of the shared queue could: no gateway in front to cap it.
    const open = async (name: string) =>
      connectOver(await sqsClientTransport(sqs, queue, `cli-abuse-${name}`), `${name} connecting over SQS`);
    const greedy = await open('greedy');
    for (const tag of ['a', 'b']) {
      greedy.callTool({ name: 'hold', arguments: { ms: 600_000, tag } }).catch(() => undefined);
      await serve.waitForLine('stderr', (line) => line === `hold started ${tag}`, `hold ${tag} starting`);
    }
    await expect(
      within(greedy.callTool({ name: 'echo', arguments: { text: 'third' } }), 'the third call'),
    ).rejects.toThrow(
      'MCP error -32603: Too many requests running in this session (limit 2): wait for one to finish, then retry',
    );
    const other = await open('other');
    expect(await textOfCall(other, 'echo', { text: 'other' })).toBe('echo: other');
    expect(serve.lines.stderr.filter((line) => line.startsWith('hold started'))).toHaveLength(2);
  });

  it('requires the token for /metrics when --auth-token is set, unless --public-metrics', async () => {
    const guarded = gateway('--auth-token', TOKEN);
    const base = new URL(await guarded.url());
    const refused = await within(fetch(new URL('/metrics', base)), 'GET /metrics without a token');
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('asyncmcp_gateway');
    const allowed = await within(
      fetch(new URL('/metrics', base), { headers: { authorization: `Bearer ${TOKEN}` } }),
      'GET /metrics with the token',
    );
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('asyncmcp_gateway_sessions ');
    expect((await within(fetch(new URL('/health', base)), 'GET /health')).status).toBe(200);

    const open = gateway('--auth-token', TOKEN, '--public-metrics');
    const openMetrics = await within(fetch(new URL('/metrics', await open.url())), 'GET public /metrics');
    expect(openMetrics.status).toBe(200);
  });

  it('closes a connection beyond --max-connections at once, and keeps those it holds', async () => {
    const cli = gateway('--max-connections', '2');
    const url = await cli.url();
    const held = [await openSocket(url), await openSocket(url)];
    const third = await openSocket(url);
    third.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await readUntilClosed(third, 'the connection beyond the cap closing')).toBe('');
    for (const socket of held) {
      const answer = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(String(chunk))));
      socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect(await within(answer, 'a held connection answering')).toMatch(/^HTTP\/1\.1 200/);
      socket.destroy();
    }
  });

  it('closes a connection whose headers do not come within --http-headers-timeout', async () => {
    const cli = gateway('--http-headers-timeout', '0.3', '--http-request-timeout', '0.6');
    const url = await cli.url();
    const slow = await openSocket(url);
    slow.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(await readUntilClosed(slow, 'the slow connection closing')).toMatch(/^HTTP\/1\.1 408/);
    // The gateway goes on serving.
    const client = await connect(url);
    expect(await textOfCall(client, 'greet', { name: 'after' })).toBe('hello after, from the test server');
  });

  it('refuses --host 0.0.0.0 without a token, naming --auth-token and --insecure-no-auth', async () => {
    const result = await runCli([
      ...emulatorBackendFlags(sqs, 'sqs', ['--request-queue-url', testServer.requestQueueUrl]),
      '--port',
      '0',
      '--host',
      '0.0.0.0',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([
      'asyncmcp-proxy: --host 0.0.0.0 exposes the gateway to the network without a bearer token: set one with --auth-token (or ASYNCMCP_AUTH_TOKEN), or pass --insecure-no-auth (or ASYNCMCP_INSECURE_NO_AUTH=true) if something in front of the gateway authenticates its clients',
    ]);
    expect(result.stdout).toEqual([]);
  });

  it('binds --host 0.0.0.0 with a token, or with --insecure-no-auth and a warning', async () => {
    const withToken = gateway('--host', '0.0.0.0', '--auth-token', TOKEN);
    const port = new URL(await withToken.url()).port;
    const local = `http://127.0.0.1:${port}/mcp`;
    const client = await connect(local, { authorization: `Bearer ${TOKEN}` });
    expect(await textOfCall(client, 'greet', { name: 'token' })).toBe('hello token, from the test server');

    const insecure = gateway('--host', '0.0.0.0', '--insecure-no-auth');
    await insecure.url();
    const warning = await insecure.waitForLog(
      'the gateway is reachable from the network without --auth-token (--insecure-no-auth): anyone who can reach it can use it',
    );
    expect(warning.host).toBe('0.0.0.0');
  });
});
