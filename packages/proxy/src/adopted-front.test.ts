import type { Server } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { serveFrontOverHttp } from '../test/front-http-server.js';
import { adoptedFront } from './adopted-front.js';
import { BoundedEventStore } from './event-store.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const SESSION = 'a'.repeat(32);
const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-session-id': SESSION,
  'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
};

/** The adopted transport behind a bare HTTP server; it answers every request it is handed with `{}`. */
async function serve(): Promise<string> {
  const front = adoptedFront({
    sessionId: SESSION,
    eventStore: new BoundedEventStore(),
    enableJsonResponse: true,
    onsessionclosed: () => undefined,
  });
  front.onmessage = (message) => {
    if ('id' in message && 'method' in message)
      void front.send({ jsonrpc: '2.0', id: message.id, result: {} });
  };
  await front.start();
  return (await serveFrontOverHttp(front, servers)).href;
}

const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

describe('adoptedFront', () => {
  it('serves the session as if its initialize had been done here', async () => {
    const url = await serve();
    const response = await fetch(url, { method: 'POST', headers: HEADERS, body: ping });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 1, result: {} });
  });

  it("keeps the SDK transport's own checks", async () => {
    const url = await serve();
    const other = await fetch(url, {
      method: 'POST',
      headers: { ...HEADERS, 'mcp-session-id': 'b'.repeat(32) },
      body: ping,
    });
    expect(other.status).toBe(404);
    const version = await fetch(url, {
      method: 'POST',
      headers: { ...HEADERS, 'mcp-protocol-version': '1999-01-01' },
      body: ping,
    });
    expect(version.status).toBe(400);
    const accept = await fetch(url, {
      method: 'POST',
      headers: { ...HEADERS, accept: 'text/html' },
      body: ping,
    });
    expect(accept.status).toBe(406);
    const initialize = await fetch(url, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      }),
    });
    expect(initialize.status).toBe(400);
    expect(await initialize.json()).toMatchObject({
      error: { message: 'Invalid Request: Server already initialized' },
    });
  });
});
