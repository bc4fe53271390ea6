import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  AsyncMcpErrorCode,
  type Backend,
  type BackendListeningAddress,
  InMemoryBroker,
  InMemorySessionManager,
  inMemoryBackend,
  type JSONRPCMessage,
  silentLogger,
} from '@asyncmcp/core';
import { type Cleanup, cleanupsAfterEach, within } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { describe, expect, it } from 'vitest';
import { createProxyServer } from './create-proxy-server.js';
import { ListenError } from './listen-error.js';
import { proxyStdio } from './proxy-stdio.js';

const BOUND_MS = 10_000;

/** An in-memory MCP server with a `greet` tool, and a backend factory reaching it. */
async function inMemoryServer(cleanups: Cleanup[]) {
  const broker = new InMemoryBroker();
  const manager = new InMemorySessionManager({
    broker,
    address: 'server',
    createServer: () => {
      const server = new McpServer({ name: 'listening-test', version: '1.0.0' });
      server.registerTool('greet', {}, async () => ({ content: [{ type: 'text', text: 'hello' }] }));
      return server;
    },
  });
  await manager.start();
  cleanups.push(() => manager.close());
  return { backend: () => inMemoryBackend({ broker, serverAddress: 'server' }) };
}

/**
 * A backend as one written outside this repository against the first `v1` contract: a plain object
 * with no `listening` member (and no route), which must keep working unchanged.
 */
function outsideBackend(inner: Backend): Backend {
  return {
    specificationVersion: 'v1',
    name: 'outside',
    createTransport: (context) => inner.createTransport(context),
    close: () => inner.close(),
  };
}

/** A backend that records every address the gateway tells it, and serves a route under `/hooks`. */
function listeningBackend(inner: Backend, listening?: (address: BackendListeningAddress) => Promise<void>) {
  const addresses: BackendListeningAddress[] = [];
  const backend: Backend = {
    ...outsideBackend(inner),
    name: 'listening',
    httpRoute: {
      path: '/hooks',
      handle: (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"route":"hooks"}');
      },
    },
    async listening(address) {
      addresses.push(address);
      await listening?.(address);
    },
  };
  return { backend, addresses };
}

/** One JSON-RPC exchange over the stdio front: writes `message` to stdin, reads one message from stdout. */
async function stdioExchange(stdin: PassThrough, stdout: PassThrough, message: JSONRPCMessage) {
  const buffer = new ReadBuffer();
  const answer = new Promise<JSONRPCMessage>((resolve) => {
    const onData = (chunk: Buffer) => {
      buffer.append(chunk);
      const read = buffer.readMessage();
      if (read) {
        stdout.off('data', onData);
        resolve(read);
      }
    };
    stdout.on('data', onData);
  });
  stdin.write(serializeMessage(message));
  return within(answer, 'the answer on stdout', BOUND_MS);
}

/** A port another server holds for the rest of the test. */
async function takenPort(cleanups: Cleanup[]): Promise<number> {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await within(once(busy, 'listening'), 'a listening server', BOUND_MS);
  cleanups.push(async () => void busy.close());
  return (busy.address() as AddressInfo).port;
}

const INITIALIZE: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'stdio', version: '1.0.0' },
  },
};

