import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionFront } from '../src/session-front.js';

/**
 * A bare HTTP server on an ephemeral loopback port in front of one session front: each request's body
 * read, parsed when there is one, and handed over. The server goes into `servers`, for the test to close.
 * Resolves with the endpoint's URL.
 */
export async function serveFrontOverHttp(front: SessionFront, servers: Server[]): Promise<URL> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      void front.handleNodeRequest(req, res, text === '' ? undefined : JSON.parse(text));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}
