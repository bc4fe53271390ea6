import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { settledHeap } from './counting-sqs-client.js';

/**
 * A tiny HTTP endpoint in a child: GET /stats (its counters, the CPU time it has used so far, and the
 * monotonic clock in microseconds, the clock a V8 CPU profile's sample times are on) and GET /heap (heap
 * after GC).
 */
export async function startControl(stats: () => Record<string, unknown>): Promise<string> {
  const server = createServer((req, res) => {
    const { user, system } = process.cpuUsage();
    const body =
      req.url === '/heap'
        ? { heapUsed: settledHeap() }
        : { ...stats(), cpuMs: (user + system) / 1000, monotonicUs: Number(process.hrtime.bigint() / 1000n) };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
