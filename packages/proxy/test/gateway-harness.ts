import type { ServerFactory } from '@asyncmcp/core';
import { silentLogger } from '@asyncmcp/core';
import { SqsSessionManager, sqsBackend } from '@asyncmcp/sqs';
import type { Cleanup, SqsEmulator } from '@asyncmcp-internal/test-support';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { createProxyServer, type ProxyServerOptions } from '../src/index.js';
import { INIT, MCP_HEADERS, postJson } from './raw-mcp.js';

export { INIT, MCP_HEADERS, postJson };

// What the gateway library's tests set up the same way: a server session manager on a queue of the
// emulator, a gateway in front of it, and sessions opened by hand, as a client without the SDK opens them.

/** The server side on `requestQueueUrl`: an SqsSessionManager making each session's server with `createServer`, started. */
export async function startSqsWorker(
  sqs: SqsEmulator,
  requestQueueUrl: string,
  createServer: ServerFactory,
): Promise<SqsSessionManager> {
  const manager = new SqsSessionManager({
    sqsClient: sqs.sqsClient,
    requestQueueUrl,
    createServer,
    waitTimeSeconds: 1,
  });
  await manager.start();
  return manager;
}

/**
 * A gateway on a free port in front of `requestQueueUrl` (or the `backend` in `options`), closed by
 * `cleanups`; `base` is its origin, where /health and /metrics are.
 */
export async function startGatewayOnQueue(
  sqs: SqsEmulator,
  requestQueueUrl: string,
  cleanups: Cleanup[],
  options: Partial<ProxyServerOptions> = {},
) {
  const backend =
    options.backend ?? sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
  const proxy = createProxyServer({ backend, port: 0, logger: silentLogger, ...options });
  const { url } = await proxy.listen();
  cleanups.push(() => proxy.close());
  return { proxy, url, backend, base: url.replace(/\/mcp$/, '') };
}

/**
 * Ends the opening of a session `initialize` (already sent, as `init`) began: waits for its answer, then
 * sends `notifications/initialized`. Resolves with the headers of the session's later POSTs.
 */
export async function completeRawSession(url: string, init: Response): Promise<Record<string, string>> {
  const sessionId = init.headers.get('mcp-session-id') as string;
  // The client waits for the initialize answer before anything else, as the protocol requires.
  expect(await init.text()).toContain('"protocolVersion"');
  const headers = {
    ...MCP_HEADERS,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
  };
  await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return headers;
}

/** A session opened by hand: the headers of its later POSTs. */
export async function rawSession(url: string): Promise<Record<string, string>> {
  const init = await fetch(url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
  return completeRawSession(url, init);
}
