import { randomUUID } from 'node:crypto';
import { request, type Server } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as realDelay } from 'node:timers/promises';
import { LATEST_PROTOCOL_VERSION, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serveFrontOverHttp } from '../test/front-http-server.js';
import { INIT, postJson } from '../test/raw-mcp.js';
import { BoundedEventStore } from './event-store.js';
import { SessionFront } from './session-front.js';

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(
    servers.splice(0).map((server) => {
      const closed = new Promise((resolve) => server.close(resolve));
      // A stream a failed test left open would keep the server from closing.
      server.closeAllConnections();
      return closed;
    }),
  );
});

/** How long a test waits for what should come at once before it fails (a bound, not a measurement). */
const BOUND_MS = 10_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  // A timer of node:timers/promises: tests here replace the global setTimeout.
  const bound = realDelay(BOUND_MS, undefined, { ref: false }).then(() => {
    throw new Error(`${what} did not happen within ${BOUND_MS} ms`);
  });
  return Promise.race([promise, bound]);
}

/**
 * A session front behind a bare HTTP server, keeping events (so each call's stream starts with a
 * priming event). It answers `initialize` at once and holds every other request until `answer`.
 */
async function serveFront() {
  const front = new SessionFront({
    sessionIdGenerator: () => randomUUID(),
    eventStore: new BoundedEventStore(),
  });
  const held = new Map<string, RequestId>();
  const heldWaiters: Array<() => void> = [];
  front.onmessage = (message) => {
    if (!('id' in message) || !('method' in message)) return;
    if (message.method === 'initialize') {
      void front.send({
        jsonrpc: '2.0',
        id: message.id,
        result: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          serverInfo: { name: 'front-test', version: '1' },
        },
      });
      return;
    }
    held.set(message.method, message.id);
    for (const wake of heldWaiters.splice(0)) wake();
  };
  await front.start();
  const url = await serveFrontOverHttp(front, servers);
  const port = Number(url.port);
  const initialized = await postJson(url.href, INIT);
  expect(initialized.status).toBe(200);
  // Answered at once: the priming event and the answer in one well-framed body.
  expect(await initialized.text()).toMatch(
    /^id: .+\ndata: \n\n(event: message\n)?id: .+\ndata: \{"jsonrpc":"2\.0","id":1,"result"/,
  );
  const sessionId = front.sessionId as string;
  return {
    port,
    sessionId,
    /** Takes the next request of `method` held, once one reached the front. */
    whenHeld(method: string): Promise<RequestId> {
      const id = held.get(method);
      if (id !== undefined) {
        held.delete(method);
        return Promise.resolve(id);
      }
      return new Promise((resolve) => heldWaiters.push(() => resolve(this.whenHeld(method))));
    },
    answer: (id: RequestId) => front.send({ jsonrpc: '2.0', id, result: { content: [] } }),
  };
}

const call = (id: number) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: {} } });

function callHeaders(sessionId: string, body: string) {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': sessionId,
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    'content-length': String(Buffer.byteLength(body)),
  };
}

describe('SessionFront', () => {
  it("starts a call's SSE stream before its answer, with no timer between the call and the stream's head", async () => {
    const front = await serveFront();
    // No global timer may fire from here on: a stream that waits for one would not start.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const body = call(7);
    let received = '';
    const arrived: Array<() => void> = [];
    const waitFor = (text: string) =>
      within(
        new Promise<void>((resolve) => {
          const check = () => (received.includes(text) ? resolve() : arrived.push(check));
          check();
        }),
        `"${text.trim()}" on the stream`,
      );
    const ended = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: front.port,
          path: '/mcp',
          method: 'POST',
          headers: callHeaders(front.sessionId, body),
        },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received += chunk;
            for (const check of arrived.splice(0)) check();
          });
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const id = await within(front.whenHeld('tools/call'), 'the call reaching the front');
    // The priming event: an id and empty data, which lets the client resume the stream.
    await waitFor('data: \n\n');
    expect(received).not.toContain('"result"');
    await front.answer(id);
    await waitFor('"result"');
    expect(await within(ended, 'the end of the stream')).toBe(200);
    expect(received).toContain('"id":7');
  });

  it('frames the stream in chunks once over HTTP/1.1, and not at all over HTTP/1.0', async () => {
    const front = await serveFront();
    for (const [version, id] of [
      ['1.1', 8],
      ['1.0', 9],
    ] as const) {
      const body = call(id);
      const socket = connect(front.port, '127.0.0.1');
      let raw = '';
      socket.setEncoding('utf8');
      // HTTP/1.1: the last chunk (the SDK's stream asks to keep the connection alive); HTTP/1.0 has no
      // chunks, so its response ends when the server closes the connection.
      const ended = new Promise<void>((resolve) => {
        socket.on('data', (chunk: string) => {
          raw += chunk;
          if (version === '1.1' && raw.endsWith('\r\n0\r\n\r\n')) resolve();
        });
        socket.on('close', () => resolve());
      });
      const headers = { ...callHeaders(front.sessionId, body), host: '127.0.0.1', connection: 'close' };
      socket.write(
        `POST /mcp HTTP/${version}\r\n${Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('')}\r\n${body}`,
      );
      await front.answer(await within(front.whenHeld('tools/call'), `the HTTP/${version} call`));
      await within(ended, `the end of the HTTP/${version} response`);
      socket.destroy();
      const endOfHead = raw.indexOf('\r\n\r\n');
      expect(endOfHead).toBeGreaterThan(0);
      const head = raw.slice(0, endOfHead);
      const rest = raw.slice(endOfHead + 4);
      expect(head).toMatch(/^HTTP\/1\.1 200/);
      expect(head).toMatch(/content-type: text\/event-stream/i);
      const chunkedHeaders = head.split('\r\n').filter((line) => /^transfer-encoding:/i.test(line));
      if (version === '1.1') {
        expect(chunkedHeaders).toEqual([expect.stringMatching(/^transfer-encoding: chunked$/i)]);
        expect(rest.endsWith('0\r\n\r\n')).toBe(true);
      } else {
        expect(chunkedHeaders).toEqual([]);
        expect(rest.startsWith('id: ')).toBe(true);
      }
      expect(rest).toContain(`"id":${id}`);
    }
  });
});
