import { InMemoryBroker, InMemorySessionManager, inMemoryBackend, silentLogger } from '@asyncmcp/core';
import { countdown } from '@asyncmcp/core/testing';
import { type Cleanup, cleanupsAfterEach } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { createProxyServer } from './create-proxy-server.js';
import type { ProxyServerOptions } from './proxy-server-options.js';

// Every wait has its own bound, far below the SDK's 60 s request timeout: a call the gateway leaves
// pending fails the test with that bound instead of passing late.
const BOUND_MS = 10_000;
const request = { timeout: BOUND_MS };

/**
 * A gateway over the in-memory backend whose server has a `block` tool: it runs until the server is
 * told to cancel it, and reports when it started and when it was cancelled.
 */
async function gatewayWithBlockingTool(cleanups: Cleanup[], options: Partial<ProxyServerOptions>) {
  const started = countdown(1, BOUND_MS);
  const cancelled = countdown(1, BOUND_MS);
  const broker = new InMemoryBroker();
  const manager = new InMemorySessionManager({
    broker,
    address: 'server',
    createServer: () => {
      const server = new McpServer({ name: 'blocking', version: '1.0.0' });
      server.registerTool('block', {}, async (extra) => {
        started.signal();
        await new Promise<void>((resolve) =>
          extra.signal.addEventListener('abort', () => {
            cancelled.signal();
            resolve();
          }),
        );
        return { content: [{ type: 'text', text: 'cancelled' }] };
      });
      return server;
    },
  });
  await manager.start();
  cleanups.push(() => manager.close());
  const proxy = createProxyServer({
    backend: inMemoryBackend({ broker, serverAddress: 'server' }),
    port: 0,
    logger: silentLogger,
    ...options,
  });
  const { url } = await proxy.listen();
  cleanups.push(() => proxy.close());
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'pending-call-client', version: '1.0.0' });
  await client.connect(transport, request);
  cleanups.push(() => client.close());
  const call = client.callTool({ name: 'block', arguments: {} }, undefined, request);
  // Observed from here on, so the rejection is never unhandled while the test waits for something else.
  call.catch(() => undefined);
  await started.done;
  return { proxy, transport, call, cancelled: cancelled.done };
}

describe('a gateway session that ends while a call is pending', () => {
  const cleanups = cleanupsAfterEach();

  it('settles the call with an error naming the DELETE, and cancels it at the server', async () => {
    const { proxy, transport, call, cancelled } = await gatewayWithBlockingTool(cleanups, {});
    const sessionId = transport.sessionId;
    await transport.terminateSession();
    await expect(call).rejects.toThrow(
      'MCP error -32000: Connection closed: the session was deleted (HTTP DELETE) before the server answered',
    );
    await cancelled;
    expect(proxy.sessionIds()).not.toContain(sessionId);
  });

  it('settles it too when the gateway answers with JSON bodies', async () => {
    // Without the error, the SDK's transport would leave this POST's response open for good.
    const { call, transport, cancelled } = await gatewayWithBlockingTool(cleanups, {
      enableJsonResponse: true,
    });
    await transport.terminateSession();
    await expect(call).rejects.toThrow(/the session was deleted \(HTTP DELETE\) before the server answered/);
    await cancelled;
  });

  it('settles it with an error naming the shutdown when the gateway stops', async () => {
    const { proxy, call, cancelled } = await gatewayWithBlockingTool(cleanups, { shutdownTimeoutMs: 100 });
    await proxy.close();
    await expect(call).rejects.toThrow(
      'MCP error -32000: Connection closed: the gateway shut down before the server answered',
    );
    await cancelled;
  });
});
