import { randomBytes } from 'node:crypto';
import {
  type BackendSessionTransport,
  FleetSessionIds,
  isValidSessionId,
  type JSONRPCMessage,
  SESSION_LISTENING_METHOD,
  TERMINATE_SESSION_METHOD,
} from '@asyncmcp/core';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import { hybridBackend, webhookBackend } from './webhook-backend.js';

const SERVER_URL = 'http://server.test/mcp/request';
const SECRET = randomBytes(32).toString('base64');

interface Sent {
  method: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

/**
 * A fetch that plays a webhook server's endpoint: it records what it is sent and replies as §3 says,
 * adopting the proposed session id on `initialize`. Nothing is delivered back; these tests look at what
 * the gateway side sends.
 */
function recordingServer(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (_url, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body =
      typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
    sent.push({ method: init?.method ?? 'GET', headers, body });
    if (body?.method === 'initialize') {
      const sessionId = headers['x-session-id'] as string;
      return Response.json(
        { status: 'session_created', session_id: sessionId },
        { headers: { 'X-Session-ID': sessionId } },
      );
    }
    if (init?.method === 'DELETE') return Response.json({ status: 'terminated' });
    return Response.json({ status: 'received' });
  };
  return { fetch, sent };
}

function metaOf(sent: Sent | undefined): Record<string, unknown> | undefined {
  return (sent?.body?.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
}

const INITIALIZE: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
};

describe('webhookBackend in a fleet', () => {
  it('derives the route and the proposed session id from the key, alike on every instance, each on its own base URL', async () => {
    for (const signingSecret of [undefined, SECRET]) {
      const a = recordingServer();
      const b = recordingServer();
      const backendA = webhookBackend({
        serverUrl: SERVER_URL,
        webhookBaseUrl: 'http://gateway-a.test:3000',
        fetch: a.fetch,
        signingSecret,
      });
      const backendB = webhookBackend({
        serverUrl: SERVER_URL,
        webhookBaseUrl: 'http://gateway-b.test:3000',
        fetch: b.fetch,
        signingSecret,
      });
      expect(backendA.fleet).toBeDefined();
      const key = backendA.fleet?.mintSessionKey() as string;
      expect(backendB.fleet?.mayAdopt(key)).toBe(true);

      const opener = await backendA.createTransport({ sessionKey: key });
      await opener.start();
      await opener.send(INITIALIZE);
      const adopter = await backendB.createTransport({
        sessionKey: key,
        adopted: { protocolVersion: '2025-06-18' },
      });
      await adopter.start();
      await adopter.send({ jsonrpc: '2.0', id: 'x', method: 'ping' });

      const ids = new FleetSessionIds({ secret: signingSecret });
      const route = ids.routeOf(key);
      const sessionId = ids.queueSessionIdOf(key);
      const [initialize] = a.sent;
      const [ping] = b.sent;
      expect(initialize?.headers['x-session-id']).toBe(sessionId);
      expect(metaOf(initialize)?.webhookUrl).toBe(`http://gateway-a.test:3000/webhooks/${route}`);
      // The adopter sent no initialize: its first message is the request, under the derived session id
      // and the version the client named, answered at its own address.
      expect(b.sent).toHaveLength(1);
      expect(ping?.body?.method).toBe('ping');
      expect(ping?.headers).toMatchObject({ 'x-session-id': sessionId, 'x-protocol-version': '2025-06-18' });
      expect(metaOf(ping)?.webhookUrl).toBe(`http://gateway-b.test:3000/webhooks/${route}`);
      expect(adopter.sessionId).toBe(sessionId);

      // Neither the path nor the session id is the key, or gives it, or gives each other.
      expect(isValidSessionId(sessionId)).toBe(true);
      expect(route).toMatch(/^[A-Za-z0-9_-]{22}$/);
      for (const derived of [route, sessionId, Buffer.from(route, 'base64url').toString('hex')]) {
        expect(key).not.toContain(derived);
        expect(derived).not.toContain(key.slice(0, 16));
      }
      expect(Buffer.from(route, 'base64url').toString('hex')).not.toBe(sessionId);
      await Promise.all([backendA.close(), backendB.close()]);
    }
  });

  it('keys the derivations by the signing secret, and adopts only keys the fleet minted when there is one', async () => {
    const signed = webhookBackend({
      serverUrl: SERVER_URL,
      webhookBaseUrl: 'http://gateway.test',
      signingSecret: SECRET,
    });
    const plain = webhookBackend({ serverUrl: SERVER_URL, webhookBaseUrl: 'http://gateway.test' });
    const key = signed.fleet?.mintSessionKey() as string;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(signed.fleet?.mayAdopt(key)).toBe(true);
    const forged = `${key.slice(0, 32)}${randomBytes(16).toString('hex')}`;
    expect(signed.fleet?.mayAdopt(forged)).toBe(false);
    expect(plain.fleet?.mayAdopt(key)).toBe(false);
    expect(new FleetSessionIds({ secret: SECRET }).routeOf(key)).not.toBe(new FleetSessionIds().routeOf(key));
  });

  it('names its own webhook on every request, but not on notifications', async () => {
    const server = recordingServer();
    const backend = webhookBackend({
      serverUrl: SERVER_URL,
      webhookBaseUrl: 'http://gateway.test',
      fetch: server.fetch,
    });
    const transport = await backend.createTransport({
      sessionKey: backend.fleet?.mintSessionKey() as string,
    });
    await transport.start();
    await transport.send(INITIALIZE);
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await transport.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: {}, _meta: { progressToken: 7 } },
    });
    await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const webhookUrl = metaOf(server.sent[0])?.webhookUrl;
    expect(webhookUrl).toMatch(/^http:\/\/gateway\.test\/webhooks\/[A-Za-z0-9_-]{22}$/);
    expect(metaOf(server.sent[1])).toBeUndefined();
    // The caller's own `_meta` stays, next to the webhook.
    expect(metaOf(server.sent[2])).toMatchObject({ webhookUrl });
    expect(metaOf(server.sent[2])?.progressToken).toBeDefined();
    expect(metaOf(server.sent[3])).toEqual({ webhookUrl });
    await backend.close();
  });

  it('ends the session at the server on close, unless told to keep it for the other instances', async () => {
    const server = recordingServer();
    const backend = webhookBackend({
      serverUrl: SERVER_URL,
      webhookBaseUrl: 'http://gateway.test',
      fetch: server.fetch,
    });
    const open = async () => {
      const transport = (await backend.createTransport({
        sessionKey: backend.fleet?.mintSessionKey() as string,
      })) as BackendSessionTransport;
      await transport.start();
      await transport.send(INITIALIZE);
      return transport;
    };
    const kept = await open();
    kept.keepServerSession?.();
    await kept.close();
    expect(server.sent.map((sent) => sent.method)).toEqual(['POST']);
    // Nor does a notification of ours stand in for the DELETE.
    expect(server.sent.some((sent) => sent.body?.method === TERMINATE_SESSION_METHOD)).toBe(false);

    const ended = await open();
    await ended.close();
    expect(server.sent.map((sent) => sent.method)).toEqual(['POST', 'POST', 'DELETE']);
    expect(server.sent[2]?.headers['x-session-id']).toBe(server.sent[1]?.headers['x-session-id']);
    expect(backend.stats.sessions).toBe(0);
  });

  it("tells the server to send the session's other messages to this instance's webhook, once there is a session", async () => {
    const server = recordingServer();
    const backend = webhookBackend({
      serverUrl: SERVER_URL,
      webhookBaseUrl: 'http://gateway-b.test',
      fetch: server.fetch,
    });
    const key = backend.fleet?.mintSessionKey() as string;
    const fresh = (await backend.createTransport({
      sessionKey: backend.fleet?.mintSessionKey() as string,
    })) as BackendSessionTransport;
    await fresh.start();
    // Not initialized yet: there is nothing to point anywhere.
    await fresh.listenHere?.();
    expect(server.sent).toHaveLength(0);

    const adopted = (await backend.createTransport({
      sessionKey: key,
      adopted: { protocolVersion: undefined },
    })) as BackendSessionTransport;
    await adopted.start();
    await adopted.listenHere?.();
    const [listening] = server.sent;
    expect(listening?.body).toEqual({
      jsonrpc: '2.0',
      method: SESSION_LISTENING_METHOD,
      params: {
        _meta: { webhookUrl: `http://gateway-b.test/webhooks/${new FleetSessionIds().routeOf(key)}` },
      },
    });
    expect(listening?.headers).toMatchObject({
      'x-session-id': new FleetSessionIds().queueSessionIdOf(key),
      'x-method': SESSION_LISTENING_METHOD,
    });
    // No version named by the client: none is claimed.
    expect(listening?.headers['x-protocol-version']).toBeUndefined();
    await backend.close();
  });

  it('refuses a second transport for a key already open here', async () => {
    const backend = webhookBackend({ serverUrl: SERVER_URL, webhookBaseUrl: 'http://gateway.test' });
    const key = backend.fleet?.mintSessionKey() as string;
    await backend.createTransport({ sessionKey: key });
    await expect(backend.createTransport({ sessionKey: key, adopted: {} })).rejects.toThrow(/already open/);
    await backend.close();
  });
});

describe('hybridBackend', () => {
  it('has no fleet: random routes and session ids, and no session of another instance is adopted', async () => {
    const backend = hybridBackend({
      serverUrl: 'http://server.test/mcp',
      webhookBaseUrl: 'http://gateway.test',
    });
    expect(backend.fleet).toBeUndefined();
    await expect(backend.createTransport({ sessionKey: 'a'.repeat(32), adopted: {} })).rejects.toThrow(
      /cannot adopt/,
    );
    const one = (await backend.createTransport({ sessionKey: 'b'.repeat(32) })) as { webhookUrl?: string };
    expect(one.webhookUrl).not.toContain(new FleetSessionIds().routeOf('b'.repeat(32)));
    await backend.close();
  });
});
