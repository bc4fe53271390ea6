import { MessageTap } from '@asyncmcp/core/testing';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { SessionBridge } from './session-bridge.js';

const BOUND_MS = 10_000;

/** A bridge between two in-memory pairs: `client` is the client's end, `server` the server's. */
async function bridged(options: { maxInFlight?: number; onInitializeRefused?: () => void } = {}) {
  const [clientEnd, front] = InMemoryTransport.createLinkedPair();
  const [back, serverEnd] = InMemoryTransport.createLinkedPair();
  const client = new MessageTap(clientEnd);
  const server = new MessageTap(serverEnd);
  // How many cancellations the server had when its side closed: they must come before.
  const serverClosed = new Promise<number>((resolve) => {
    server.onclose = () => resolve(server.received.filter(isCancel).length);
  });
  await client.start();
  await server.start();
  const bridge = new SessionBridge({ front, back, ...options });
  await bridge.start();
  return { bridge, client, server, serverClosed };
}

const call = (id: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'block' },
});
const withId = (id: number) => (message: JSONRPCMessage) => 'id' in message && message.id === id;
const isCancel = (message: JSONRPCMessage) =>
  'method' in message && message.method === 'notifications/cancelled';
const cancelOf = (id: number) => (message: JSONRPCMessage) =>
  'method' in message && isCancel(message) && message.params?.requestId === id;

describe('SessionBridge ending a session with requests running', () => {
  it('gives each running request an error naming the reason, and cancels it at the server first', async () => {
    const { bridge, client, server, serverClosed } = await bridged();
    await client.send(call(1));
    await client.send(call(2));
    await server.waitFor(withId(2), BOUND_MS);
    expect(bridge.inFlight).toBe(2);

    await bridge.close('the session was deleted (HTTP DELETE)');

    for (const id of [1, 2]) {
      expect(await client.waitFor(withId(id), BOUND_MS)).toEqual({
        jsonrpc: '2.0',
        id,
        error: {
          code: -32000,
          message: 'Connection closed: the session was deleted (HTTP DELETE) before the server answered',
        },
      });
      expect(await server.waitFor(cancelOf(id), BOUND_MS)).toMatchObject({
        params: { reason: 'the session was deleted (HTTP DELETE)' },
      });
    }
    expect(await serverClosed).toBe(2);
    expect(bridge.inFlight).toBe(0);
  });

  it('answers a request that arrives once its session is ending at once, without forwarding it', async () => {
    const { bridge, client, server } = await bridged();
    await bridge.endRunning('the gateway shut down');
    await client.send(call(7));
    expect(await client.waitFor(withId(7), BOUND_MS)).toMatchObject({
      error: { message: 'Connection closed: the gateway shut down before the server answered' },
    });
    expect(server.received.filter(withId(7))).toEqual([]);
    expect(bridge.inFlight).toBe(0);
  });

  it('only cancels at the server when the client side is gone', async () => {
    const { bridge, client, server } = await bridged();
    const clientClosed = new Promise<void>((resolve) => {
      client.onclose = resolve;
    });
    await client.send(call(3));
    await server.waitFor(withId(3), BOUND_MS);
    await bridge.close();
    expect(await server.waitFor(cancelOf(3), BOUND_MS)).toMatchObject({
      params: { reason: 'the client closed the session' },
    });
    await clientClosed;
    expect(client.received).toEqual([]);
  });
});

describe('SessionBridge with a cap on running requests', () => {
  it('answers a request beyond maxInFlight at once with a JSON-RPC error, forwarding nothing', async () => {
    const { bridge, client, server } = await bridged({ maxInFlight: 2 });
    await client.send(call(1));
    await client.send(call(2));
    await server.waitFor(withId(2), BOUND_MS);
    await client.send(call(3));
    expect(await client.waitFor(withId(3), BOUND_MS)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: {
        code: -32603,
        message: 'Too many requests running in this session (limit 2): wait for one to finish, then retry',
        data: { reason: 'session-busy', limit: 2 },
      },
    });
    expect(server.received.filter(withId(3))).toEqual([]);
    expect(bridge.inFlight).toBe(2);
    // An answer frees a place.
    await server.send({ jsonrpc: '2.0', id: 1, result: {} });
    await client.waitFor(withId(1), BOUND_MS);
    await client.send(call(4));
    expect(await server.waitFor(withId(4), BOUND_MS)).toMatchObject({ method: 'tools/call' });
  });

  it('has no cap of its own by default (a session manager in front caps sessions already)', async () => {
    const { bridge, client, server } = await bridged();
    for (let id = 1; id <= 100; id++) await client.send(call(id));
    await server.waitFor(withId(100), BOUND_MS);
    expect(bridge.inFlight).toBe(100);
  });
});

describe('SessionBridge between requests', () => {
  it('tracks requests again after it went quiet, and says when it is idle each time', async () => {
    const { bridge, client, server } = await bridged({ maxInFlight: 1 });
    for (const id of [1, 2]) {
      expect(bridge.inFlight).toBe(0);
      await bridge.whenIdle();
      await client.send(call(id));
      await server.waitFor(withId(id), BOUND_MS);
      expect(bridge.inFlight).toBe(1);
      const idle = bridge.whenIdle();
      await server.send({ jsonrpc: '2.0', id, result: {} });
      await idle;
      expect(bridge.inFlight).toBe(0);
      expect(await client.waitFor(withId(id), BOUND_MS)).toEqual({ jsonrpc: '2.0', id, result: {} });
    }
    await bridge.close();
  });
});

describe('SessionBridge and a refused initialize', () => {
  const initialize = (id: number): JSONRPCMessage => ({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });

  it('tells its owner once the client has the error answering initialize, and not for other errors', async () => {
    const refusals: string[] = [];
    const { client, server } = await bridged({ onInitializeRefused: () => refusals.push('refused') });
    await client.send(call(1));
    await server.waitFor(withId(1), BOUND_MS);
    await server.send({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'tool failed' } });
    await client.waitFor(withId(1), BOUND_MS);
    expect(refusals).toEqual([]);

    await client.send(initialize(2));
    await server.waitFor(withId(2), BOUND_MS);
    await server.send({ jsonrpc: '2.0', id: 2, error: { code: -32603, message: 'too many sessions' } });
    expect(await client.waitFor(withId(2), BOUND_MS)).toMatchObject({
      error: { message: 'too many sessions' },
    });
    await expect.poll(() => refusals, { timeout: BOUND_MS }).toEqual(['refused']);
  });

  it('does not for an initialize answered with a result', async () => {
    const refusals: string[] = [];
    const { client, server } = await bridged({ onInitializeRefused: () => refusals.push('refused') });
    await client.send(initialize(1));
    await server.waitFor(withId(1), BOUND_MS);
    const result = {
      protocolVersion: '2025-06-18',
      capabilities: {},
      serverInfo: { name: 's', version: '1' },
    };
    await server.send({ jsonrpc: '2.0', id: 1, result });
    await client.waitFor(withId(1), BOUND_MS);
    // A later message through the bridge comes after any callback the answer would have set off.
    await client.send(call(2));
    await server.waitFor(withId(2), BOUND_MS);
    expect(refusals).toEqual([]);
  });
});
