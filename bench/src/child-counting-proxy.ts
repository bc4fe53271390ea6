import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

// A counting HTTP proxy in front of the emulator, for the workers measurement: every process of that
// measurement (the serve workers and the gateway, whatever SDK client they use) is pointed at it, so the
// SQS and SNS API calls of a whole path are counted where they arrive, by operation. One port per role
// (the gateway's, the workers'), so the breakdown says who made each call.

const upstream = new URL(process.env.BENCH_UPSTREAM as string);
const roles = (process.env.BENCH_ROLES ?? 'gateway,workers').split(',');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** Calls by role, then by operation (`ReceiveMessage`, `SendMessageBatch`, `Publish`, …). */
const calls: Record<string, Record<string, number>> = {};
/** ReceiveMessage calls that came back with no message, by role. */
const emptyReceives: Record<string, number> = {};

/** SQS (JSON protocol) names the operation in X-Amz-Target; SNS (query protocol) in the form body's Action. */
function operationOf(req: IncomingMessage, body: Buffer): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  const action = new URLSearchParams(body.toString('utf8')).get('Action');
  return action ?? `${req.method} ${req.url}`;
}

function forward(role: string, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const operation = operationOf(req, body);
  const counts = calls[role] ?? {};
  counts[operation] = (counts[operation] ?? 0) + 1;
  calls[role] = counts;
  const outgoing = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      // As sent, but for Host: the emulator builds the URLs of queues made here from it, and every
      // process must see one queue service, as it would in production (a worker answers only queues on
      // its own endpoint; the gateway uses only worker inboxes on its own). The emulator checks no
      // signatures, so rewriting a signed header costs nothing here.
      headers: { ...req.headers, host: upstream.host },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => {
        if (operation === 'ReceiveMessage') chunks.push(chunk);
        res.write(chunk);
      });
      answer.on('end', () => {
        if (operation === 'ReceiveMessage' && !Buffer.concat(chunks).toString('utf8').includes('"Body"')) {
          emptyReceives[role] = (emptyReceives[role] ?? 0) + 1;
        }
        res.end();
      });
    },
  );
  outgoing.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(String(error));
  });
  // A client that gives up (a long poll aborted on close) ends the call upstream too.
  res.on('close', () => {
    if (!res.writableFinished) outgoing.destroy();
  });
  outgoing.end(body);
}

const endpoints: Record<string, string> = {};
const servers: Server[] = [];
for (const role of roles) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(role, req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoints[role] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
}
const control = await startControl(() => ({ calls, emptyReceives }));
ready({ endpoints, control });
process.once('SIGTERM', () => {
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
});
