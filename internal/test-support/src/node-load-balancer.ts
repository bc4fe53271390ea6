import {
  type ClientRequest,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { LoadBalancer } from './load-balancer-types.js';

/** Headers that describe one connection, not the message: never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) kept[name] = value;
  }
  return kept;
}

/**
 * The balancer where nginx is not installed, behaving as the documented nginx config does: each request
 * to the next upstream in turn, a fresh connection per request, streamed both ways with nothing held
 * back (SSE), and a request whose upstream refuses the connection tried on the next one, since not a
 * byte of it was sent; 502 once every upstream has refused.
 */
export async function startNodeRoundRobin(upstreams: readonly string[]): Promise<LoadBalancer> {
  const counts: Record<string, number> = Object.fromEntries(upstreams.map((upstream) => [upstream, 0]));
  let next = 0;

  function forward(req: IncomingMessage, res: ServerResponse, first: number, tried: number): void {
    const upstream = upstreams[(first + tried) % upstreams.length] as string;
    const target = new URL(upstream);
    const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress]
      .filter(Boolean)
      .join(', ');
    const outgoing: ClientRequest = request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...endToEnd(req.headers), 'x-forwarded-for': forwardedFor },
      agent: false,
    });
    outgoing.setNoDelay(true);
    let sent = false;
    outgoing.once('socket', (socket) => {
      const send = () => {
        sent = true;
        req.pipe(outgoing);
      };
      if (socket.connecting) socket.once('connect', send);
      else send();
    });
    outgoing.once('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      // An SSE stream's headers go out now, not with its first event.
      res.flushHeaders();
      answer.pipe(res);
      answer.once('end', () => {
        counts[upstream] = (counts[upstream] ?? 0) + 1;
      });
      answer.on('error', () => res.destroy());
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (!sent && error.code === 'ECONNREFUSED' && tried + 1 < upstreams.length) {
        forward(req, res, first, tried + 1);
      } else if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway: ${error.message}\n`);
      } else {
        res.destroy();
      }
    });
    res.once('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
  }

  const server: Server = createServer((req, res) => {
    const first = next;
    next = (next + 1) % upstreams.length;
    forward(req, res, first, 0);
  });
  // A session's GET stream stays open for as long as the session: no server-side limit may end it.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the Node proxy has no port');
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    kind: 'node',
    answeredBy: async () => ({ ...counts }),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
