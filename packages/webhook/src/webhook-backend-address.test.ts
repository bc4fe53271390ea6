import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AsyncMcpErrorCode, type JSONRPCMessage, type Logger, silentLogger } from '@asyncmcp/core';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import { hybridBackend, webhookBackend } from './webhook-backend.js';

const SERVER_URL = 'http://mcp.internal:8000/mcp/request';
const SECRET = randomBytes(32).toString('base64');

const INITIALIZE: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '1.0.0' } },
};

/** A fetch that records the bodies it is sent and answers 200. */
function recordingFetch(): { bodies: string[]; fetch: FetchLike } {
  const bodies: string[] = [];
  const fetch: FetchLike = async (_url, init) => {
    bodies.push(typeof init?.body === 'string' ? init.body : '');
    return Response.json({ status: 'received' });
  };
  return { bodies, fetch };
}

function webhookUrlOf(body: string | undefined): string {
  return JSON.parse(body ?? '{}').params._meta.webhookUrl as string;
}

/** A logger that keeps its info lines. */
function recordingLogger(): { logger: Logger; lines: Array<{ fields: object; msg: string }> } {
  const lines: Array<{ fields: object; msg: string }> = [];
  const logger: Logger = {
    ...silentLogger,
    info: (fields: object, msg: string) => void lines.push({ fields, msg }),
  } as Logger;
  return { logger, lines };
}

describe('webhookBackend without a webhook base URL', () => {
  it('takes the address the gateway listens on, and opens no session before', async () => {
    const { bodies, fetch } = recordingFetch();
    const { logger, lines } = recordingLogger();
    const backend = webhookBackend({ serverUrl: SERVER_URL, fetch, logger });
    try {
      // The route is there from the start, for the gateway to mount.
      expect(backend.httpRoute.path).toBe('/webhooks');
      expect(backend.webhookBaseUrl).toBeUndefined();
      const early = await Promise.resolve()
        .then(() => backend.createTransport({ sessionKey: 'early' }))
        .catch((error: unknown) => error);
      expect(early).toMatchObject({
        code: AsyncMcpErrorCode.TransportNotStarted,
        message: 'the webhook backend has no webhook address yet: the gateway is not listening',
      });
      await expect(backend.checkReady()).rejects.toThrow(/not listening yet/);
      expect(backend.stats).toEqual({ sessions: 0, routed: 0, refused: 0, unroutable: 0 });

      backend.listening({ origin: 'http://127.0.0.1:43210' });
      expect(backend.webhookBaseUrl).toBe('http://127.0.0.1:43210');
      expect(lines).toContainEqual({
        fields: { backend: 'webhook', webhookUrl: 'http://127.0.0.1:43210/webhooks/<session>' },
        msg: 'receiving webhooks',
      });
      const transport = await backend.createTransport({ sessionKey: 'k4' });
      expect(backend.stats).toMatchObject({ sessions: 1 });
      await transport.start();
      await transport.send(INITIALIZE);
      expect(webhookUrlOf(bodies[0])).toMatch(/^http:\/\/127\.0\.0\.1:43210\/webhooks\/[A-Za-z0-9_-]{22}$/);
      // Once is all: a second address changes nothing.
      backend.listening({ origin: 'http://127.0.0.1:1' });
      expect(backend.webhookBaseUrl).toBe('http://127.0.0.1:43210');
      await transport.close();
    } finally {
      await backend.close();
    }
    await expect(backend.createTransport({ sessionKey: 'late' })).rejects.toThrow();
  });

  it('keeps a configured base URL when the gateway says where it listens', async () => {
    const { bodies, fetch } = recordingFetch();
    const backend = hybridBackend({
      serverUrl: 'http://mcp.internal:8000/mcp',
      webhookBaseUrl: 'https://gateway-1.example.com/prefix/',
      webhookPath: 'hooks',
      fetch,
    });
    try {
      expect(backend.httpRoute.path).toBe('/hooks');
      backend.listening({ origin: 'http://127.0.0.1:43210' });
      expect(backend.webhookBaseUrl).toBe('https://gateway-1.example.com/prefix');
      const transport = await backend.createTransport({ sessionKey: 'k5' });
      await transport.start();
      await transport.send(INITIALIZE).catch(() => undefined);
      expect(webhookUrlOf(bodies[0])).toMatch(
        /^https:\/\/gateway-1\.example\.com\/prefix\/hooks\/[A-Za-z0-9_-]{22}$/,
      );
      await transport.close();
    } finally {
      await backend.close();
    }
  });

  it('serves a fleet once it has an address (the webhook backend), and the hybrid none', async () => {
    const unbound = webhookBackend({ serverUrl: SERVER_URL, signingSecret: SECRET });
    const bound = webhookBackend({
      serverUrl: SERVER_URL,
      webhookBaseUrl: 'http://gateway-2.internal:8080',
      signingSecret: SECRET,
    });
    const hybrid = hybridBackend({ serverUrl: SERVER_URL });
    try {
      // The gateway reads it before it listens: there from the start, adopting nothing until bound.
      const fleet = unbound.fleet;
      expect(fleet).toBeDefined();
      const key = bound.fleet?.mintSessionKey() as string;
      expect(fleet?.mayAdopt(key)).toBe(false);
      expect(() => fleet?.mintSessionKey()).toThrow(/not listening/);
      unbound.listening({ origin: 'http://127.0.0.1:43211' });
      // The same secret, the same fleet: a key one instance minted, the other adopts.
      expect(fleet?.mayAdopt(key)).toBe(true);
      expect(bound.fleet?.mayAdopt(fleet?.mintSessionKey() as string)).toBe(true);
      expect(fleet?.mayAdopt(`${key.slice(0, 32)}${'0'.repeat(32)}`)).toBe(false);
      expect(hybrid.fleet).toBeUndefined();
    } finally {
      await Promise.all([unbound.close(), bound.close(), hybrid.close()]);
    }
  });

  it('answers a delivery for no live session 404, before and after it has an address', async () => {
    const backend = webhookBackend({ serverUrl: SERVER_URL, fetch: recordingFetch().fetch });
    const server = createServer((req, res) => void backend.httpRoute.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const deliver = () =>
        fetch(`http://127.0.0.1:${port}/webhooks/nobody`, {
          method: 'POST',
          body: '{}',
          signal: AbortSignal.timeout(5_000),
        });
      expect((await deliver()).status).toBe(404);
      backend.listening({ origin: `http://127.0.0.1:${port}` });
      expect((await deliver()).status).toBe(404);
      // Both were for no session, and are counted as such.
      expect(backend.stats).toMatchObject({ unroutable: 2 });
    } finally {
      server.closeAllConnections();
      server.close();
      await backend.close();
    }
  });
});
