import { cleanupsAfterEach } from '@asyncmcp-internal/test-support';
import { describe, expect, it } from 'vitest';
import { bodyText, startLoopbackServer } from '../test/helpers.js';
import { serverExchange } from './server-exchange.js';

const cleanups = cleanupsAfterEach();

async function server(handler: Parameters<typeof startLoopbackServer>[0]) {
  const started = await startLoopbackServer(handler);
  cleanups.push(() => started.close());
  return new URL(`${started.origin}/mcp`);
}

const exchange = serverExchange(undefined);
const request = { headers: { 'content-type': 'application/json' }, timeoutMs: 5_000, maxAnswerBytes: 64 };

describe("serverExchange with Node's HTTP client", () => {
  it('sends the method, headers and body, and reads the status, a header and the text', async () => {
    const url = await server(async (req, res) => {
      const body = await bodyText(req);
      res.writeHead(202, { 'X-Session-ID': 'abc', 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }));
    });
    const answer = await exchange(url, { ...request, method: 'POST', body: '{"a":1}', maxAnswerBytes: 4096 });
    expect(answer.status).toBe(202);
    expect(answer.header('x-session-id')).toBe('abc');
    expect(JSON.parse(answer.text)).toEqual({ method: 'POST', type: 'application/json', body: '{"a":1}' });
  });

  it('does not follow a redirect', async () => {
    let requests = 0;
    const url = await server((_req, res) => {
      requests++;
      res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    });
    const answer = await exchange(url, { ...request, method: 'POST', body: '{}' });
    expect(answer.status).toBe(302);
    expect(requests).toBe(1);
  });

  it('reads no more than maxAnswerBytes of an answer', async () => {
    const url = await server((_req, res) => {
      res.writeHead(200);
      res.end('x'.repeat(100_000));
    });
    const answer = await exchange(url, { ...request, method: 'POST', body: '{}' });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('x'.repeat(64));
  });

  it('fails with a clear error when the server does not answer in time', async () => {
    const url = await server(() => undefined);
    await expect(exchange(url, { ...request, method: 'POST', body: '{}', timeoutMs: 50 })).rejects.toThrow(
      'no answer within 50 ms',
    );
  });

  it('stops when its signal aborts', async () => {
    const url = await server(() => undefined);
    const abort = new AbortController();
    const sent = exchange(url, { ...request, method: 'POST', body: '{}', signal: abort.signal });
    abort.abort();
    await expect(sent).rejects.toThrow(/abort/i);
  });
});