describe('Backend.listening', () => {
  const cleanups = cleanupsAfterEach();

  it('is optional: a backend without it serves sessions over HTTP and stdio unchanged', async () => {
    const server = await inMemoryServer(cleanups);
    const backend = outsideBackend(server.backend());
    expect('listening' in backend).toBe(false);
    const proxy = createProxyServer({ backend, port: 0, logger: silentLogger });
    const { url } = await proxy.listen();
    cleanups.push(() => proxy.close());
    const client = new Client({ name: 'outside-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)), { timeout: BOUND_MS });
    cleanups.push(() => client.close());
    const result = await client.callTool({ name: 'greet', arguments: {} }, undefined, { timeout: BOUND_MS });
    expect(result.content).toEqual([{ type: 'text', text: 'hello' }]);

    // stdio: no route, so no HTTP server at all.
    const [stdin, stdout] = [new PassThrough(), new PassThrough()];
    const stdio = await proxyStdio({
      backend: outsideBackend(server.backend()),
      stdin,
      stdout,
      logger: silentLogger,
    });
    cleanups.push(() => stdio.close());
    expect(stdio.routeOrigin).toBeUndefined();
    const answer = await stdioExchange(stdin, stdout, INITIALIZE);
    expect(answer).toMatchObject({ id: 1, result: { serverInfo: { name: 'listening-test' } } });
  });

  it('tells the backend once, before listen() resolves, naming a wildcard bind by its loopback address', async () => {
    const server = await inMemoryServer(cleanups);
    const { backend, addresses } = listeningBackend(server.backend());
    const proxy = createProxyServer({ backend, host: '0.0.0.0', port: 0, logger: silentLogger });
    const { url, port } = await proxy.listen();
    cleanups.push(() => proxy.close());
    expect(url).toBe(`http://0.0.0.0:${port}/mcp`);
    expect(addresses).toEqual([{ origin: `http://127.0.0.1:${port}` }]);
    // The gateway serves the route at that origin.
    const routed = await within(
      fetch(`${addresses[0]?.origin}/hooks/a`, { method: 'POST' }),
      'POST /hooks/a',
    );
    expect(await routed.json()).toEqual({ route: 'hooks' });
  });

  it('stops listen() when the backend refuses, and frees the port', async () => {
    const server = await inMemoryServer(cleanups);
    const { backend, addresses } = listeningBackend(server.backend(), async () => {
      throw new Error('no address for me');
    });
    const proxy = createProxyServer({ backend, port: 0, logger: silentLogger });
    await expect(proxy.listen()).rejects.toThrow('no address for me');
    const port = Number(new URL(addresses[0]?.origin ?? '').port);
    const again = createServer();
    again.listen(port, '127.0.0.1');
    await within(once(again, 'listening'), 'binding the freed port', BOUND_MS);
    again.close();
  });

  it('rejects listen() with a ListenError when the port is taken', async () => {
    const port = await takenPort(cleanups);
    const server = await inMemoryServer(cleanups);
    const proxy = createProxyServer({ backend: server.backend(), port, logger: silentLogger });
    const error = await proxy.listen().catch((caught: unknown) => caught);
    expect(ListenError.isListenError(error)).toBe(true);
    expect(error).toMatchObject({
      code: AsyncMcpErrorCode.Listen,
      host: '127.0.0.1',
      port,
      message: `cannot listen on 127.0.0.1:${port}: the port is in use`,
    });
  });

  it('in stdio mode, serves the backend route alone on host and port, and tells the backend first', async () => {
    const server = await inMemoryServer(cleanups);
    const { backend, addresses } = listeningBackend(server.backend());
    const [stdin, stdout] = [new PassThrough(), new PassThrough()];
    const stdio = await proxyStdio({
      backend,
      host: '127.0.0.1',
      port: 0,
      stdin,
      stdout,
      logger: silentLogger,
    });
    const origin = stdio.routeOrigin as string;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(addresses).toEqual([{ origin }]);
    const routed = await within(fetch(`${origin}/hooks/session`, { method: 'POST' }), 'POST /hooks/session');
    expect(await routed.json()).toEqual({ route: 'hooks' });
    expect((await within(fetch(`${origin}/mcp`), 'GET /mcp')).status).toBe(404);
    const answer = await stdioExchange(stdin, stdout, INITIALIZE);
    expect(answer).toMatchObject({ id: 1, result: { serverInfo: { name: 'listening-test' } } });

    // The route's server goes with the session.
    stdin.end();
    await within(stdio.closed, 'the stdio session closing', BOUND_MS);
    await expect(fetch(`${origin}/hooks/session`, { method: 'POST' })).rejects.toThrow();
  });

  it('in stdio mode, rejects with a ListenError when the route port is taken', async () => {
    const port = await takenPort(cleanups);
    const server = await inMemoryServer(cleanups);
    const { backend, addresses } = listeningBackend(server.backend());
    const error = await proxyStdio({ backend, port, logger: silentLogger }).catch(
      (caught: unknown) => caught,
    );
    expect(ListenError.isListenError(error)).toBe(true);
    expect((error as ListenError).port).toBe(port);
    expect(addresses).toEqual([]);
  });
});
