import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { settledHeap } from './counting-sqs-client.js';

/** A tiny HTTP endpoint in a child: GET /stats (its counters) and GET /heap (heap after GC). */
export async function startControl(stats: () => Record<string, unknown>): Promise<string> {
  const server = createServer((req, res) => {
    const body = req.url === '/heap' ? { heapUsed: settledHeap() } : stats();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
